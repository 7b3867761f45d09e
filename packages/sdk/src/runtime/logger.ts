// hclog-compatible JSON lines on stderr. go-plugin re-logs each line through
// the server's logger under the plugin's name. Its reader type-asserts
// @level, @message and @timestamp as strings without checking (a number there
// crashes the host's reader), and parses @timestamp only with exactly six
// fractional digits, so both are produced carefully here.

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry @module "<parent>.<name>". */
  named(name: string): Logger;
  /** A logger whose lines always carry these fields. */
  with(fields: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  if (v === "warning") return "warn";
  return v !== undefined && v in LEVELS ? (v as LogLevel) : undefined;
}

/** Go layout 2006-01-02T15:04:05.000000Z07:00. */
export function hclogTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function safeValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === "bigint") return value.toString();
  return value;
}

export function createLogger(options: {
  level: LogLevel;
  module?: string;
  write?: (line: string) => void;
  fields?: LogFields;
}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const threshold = LEVELS[options.level];
  const make = (module: string | undefined, base: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields?: LogFields) => {
      if (LEVELS[level] < threshold) return;
      const record: Record<string, unknown> = {};
      for (const [k, v] of Object.entries({ ...base, ...fields })) {
        if (!k.startsWith("@")) record[k] = safeValue(v);
      }
      record["@level"] = level;
      record["@message"] = String(message);
      record["@timestamp"] = hclogTimestamp(new Date());
      if (module) record["@module"] = module;
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        line = JSON.stringify({ "@level": level, "@message": String(message), "@module": module ?? "" });
      }
      write(line);
    };
    return {
      trace: (m, f) => log("trace", m, f),
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      named: (name) => make(module ? `${module}.${name}` : name, base),
      with: (fields) => make(module, { ...base, ...fields }),
      isLevelEnabled: (level) => LEVELS[level] >= threshold,
    };
  };
  return make(options.module, options.fields ?? {});
}
