// OpenAI's error envelope: {"error": {"message", "type", "param", "code"}},
// all four keys always present (openai-openapi, components.schemas.Error).
import type { EmulatorResponse } from "../core/http.ts";

export function openaiError(
  status: number,
  message: string,
  options: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
): EmulatorResponse {
  const res: EmulatorResponse = {
    status,
    body: {
      error: {
        message,
        type: options.type ?? (status >= 500 ? "server_error" : "invalid_request_error"),
        param: options.param ?? null,
        code: options.code ?? null,
      },
    },
  };
  if (options.headers !== undefined) res.headers = options.headers;
  return res;
}

export function missingKey(): EmulatorResponse {
  return openaiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
  );
}

export function incorrectKey(token: string): EmulatorResponse {
  return openaiError(401, `Incorrect API key provided: ${maskKey(token)}. You can find your API key at https://platform.openai.com/account/api-keys.`, {
    code: "invalid_api_key",
  });
}

/** How OpenAI echoes a rejected key: the first 8 and last 4 characters, stars between. */
export function maskKey(token: string): string {
  if (token.length <= 12) return token.length <= 4 ? token : `${token.slice(0, 2)}${"*".repeat(token.length - 4)}${token.slice(-2)}`;
  return `${token.slice(0, 8)}${"*".repeat(Math.min(token.length - 12, 160))}${token.slice(-4)}`;
}

/**
 * A project or service-account key on an Admin API route. Observed live as a
 * 403 whose "error" is a bare string, not the usual object.
 */
export function missingManagementScope(write: boolean): EmulatorResponse {
  const scope = write ? "api.management.write" : "api.management.read";
  return {
    status: 403,
    body: {
      error: `You have insufficient permissions for this operation. Missing scopes: ${scope}. Check that you have the correct role in your organization (Owner), and if you're using a restricted API key, that it has the necessary scopes.`,
    },
  };
}

/** An admin key on an inference route. */
export function missingModelScope(): EmulatorResponse {
  return openaiError(
    401,
    "You have insufficient permissions for this operation. Missing scopes: api.model.read. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
  );
}

export function invalidJson(): EmulatorResponse {
  return openaiError(
    400,
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
  );
}

export function missingParam(param: string): EmulatorResponse {
  return openaiError(400, `Missing required parameter: '${param}'.`, { param, code: "missing_required_parameter" });
}

export function invalidType(param: string, expected: string, value: unknown): EmulatorResponse {
  return openaiError(400, `Invalid type for '${param}': expected ${expected}, but got ${describeType(value)} instead.`, { param, code: "invalid_type" });
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return "a boolean";
  return "an object";
}

export function notFound(message: string): EmulatorResponse {
  return openaiError(404, message);
}

const CLOUDFLARE_HTML: Record<number, string> = {
  502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
  504: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
};

/** The body an injected fault of this status carries. */
export function statusError(status: number, retryAfterSeconds: number | undefined, gatewayHtml: boolean): EmulatorResponse {
  const html = CLOUDFLARE_HTML[status];
  if (gatewayHtml && html !== undefined) return { status, headers: { "content-type": "text/html" }, rawBody: html };
  switch (status) {
    case 400:
      return openaiError(400, "The server could not understand the request.");
    case 401:
      return openaiError(401, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", { code: "invalid_api_key" });
    case 403:
      return openaiError(403, "You have insufficient permissions for this operation.");
    case 404:
      return openaiError(404, "The requested resource was not found.");
    case 409:
      return openaiError(409, "The request conflicts with the current state of the resource.");
    case 429: {
      const headers: Record<string, string> = {};
      if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
      return openaiError(429, "Rate limit reached for requests", { type: "requests", code: "rate_limit_exceeded", headers });
    }
    case 500:
      return openaiError(500, "The server had an error while processing your request. Sorry about that!");
    case 502:
      return openaiError(502, "Bad gateway.", { code: "bad_gateway" });
    case 503:
      return openaiError(503, "The server is overloaded or not ready yet.");
    case 504:
      return openaiError(504, "Gateway timeout.");
    default:
      return openaiError(status, `Request failed with status ${status}.`);
  }
}
