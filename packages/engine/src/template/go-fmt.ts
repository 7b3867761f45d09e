// Go's fmt.Sprintf / Sprint / Sprintln for the values a username template can
// hold (string, int, float64, bool, nil, the data map), written after
// fmt/print.go and fmt/format.go: same verbs, flags, width and precision
// rules, same %!verb(type=value) error notation. Works on byte strings.

import { MAX_RUNE, RUNE_ERROR, decodeRune, encodeRune, isPrint, runeCount, validRune } from "./go-bytes.ts";
import { type Value, goTypeName } from "./values.ts";

/** Raised when formatting would build a string larger than allowed. */
export class FormatLimitError extends Error {}

/** Raised for formatting this port does not implement (it never guesses). */
export class FormatUnsupportedError extends Error {}

const LDIGITS = "0123456789abcdefx";
const UDIGITS = "0123456789ABCDEFX";

// ---------------------------------------------------------------------------
// strconv: quoting

function hex2(b: number): string {
  return (b >> 4).toString(16) + (b & 0xf).toString(16);
}

function escapedRune(r: number, quote: number, asciiOnly: boolean): string {
  if (r === quote || r === 0x5c) return "\\" + String.fromCharCode(r);
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) return String.fromCharCode(r);
  } else if (isPrint(r)) {
    return encodeRune(r);
  }
  switch (r) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
  }
  if (r < 0x20 || r === 0x7f) return "\\x" + hex2(r);
  if (!validRune(r)) r = RUNE_ERROR;
  if (r < 0x10000) return "\\u" + r.toString(16).padStart(4, "0");
  return "\\U" + r.toString(16).padStart(8, "0");
}

/** strconv.Quote (or QuoteToASCII) of a byte string. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const [r, width] = decodeRune(s, i);
    if (width === 1 && r === RUNE_ERROR) out += "\\x" + hex2(s.charCodeAt(i));
    else out += escapedRune(r, 0x22, asciiOnly);
    i += width;
  }
  return out + '"';
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function quoteRune(r: number, asciiOnly = false): string {
  if (!validRune(r)) r = RUNE_ERROR;
  return "'" + escapedRune(r, 0x27, asciiOnly) + "'";
}

function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; ) {
    const [r, width] = decodeRune(s, i);
    i += width;
    if (width > 1) {
      if (r === 0xfeff) return false;
      continue;
    }
    if (r === RUNE_ERROR) return false;
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// strconv: FormatFloat for 'e', 'E', 'f', 'g', 'G'

interface Decimal {
  /** Significant digits, no leading or trailing zeros ("" for zero). */
  d: string;
  /** Position of the decimal point relative to d. */
  dp: number;
}

/** The exact decimal expansion of a positive finite double. */
function exactDecimal(v: number): Decimal {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075;
  if (mant === 0n) return { d: "", dp: 0 };
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return { d: digits.replace(/0+$/, ""), dp };
}

/** The shortest decimal that round-trips (what Go's shortest mode picks). */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: "", dp: 0 };
  const [mantissa = "", exponent = "0"] = v.toExponential().split("e");
  const d = mantissa.replace(".", "").replace(/0+$/, "");
  return { d, dp: Number(exponent) + 1 };
}

/** strconv's decimal.Round: to nd digits, ties to even on exact halves. */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const digit = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (digit === 5 && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = digit >= 5;
  }
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ""), dp: a.dp };
  let i = nd - 1;
  while (i >= 0 && a.d[i] === "9") i--;
  if (i < 0) return { d: "1", dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(neg: boolean, d: Decimal, prec: number, letter: string): string {
  let out = neg ? "-" : "";
  out += d.d.length === 0 ? "0" : d.d[0];
  if (prec > 0) {
    out += ".";
    let i = 1;
    const m = Math.min(d.d.length, prec + 1);
    if (i < m) {
      out += d.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) out += "0";
  }
  out += letter;
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  out += exp < 0 ? "-" : "+";
  exp = Math.abs(exp);
  out += exp < 10 ? "0" + exp : String(exp);
  return out;
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let out = neg ? "-" : "";
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    out += d.d.slice(0, m) + "0".repeat(d.dp - m);
  } else {
    out += "0";
  }
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.d.length ? d.d[j] : "0";
    }
  }
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/** The mantissa and binary exponent strconv's genericFtoa hands to fmtB/fmtX. */
function floatBits(v: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 };
}

/** strconv's %b: mantissa "p" binary exponent. */
function fmtB(neg: boolean, v: number): string {
  const { mant, exp } = floatBits(v);
  const e = exp - 52;
  return `${neg ? "-" : ""}${mant}p${e >= 0 ? "+" : "-"}${Math.abs(e)}`;
}

/** strconv's %x / %X: -0x1.yyyyp±dd. */
function fmtX(neg: boolean, v: number, prec: number, verb: string): string {
  let { mant, exp } = floatBits(v);
  if (mant === 0n) exp = 0;
  mant = (mant << 8n) & MASK64; // leading 1 at bit 60
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & MASK64;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant = (mant << (60n - shift)) & MASK64;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = verb === "X" ? "0123456789ABCDEF" : "0123456789abcdef";
  let out = (neg ? "-" : "") + "0" + verb + String(Number((mant >> 60n) & 1n));
  mant = (mant << 4n) & MASK64;
  if (prec < 0 && mant !== 0n) {
    out += ".";
    while (mant !== 0n) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  } else if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  }
  out += verb === "X" ? "P" : "p";
  out += exp < 0 ? "-" : "+";
  exp = Math.abs(exp);
  return out + (exp < 100 ? String(exp).padStart(2, "0") : String(exp));
}

/** strconv.FormatFloat(v, verb, prec, 64) for verbs b, e, E, f, g, G, x, X. */
export function formatFloat(v: number, verb: string, prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const neg = v < 0 || Object.is(v, -0);
  if (verb === "b") return fmtB(neg, v);
  if (verb === "x" || verb === "X") return fmtX(neg, v, prec, verb);
  const abs = Math.abs(v);
  const shortest = prec < 0;
  let digs: Decimal;
  if (shortest) {
    digs = shortestDecimal(abs);
    if (verb === "e" || verb === "E") prec = Math.max(digs.d.length - 1, 0);
    else if (verb === "f") prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else {
    const exact = exactDecimal(abs);
    if (verb === "f") digs = roundDecimal(exact, exact.dp + prec);
    else if (verb === "e" || verb === "E") digs = roundDecimal(exact, prec + 1);
    else {
      if (prec === 0) prec = 1;
      digs = roundDecimal(exact, prec);
    }
  }
  switch (verb) {
    case "e":
    case "E":
      return fmtE(neg, digs, prec, verb);
    case "f":
      return fmtF(neg, digs, prec);
    default: {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > digs.d.length) prec = digs.d.length;
        return fmtE(neg, digs, prec - 1, verb === "g" ? "e" : "E");
      }
      if (prec > digs.dp) prec = digs.d.length;
      return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
    }
  }
}

// ---------------------------------------------------------------------------
// fmt

const TOO_LARGE = 1e6;

function tooLarge(x: number): boolean {
  return x > TOO_LARGE || x < -TOO_LARGE;
}

class Printer {
  buf = "";
  readonly limit: number;
  // fmt flags
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  prec = 0;
  // pp state
  arg: Value | null = null;
  reordered = false;
  goodArgNum = true;

  constructor(limit: number) {
    this.limit = limit;
  }

  clearflags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = false;
    this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  write(s: string): void {
    if (this.buf.length + s.length > this.limit) {
      throw new FormatLimitError(`formatted value would exceed ${this.limit} bytes`);
    }
    this.buf += s;
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    if (n > this.limit) throw new FormatLimitError(`formatted value would exceed ${this.limit} bytes`);
    this.write((this.zero && !this.minus ? "0" : " ").repeat(n));
  }

  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.write(s);
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.write(s);
    } else {
      this.write(s);
      this.writePadding(width);
    }
  }

  truncateString(s: string): string {
    if (!this.precPresent) return s;
    let n = this.prec;
    for (let i = 0; i < s.length; ) {
      n--;
      if (n < 0) return s.slice(0, i);
      i += decodeRune(s, i)[1];
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncateString(s));
  }

  fmtBoolean(b: boolean): void {
    this.pad(b ? "true" : "false");
  }

  fmtQ(s: string): void {
    s = this.truncateString(s);
    if (this.sharp && canBackquote(s)) {
      this.pad("`" + s + "`");
      return;
    }
    this.pad(quote(s, this.plus));
  }

  fmtSx(s: string, digits: string): void {
    let length = s.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) {
        width += 2;
      }
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = "";
    if (this.sharp) out += "0" + digits[16];
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += " ";
        if (this.sharp) out += "0" + digits[16];
      }
      const c = s.charCodeAt(i);
      out += (digits[c >> 4] ?? "") + (digits[c & 0xf] ?? "");
    }
    this.write(out);
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtInteger(v: bigint, base: number, verb: string, digits: string): void {
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    if (prec > this.limit) throw new FormatLimitError(`formatted value would exceed ${this.limit} bytes`);
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = "0".repeat(prec - s.length) + s;
    if (this.sharp) {
      if (base === 2) s = "0b" + s;
      else if (base === 8 && s[0] !== "0") s = "0" + s;
      else if (base === 16) s = "0" + digits[16] + s;
    }
    if (verb === "O") s = "0o" + s;
    if (negative) s = "-" + s;
    else if (this.plus) s = "+" + s;
    else if (this.space) s = " " + s;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    if (prec > this.limit) throw new FormatLimitError(`formatted value would exceed ${this.limit} bytes`);
    let s = "U+" + u.toString(16).toUpperCase().padStart(prec, "0");
    if (this.sharp && u <= BigInt(MAX_RUNE) && isPrint(Number(u))) s += " '" + encodeRune(Number(u)) + "'";
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  fmtFloat(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    if (prec > this.limit) throw new FormatLimitError(`formatted value would exceed ${this.limit} bytes`);
    let num = formatFloat(v, verb, prec);
    if (num[0] === "-" || num[0] === "+") {
      // keep the sign
    } else {
      num = "+" + num;
    }
    if (this.space && num[0] === "+" && !this.plus) num = " " + num.slice(1);
    if (num[1] === "I" || num[1] === "N") {
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === "N" && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== "b") {
      let digits = 0;
      if (verb === "g" || verb === "G" || verb === "x") digits = prec === -1 ? 6 : prec;
      let tail = "";
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < num.length; i++) {
        const c = num[i];
        if (c === ".") {
          hasDecimalPoint = true;
        } else if (c === "p" || c === "P" || ((c === "e" || c === "E") && verb !== "x" && verb !== "X")) {
          tail = num.slice(i);
          num = num.slice(0, i);
          break;
        } else {
          if (c !== "0") sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (num.length === 2 && num[1] === "0") digits--;
        num += ".";
      }
      if (digits > 0) num += "0".repeat(digits);
      num += tail;
    }
    if (this.plus || num[0] !== "+") {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.write(num[0] ?? "");
        this.writePadding(this.wid - num.length);
        this.write(num.slice(1));
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  badVerb(verb: number): void {
    this.write("%!" + encodeRune(verb) + "(");
    const arg = this.arg;
    if (arg !== null && arg.kind !== "nil" && arg.kind !== "invalid") {
      this.write(goTypeName(arg) + "=");
      this.printArg(arg, 0x76);
    } else {
      this.write("<nil>");
    }
    this.write(")");
  }

  fmtString(s: string, verb: number): void {
    switch (verb) {
      case 0x76: // v
        if (this.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case 0x73: // s
        this.fmtS(s);
        return;
      case 0x78: // x
        this.fmtSx(s, LDIGITS);
        return;
      case 0x58: // X
        this.fmtSx(s, UDIGITS);
        return;
      case 0x71: // q
        this.fmtQ(s);
        return;
      default:
        this.badVerb(verb);
    }
  }

  fmtIntegerVerb(v: bigint, verb: number): void {
    const asUint = BigInt.asUintN(64, v);
    switch (verb) {
      case 0x76: // v
      case 0x64: // d
        this.fmtInteger(v, 10, String.fromCharCode(verb), LDIGITS);
        return;
      case 0x62: // b
        this.fmtInteger(v, 2, "b", LDIGITS);
        return;
      case 0x6f: // o
      case 0x4f: // O
        this.fmtInteger(v, 8, String.fromCharCode(verb), LDIGITS);
        return;
      case 0x78: // x
        this.fmtInteger(v, 16, "x", LDIGITS);
        return;
      case 0x58: // X
        this.fmtInteger(v, 16, "X", UDIGITS);
        return;
      case 0x63: // c
        this.pad(encodeRune(asUint > BigInt(MAX_RUNE) ? RUNE_ERROR : Number(asUint)));
        return;
      case 0x71: // q
        this.pad(quoteRune(asUint > BigInt(MAX_RUNE) ? RUNE_ERROR : Number(asUint), this.plus));
        return;
      case 0x55: // U
        this.fmtUnicode(asUint);
        return;
      default:
        this.badVerb(verb);
    }
  }

  fmtFloatVerb(f: number, verb: number): void {
    switch (verb) {
      case 0x76: // v
        this.fmtFloat(f, "g", -1);
        return;
      case 0x67: // g
      case 0x47: // G
        this.fmtFloat(f, String.fromCharCode(verb), -1);
        return;
      case 0x66: // f
      case 0x65: // e
      case 0x45: // E
        this.fmtFloat(f, String.fromCharCode(verb), 6);
        return;
      case 0x46: // F
        this.fmtFloat(f, "f", 6);
        return;
      case 0x62: // b
      case 0x78: // x
      case 0x58: // X
        this.fmtFloat(f, String.fromCharCode(verb), -1);
        return;
      default:
        this.badVerb(verb);
    }
  }

  printMap(m: ReadonlyMap<string, string>, verb: number): void {
    this.write(this.sharpV ? "map[string]interface {}{" : "map[");
    const keys = [...m.keys()].sort();
    keys.forEach((key, i) => {
      if (i > 0) this.write(this.sharpV ? ", " : " ");
      this.arg = { kind: "string", s: key };
      this.fmtString(key, verb);
      this.write(":");
      const value = m.get(key) ?? "";
      this.arg = { kind: "string", s: value };
      this.fmtString(value, verb);
    });
    this.write(this.sharpV ? "}" : "]");
  }

  printArg(arg: Value, verb: number): void {
    this.arg = arg;
    if (arg.kind === "nil" || arg.kind === "invalid") {
      if (verb === 0x54 || verb === 0x76) this.pad("<nil>");
      else this.badVerb(verb);
      return;
    }
    if (verb === 0x54) {
      // T
      this.fmtS(goTypeName(arg));
      return;
    }
    if (verb === 0x70) {
      // p
      if (arg.kind === "map") {
        throw new FormatUnsupportedError("the %p verb (a memory address) is not supported");
      }
      this.badVerb(verb);
      return;
    }
    switch (arg.kind) {
      case "bool":
        if (verb === 0x74 || verb === 0x76) this.fmtBoolean(arg.b);
        else this.badVerb(verb);
        return;
      case "float":
        this.fmtFloatVerb(arg.f, verb);
        return;
      case "int":
        this.fmtIntegerVerb(arg.n, verb);
        return;
      case "string":
        this.fmtString(arg.s, verb);
        return;
      case "map":
        // Not one of fmt's directly handled types: %w fails in handleMethods first.
        if (verb === 0x77) this.badVerb(verb);
        else this.printMap(arg.m, verb);
        return;
    }
  }

  /** fmt's parsenum: [num, isnum, newi]. */
  static parsenum(s: string, start: number, end: number): [number, boolean, number] {
    if (start >= end) return [0, false, end];
    let num = 0;
    let isnum = false;
    let i = start;
    for (; i < end && s[i]! >= "0" && s[i]! <= "9"; i++) {
      if (tooLarge(num)) return [0, false, end];
      num = num * 10 + (s.charCodeAt(i) - 48);
      isnum = true;
    }
    return [num, isnum, i];
  }

  argNumber(argNum: number, format: string, i: number, numArgs: number): [number, number, boolean] {
    if (format.length <= i || format[i] !== "[") return [argNum, i, false];
    this.reordered = true;
    // parseArgNumber
    let index = 0;
    let wid = 1;
    let ok = false;
    const rest = format.slice(i);
    if (rest.length >= 3) {
      for (let k = 1; k < rest.length; k++) {
        if (rest[k] === "]") {
          const [width, isnum, newi] = Printer.parsenum(rest, 1, k);
          if (!isnum || newi !== k) {
            index = 0;
            wid = k + 1;
            ok = false;
          } else {
            index = width - 1;
            wid = k + 1;
            ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
    this.goodArgNum = false;
    return [argNum, i + wid, ok];
  }

  intFromArg(args: readonly Value[], argNum: number): [number, boolean, number] {
    let num = 0;
    let isInt = false;
    let newArgNum = argNum;
    const arg = args[argNum];
    if (arg !== undefined) {
      if (arg.kind === "int") {
        num = Number(arg.n);
        isInt = true;
      }
      newArgNum = argNum + 1;
      if (tooLarge(num)) {
        num = 0;
        isInt = false;
      }
    }
    return [num, isInt, newArgNum];
  }

  doPrintf(format: string, args: readonly Value[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    this.reordered = false;
    formatLoop: for (let i = 0; i < end; ) {
      this.goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== "%") i++;
      if (i > lasti) this.write(format.slice(lasti, i));
      if (i >= end) break;
      i++; // skip %
      this.clearflags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case "#":
            this.sharp = true;
            break;
          case "0":
            this.zero = true;
            break;
          case "+":
            this.plus = true;
            break;
          case "-":
            this.minus = true;
            break;
          case " ":
            this.space = true;
            break;
          default:
            break flags;
        }
      }
      [argNum, i, afterIndex] = this.argNumber(argNum, format, i, args.length);
      if (i < end && format[i] === "*") {
        i++;
        [this.wid, this.widPresent, argNum] = this.intFromArg(args, argNum);
        if (!this.widPresent) this.write("%!(BADWIDTH)");
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = Printer.parsenum(format, i, end);
        if (afterIndex && this.widPresent) this.goodArgNum = false;
      }
      if (i + 1 < end && format[i] === ".") {
        i++;
        if (afterIndex) this.goodArgNum = false;
        [argNum, i, afterIndex] = this.argNumber(argNum, format, i, args.length);
        if (i < end && format[i] === "*") {
          i++;
          [this.prec, this.precPresent, argNum] = this.intFromArg(args, argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.write("%!(BADPREC)");
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = Printer.parsenum(format, i, end);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = this.argNumber(argNum, format, i, args.length);
      if (i >= end) {
        this.write("%!(NOVERB)");
        break formatLoop;
      }
      const [verb, size] = decodeRune(format, i);
      i += size;
      const arg = args[argNum];
      if (verb === 0x25) {
        this.write("%");
      } else if (!this.goodArgNum) {
        this.write("%!" + encodeRune(verb) + "(BADINDEX)");
      } else if (arg === undefined) {
        this.write("%!" + encodeRune(verb) + "(MISSING)");
      } else {
        if (verb === 0x76 || verb === 0x77) {
          // %v (and %w, which Sprintf treats the same way before failing it)
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        this.printArg(arg, verb);
        argNum++;
      }
    }
    if (!this.reordered && argNum < args.length) {
      this.clearflags();
      this.write("%!(EXTRA ");
      args.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.write(", ");
        if (arg.kind === "nil" || arg.kind === "invalid") {
          this.write("<nil>");
        } else {
          this.write(goTypeName(arg) + "=");
          this.printArg(arg, 0x76);
        }
      });
      this.write(")");
    }
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly Value[], limit: number): string {
  const p = new Printer(limit);
  p.doPrintf(format, args);
  return p.buf;
}

/** fmt.Sprint. */
export function sprint(args: readonly Value[], limit: number): string {
  const p = new Printer(limit);
  let prevString = false;
  args.forEach((arg, k) => {
    const isString = arg.kind === "string";
    if (k > 0 && !isString && !prevString) p.write(" ");
    p.printArg(arg, 0x76);
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln. */
export function sprintln(args: readonly Value[], limit: number): string {
  const p = new Printer(limit);
  args.forEach((arg, k) => {
    if (k > 0) p.write(" ");
    p.printArg(arg, 0x76);
  });
  p.write("\n");
  return p.buf;
}
