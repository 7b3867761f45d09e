// Random identifiers and key material in the shapes the providers use.
import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

function pick(alphabet: string, length: number): string {
  let out = "";
  // randomInt is unbiased, so no rejection loop is needed.
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function randomAlnum(length: number): string {
  return pick(ALNUM, length);
}

export function randomLowerAlnum(length: number): string {
  return pick(LOWER_ALNUM, length);
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Same alphabet and length rule as Python's secrets.token_urlsafe(n). */
export function randomUrlSafe(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

export function uuid(): string {
  return randomUUID();
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
