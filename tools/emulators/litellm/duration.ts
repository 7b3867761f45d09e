// LiteLLM's duration grammar (litellm_core_utils/duration_parser.py):
// re.match(r"(\d+)(mo|[smhdw]?)") on the string, a prefix match. So "30s",
// "1h", "3600s", "2w", "1mo" work; "1h30m" is read as "1h"; a bare "3600"
// parses with an empty unit and is refused as "Unsupported duration unit";
// "abc" or "-1s" do not match at all ("Invalid duration format"). The proxy
// lets these ValueErrors escape as 500s.

export class DurationError extends Error {
  override name = "DurationError";
}

/** Seconds for a LiteLLM duration string; throws DurationError with LiteLLM's message. */
export function durationInSeconds(duration: string, nowMs: number): number {
  const s = duration.trim();
  if (s === "" || s.toLowerCase() === "none" || s.toLowerCase() === "null") throw new DurationError("Invalid duration format");
  const match = /^(\d+)(mo|[smhdw]?)/.exec(duration);
  if (!match) throw new DurationError("Invalid duration format");
  const value = Number.parseInt(match[1] ?? "0", 10);
  switch (match[2]) {
    case "s":
      return value;
    case "m":
      return value * 60;
    case "h":
      return value * 3600;
    case "d":
      return value * 86_400;
    case "w":
      return value * 604_800;
    case "mo":
      return monthsInSeconds(value, nowMs);
    default:
      throw new DurationError(`Unsupported duration unit, passed duration: ${duration}`);
  }
}

// Same calendar arithmetic as the parser: the same day-of-month N months on,
// clamped to the month's last day.
function monthsInSeconds(months: number, nowMs: number): number {
  const now = new Date(nowMs);
  const total = now.getUTCMonth() + months;
  const year = now.getUTCFullYear() + Math.floor(total / 12);
  const month = total % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const target = Date.UTC(year, month, Math.min(now.getUTCDate(), lastDay), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds());
  return Math.floor((target - nowMs) / 1000);
}
