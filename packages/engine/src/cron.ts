// Standard five-field cron expressions (minute hour day-of-month month
// day-of-week, in UTC), enough for scheduled admin key rotation. Day-of-month
// and day-of-week combine as in Vixie cron: when both are restricted, either
// may match.

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function parseValue(text: string, index: number): number {
  const lower = text.toLowerCase();
  if (index === 3 && MONTHS.includes(lower)) return MONTHS.indexOf(lower) + 1;
  if (index === 4 && DAYS.includes(lower)) return DAYS.indexOf(lower);
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a number in the ${FIELDS[index]!.name} field`);
  return Number(text);
}

function parseField(text: string, index: number): Set<number> {
  const { min, max, name } = FIELDS[index]!;
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step "${stepText}" in the ${name} field`);
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = min;
      hi = max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      lo = parseValue(a, index);
      hi = parseValue(b, index);
    } else {
      lo = parseValue(range, index);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`${range} is out of range ${min}-${max} in the ${name} field`);
    for (let v = lo; v <= hi; v += step) out.add(index === 4 && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expression: string): CronSchedule {
  const expr = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) throw new Error(`expected 5 fields (minute hour day month weekday), got ${parts.length}`);
  const sets = parts.map((p, i) => parseField(p, i));
  return {
    minutes: sets[0]!,
    hours: sets[1]!,
    days: sets[2]!,
    months: sets[3]!,
    weekdays: sets[4]!,
    dayRestricted: parts[2] !== "*",
    weekdayRestricted: parts[4] !== "*",
  };
}

function matches(s: CronSchedule, d: Date): boolean {
  if (!s.minutes.has(d.getUTCMinutes()) || !s.hours.has(d.getUTCHours()) || !s.months.has(d.getUTCMonth() + 1)) return false;
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  if (s.dayRestricted && s.weekdayRestricted) return dom || dow;
  return dom && dow;
}

/** The last scheduled minute at or before `at`, searching back at most a year and a day. */
export function previousRun(s: CronSchedule, at: Date): Date | undefined {
  const d = new Date(at);
  d.setUTCSeconds(0, 0);
  for (let i = 0; i < 527_040; i++) {
    if (matches(s, d)) return new Date(d);
    d.setUTCMinutes(d.getUTCMinutes() - 1);
  }
  return undefined;
}
