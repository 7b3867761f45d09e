// LiteLLM's error bodies. Most errors are a ProxyException rendered as
// {"error": {"message", "type", "param", "code"}} with code the status as a
// string. An HTTPException passed through handle_exception_on_proxy keeps its
// status but gets type "internal_server_error", param "None", and a message
// that is str() of its detail: for a dict detail that is Python's repr, e.g.
// "{'error': 'No keys found'}". Request validation is FastAPI's 422
// {"detail": [...]}.
import type { EmulatorResponse } from "../core/http.ts";

export function proxyError(
  status: number,
  message: string,
  type: string,
  param: string | null = "None",
  headers?: Record<string, string>,
): EmulatorResponse {
  const res: EmulatorResponse = { status, body: { error: { message, type, param, code: String(status) } } };
  if (headers !== undefined) res.headers = headers;
  return res;
}

/** An HTTPException(status, detail={"error": message}) as the proxy renders it. */
export function httpExceptionError(status: number, detail: string | Record<string, string>): EmulatorResponse {
  const message = typeof detail === "string" ? detail : pyDict(detail);
  return proxyError(status, message, "internal_server_error", "None");
}

export interface ValidationItem {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export function validationError(items: ValidationItem[]): EmulatorResponse {
  return { status: 422, body: { detail: items } };
}

// Python repr, for messages LiteLLM builds with str() and f-strings.

export function pyStr(s: string): string {
  if (s.includes("'") && !s.includes('"')) return `"${s.replace(/\\/g, "\\\\")}"`;
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function pyDict(d: Record<string, string>): string {
  return `{${Object.entries(d)
    .map(([k, v]) => `${pyStr(k)}: ${pyStr(v)}`)
    .join(", ")}}`;
}

export function pyList(items: string[]): string {
  return `[${items.map(pyStr).join(", ")}]`;
}

/** repr(float): shortest round-trip digits, always with a decimal point. */
export function pyFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "nan" : n > 0 ? "inf" : "-inf";
  const abs = Math.abs(n);
  // Python switches to exponent notation below 1e-4 and from 1e16 on, with a
  // two-digit exponent ("1e-05"); JavaScript's thresholds differ.
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** datetime.isoformat() as pydantic serializes an aware UTC datetime: microseconds and "Z". */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** str(datetime) for an aware UTC datetime: "2026-10-04 03:47:58.123000+00:00". */
export function pyDatetime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const [date, time] = iso.slice(0, -1).split("T");
  const [hms, frac] = (time ?? "").split(".");
  const micros = frac === undefined || frac === "000" ? "" : `.${frac}000`;
  return `${date} ${hms}${micros}+00:00`;
}

/** abbreviate_api_key: "sk-...abcd". */
export function abbreviateKey(key: string): string {
  return `sk-...${key.slice(-4)}`;
}

export const NOT_PREMIUM =
  "You must be a LiteLLM Enterprise user to use this feature. If you have a license please set `LITELLM_LICENSE` in your env. Get a 7 day trial key here: https://www.litellm.ai/enterprise#trial. \nPricing: https://www.litellm.ai/#pricing";

/** The body an injected fault of this status carries. */
export function statusError(status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
  switch (status) {
    case 400:
      return proxyError(400, "{'error': 'Bad request'}", "bad_request_error");
    case 401:
      return proxyError(401, "Authentication Error, Invalid proxy server token passed.", "auth_error");
    case 403:
      return proxyError(403, "{'error': 'You are not authorized to perform this action'}", "internal_server_error");
    case 404:
      return proxyError(404, "{'error': 'Not found'}", "not_found_error");
    case 429: {
      const headers: Record<string, string> = {};
      if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
      return proxyError(429, "Rate limit exceeded. Try again later.", "None", "None", headers);
    }
    case 500:
      return proxyError(500, "Internal Server Error", "internal_server_error");
    case 502:
      return proxyError(502, "Bad Gateway", "internal_server_error");
    case 503:
      return proxyError(503, "Service Unavailable", "internal_server_error");
    default:
      return proxyError(status, `Request failed with status ${status}`, status >= 500 ? "internal_server_error" : "bad_request_error");
  }
}
