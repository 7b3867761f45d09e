// Go strings are byte strings: len() counts bytes, slicing cuts bytes, and a
// cut can leave half a UTF-8 sequence behind. To reproduce that exactly, the
// template engine works on "byte strings": JS strings in which every UTF-16
// code unit holds one byte (0-255) of the UTF-8 encoding. These helpers
// convert at the edges and decode runes the way Go's unicode/utf8 does.

export const RUNE_ERROR = 0xfffd;
export const MAX_RUNE = 0x10ffff;

/** UTF-8 encodes a JS string into a byte string (lone surrogates become U+FFFD). */
export function toBytes(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** A byte string as a Buffer. */
export function bytesToBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, "latin1");
}

/**
 * Decodes one rune at byte index i, exactly as Go's utf8.DecodeRuneInString:
 * an invalid or truncated sequence yields [U+FFFD, 1].
 */
export function decodeRune(bytes: string, i: number): [rune: number, size: number] {
  const n = bytes.length;
  if (i >= n) return [RUNE_ERROR, 0];
  const b0 = bytes.charCodeAt(i);
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf): number => {
    if (i + k >= n) return -1;
    const b = bytes.charCodeAt(i + k);
    return b >= lo && b <= hi ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [RUNE_ERROR, 1] : [((b0 & 0x1f) << 6) | c1, 2];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    const c1 = cont(1, lo, hi);
    if (c1 < 0) return [RUNE_ERROR, 1];
    const c2 = cont(2);
    if (c2 < 0) return [RUNE_ERROR, 1];
    return [((b0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    const c1 = cont(1, lo, hi);
    if (c1 < 0) return [RUNE_ERROR, 1];
    const c2 = cont(2);
    if (c2 < 0) return [RUNE_ERROR, 1];
    const c3 = cont(3);
    if (c3 < 0) return [RUNE_ERROR, 1];
    return [((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [RUNE_ERROR, 1];
}

/** Go's utf8.ValidRune. */
export function validRune(r: number): boolean {
  return (r >= 0 && r < 0xd800) || (r > 0xdfff && r <= MAX_RUNE);
}

/** Encodes one rune as a byte string; invalid runes encode as U+FFFD, like Go. */
export function encodeRune(r: number): string {
  if (!validRune(r)) r = RUNE_ERROR;
  if (r < 0x80) return String.fromCharCode(r);
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  if (r < 0x10000) {
    return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  }
  return String.fromCharCode(
    0xf0 | (r >> 18),
    0x80 | ((r >> 12) & 0x3f),
    0x80 | ((r >> 6) & 0x3f),
    0x80 | (r & 0x3f),
  );
}

/** Number of runes in a byte string, counting each invalid byte as one. */
export function runeCount(bytes: string): number {
  let count = 0;
  for (let i = 0; i < bytes.length; count++) i += decodeRune(bytes, i)[1];
  return count;
}

/**
 * Converts a byte string back to a JS string. Each byte of an invalid
 * sequence becomes one U+FFFD, which is what Go's encoding/json does when it
 * marshals such a string, and what strings.ToUpper & co. produce.
 */
export function fromBytes(bytes: string): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return bytes;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; ) {
    const [r, size] = decodeRune(bytes, i);
    parts.push(String.fromCodePoint(r));
    i += size;
  }
  return parts.join("");
}

/** True when the byte string is all ASCII. */
export function isAscii(bytes: string): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes.charCodeAt(i) >= 0x80) return false;
  return true;
}

// Go's unicode.IsLetter / IsDigit / IsPrint, by Unicode general category.
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

export function isLetter(r: number): boolean {
  if (r < 0x80) return (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);
  return validRune(r) && LETTER.test(String.fromCodePoint(r));
}

export function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  return validRune(r) && DIGIT.test(String.fromCodePoint(r));
}

/** Go's strconv.IsPrint / unicode.IsPrint: L, M, N, P, S and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  return validRune(r) && PRINT.test(String.fromCodePoint(r));
}

// Simple (one-to-one) case mappings that JS's full mappings hide: where JS
// maps one character to several, Go's unicode.ToUpper/ToLower use the simple
// mapping from UnicodeData.txt, which is either the character itself or one
// of these.
const SIMPLE_UPPER = new Map<number, number>([
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);
for (const base of [0x1f80, 0x1f90, 0x1fa0]) {
  for (let k = 0; k < 8; k++) SIMPLE_UPPER.set(base + k, base + 8 + k);
}
const SIMPLE_LOWER = new Map<number, number>([[0x130, 0x69]]);

function mapRune(r: number, upper: boolean): number {
  if (r < 0x80) {
    if (upper && r >= 0x61 && r <= 0x7a) return r - 32;
    if (!upper && r >= 0x41 && r <= 0x5a) return r + 32;
    return r;
  }
  if (!validRune(r)) return r;
  const special = (upper ? SIMPLE_UPPER : SIMPLE_LOWER).get(r);
  if (special !== undefined) return special;
  const ch = String.fromCodePoint(r);
  const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
  const cp = mapped.codePointAt(0);
  if (cp === undefined || mapped.length !== String.fromCodePoint(cp).length) return r;
  return cp;
}

/** Go's strings.ToUpper / strings.ToLower on a byte string. */
export function changeCase(bytes: string, upper: boolean): string {
  if (isAscii(bytes)) {
    return upper ? bytes.replace(/[a-z]+/g, (s) => s.toUpperCase()) : bytes.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  }
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; ) {
    const [r, size] = decodeRune(bytes, i);
    parts.push(encodeRune(mapRune(r, upper)));
    i += size;
  }
  return parts.join("");
}
