// Parser for the username-template subset of Go's text/template. It follows
// the grammar of text/template/parse/parse.go (pipelines, commands, operands,
// terms, variables, parenthesised pipelines, field chains) and reports the
// same templates as malformed. Control structures ({{if}}, {{range}},
// {{with}}, {{define}}, {{template}}, {{block}}) are rejected: a username
// template renders role data into one string, and the engine keeps that
// surface small.

import { TemplateError, positionOf } from "./errors.ts";
import { decodeRune, encodeRune, fromBytes, validRune } from "./go-bytes.ts";
import { type Item, type ItemType, lex } from "./lexer.ts";

export interface TextNode {
  readonly type: "text";
  readonly pos: number;
  readonly text: string;
}
export interface ActionNode {
  readonly type: "action";
  readonly pos: number;
  readonly pipe: PipeNode;
}
export type TopNode = TextNode | ActionNode;

export interface PipeNode {
  readonly type: "pipe";
  readonly pos: number;
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}
export interface CommandNode {
  readonly type: "command";
  readonly pos: number;
  readonly args: ArgNode[];
}
export interface FieldNode {
  readonly type: "field";
  readonly pos: number;
  readonly ident: string[];
}
export interface ChainNode {
  readonly type: "chain";
  readonly pos: number;
  readonly node: ArgNode;
  readonly field: string[];
}
export interface IdentifierNode {
  readonly type: "identifier";
  readonly pos: number;
  readonly name: string;
}
export interface VariableNode {
  readonly type: "variable";
  readonly pos: number;
  readonly ident: string[];
}
export interface DotNode {
  readonly type: "dot";
  readonly pos: number;
}
export interface NilNode {
  readonly type: "nil";
  readonly pos: number;
}
export interface BoolNode {
  readonly type: "bool";
  readonly pos: number;
  readonly value: boolean;
}
export interface NumberNode {
  readonly type: "number";
  readonly pos: number;
  /** The literal as written. */
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly int64: bigint;
  readonly float64: number;
}
export interface StringNode {
  readonly type: "string";
  readonly pos: number;
  /** The literal as written, quotes included. */
  readonly quoted: string;
  /** The unquoted value, as a byte string. */
  readonly value: string;
}
export type ArgNode =
  | FieldNode
  | ChainNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

/** How the parser learns which function names exist. */
export interface FunctionTable {
  /** Functions the template may call. */
  has(name: string): boolean;
  /** Names Go's text/template defines but this engine does not implement. */
  unsupported(name: string): boolean;
}

/** Renders a node as Go prints it in messages (literals as written). */
export function nodeString(node: ArgNode): string {
  switch (node.type) {
    case "field":
      return "." + node.ident.join(".");
    case "chain":
      return `${nodeString(node.node)}.${node.field.join(".")}`;
    case "identifier":
      return node.name;
    case "variable":
      return node.ident.join(".");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(node.value);
    case "number":
      return node.text;
    case "string":
      return node.quoted;
    case "pipe":
      return `(${node.cmds.map((c) => c.args.map(nodeString).join(" ")).join(" | ")})`;
  }
}

const MAX_PAREN_DEPTH = 100;

const CONTROL_KEYWORDS: ReadonlySet<ItemType> = new Set<ItemType>([
  "block",
  "break",
  "continue",
  "define",
  "else",
  "end",
  "if",
  "range",
  "template",
  "with",
]);

function describeItem(item: Item): string {
  switch (item.type) {
    case "eof":
      return "EOF";
    case "error":
      return item.val;
    case "rightDelim":
      return `"}}"`;
    case "leftDelim":
      return `"{{"`;
    case "space":
      return "space";
    default:
      if (CONTROL_KEYWORDS.has(item.type) || item.type === "nil") return `<${item.val}>`;
      return JSON.stringify(fromBytes(item.val));
  }
}

class Parser {
  readonly source: string;
  readonly items: Item[];
  index = 0;
  readonly vars: string[] = ["$"];
  readonly funcs: FunctionTable;
  depth = 0;

  constructor(source: string, funcs: FunctionTable) {
    this.source = source;
    this.items = lex(source);
    this.funcs = funcs;
  }

  fail(pos: number, problem: string): never {
    const { line, column } = positionOf(this.source, pos);
    throw new TemplateError("compile", problem, line, column);
  }

  next(): Item {
    const item = this.items[Math.min(this.index, this.items.length - 1)];
    if (item === undefined) throw new Error("template lexer produced no items");
    if (this.index < this.items.length) this.index++;
    return item;
  }

  backup(): void {
    this.index--;
  }

  peek(): Item {
    const item = this.next();
    this.backup();
    return item;
  }

  nextNonSpace(): Item {
    let item: Item;
    do item = this.next();
    while (item.type === "space");
    return item;
  }

  peekNonSpace(): Item {
    const item = this.nextNonSpace();
    this.backup();
    return item;
  }

  unexpected(item: Item, context: string): never {
    if (item.type === "error") this.fail(item.pos, item.val);
    this.fail(item.pos, `unexpected ${describeItem(item)} in ${context}`);
  }

  parse(): TopNode[] {
    const nodes: TopNode[] = [];
    for (;;) {
      const item = this.next();
      switch (item.type) {
        case "eof":
          return nodes;
        case "text":
          nodes.push({ type: "text", pos: item.pos, text: item.val });
          break;
        case "leftDelim":
          nodes.push(this.action());
          break;
        default:
          this.unexpected(item, "input");
      }
    }
  }

  action(): ActionNode {
    const token = this.nextNonSpace();
    if (CONTROL_KEYWORDS.has(token.type)) {
      this.fail(
        token.pos,
        `{{${token.val}}} is not supported: username templates allow no control structures ` +
          `(if, else, range, with, define, template, block, break, continue)`,
      );
    }
    this.backup();
    const start = this.peek();
    return { type: "action", pos: start.pos, pipe: this.pipeline("command", "rightDelim") };
  }

  pipeline(context: string, end: ItemType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: "pipe", pos: first.pos, isAssign: false, decl: [], cmds: [] };
    const v = this.peekNonSpace();
    if (v.type === "variable") {
      // Three-token look-ahead, as in Go: "$x :=" declares, "$x foo" uses $x.
      const mark = this.index;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === "assign" || next.type === "declare") {
        pipe.isAssign = next.type === "assign";
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
      } else if (next.type === "char" && next.val === ",") {
        this.nextNonSpace();
        this.fail(next.pos, `too many declarations in ${context}`);
      } else {
        this.index = mark;
      }
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.type) {
        case "bool":
        case "charConstant":
        case "complex":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.fail(pipe.pos, `missing value for ${context}`);
    pipe.cmds.forEach((cmd, i) => {
      if (i === 0) return;
      const head = cmd.args[0];
      if (head === undefined) return;
      switch (head.type) {
        case "bool":
        case "dot":
        case "nil":
        case "number":
        case "string":
          this.fail(head.pos, `non executable command in pipeline stage ${i + 1}`);
      }
    });
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.type === "space") continue;
      if (token.type === "rightDelim" || token.type === "rightParen") this.backup();
      else if (token.type !== "pipe") this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.fail(cmd.pos, "empty command");
    return cmd;
  }

  operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().type !== "field") return node;
    const fields: string[] = [];
    const chainPos = this.peek().pos;
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos: chainPos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos: chainPos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.fail(node.pos, `unexpected . after term ${JSON.stringify(fromBytes(nodeString(node)))}`);
      // falls through: fail never returns
      default:
        return { type: "chain", pos: chainPos, node, field: fields };
    }
  }

  term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case "identifier": {
        const name = fromBytes(token.val);
        if (this.funcs.unsupported(name)) {
          this.fail(
            token.pos,
            `function ${JSON.stringify(name)} is a Go text/template builtin that username templates do not support`,
          );
        }
        if (!this.funcs.has(name)) this.fail(token.pos, `function ${JSON.stringify(name)} not defined`);
        return { type: "identifier", pos: token.pos, name };
      }
      case "dot":
        return { type: "dot", pos: token.pos };
      case "nil":
        return { type: "nil", pos: token.pos };
      case "variable":
        return this.useVar(token.pos, token.val);
      case "field":
        return { type: "field", pos: token.pos, ident: [token.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: token.pos, value: token.val === "true" };
      case "charConstant":
      case "complex":
      case "number":
        return this.newNumber(token);
      case "leftParen": {
        if (this.depth >= MAX_PAREN_DEPTH) this.fail(token.pos, "parentheses nested too deeply");
        this.depth++;
        try {
          return this.pipeline("parenthesized pipeline", "rightParen");
        } finally {
          this.depth--;
        }
      }
      case "string":
      case "rawString":
        return { type: "string", pos: token.pos, quoted: token.val, value: this.unquote(token) };
    }
    this.backup();
    return null;
  }

  useVar(pos: number, name: string): VariableNode {
    const ident = name.split(".");
    const head = ident[0] ?? name;
    if (!this.vars.includes(head)) this.fail(pos, `undefined variable ${JSON.stringify(fromBytes(head))}`);
    return { type: "variable", pos, ident };
  }

  unquote(token: Item): string {
    const raw = token.val;
    if (token.type === "rawString") return raw.slice(1, -1).replaceAll("\r", "");
    const body = raw.slice(1, -1);
    let out = "";
    for (let i = 0; i < body.length; ) {
      const c = body[i];
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const escaped = unquoteEscape(body, i, '"');
      if (escaped === null) this.fail(token.pos, `invalid syntax in string literal ${JSON.stringify(fromBytes(raw))}`);
      out += escaped.bytes;
      i = escaped.next;
    }
    return out;
  }

  newNumber(token: Item): NumberNode {
    const text = token.val;
    const base = { type: "number" as const, pos: token.pos, text };
    if (token.type === "charConstant") {
      const body = text.slice(1, -1);
      let rune: number;
      let consumed: number;
      if (body.startsWith("\\")) {
        const escaped = unquoteEscape(body, 0, "'");
        if (escaped === null) this.fail(token.pos, `invalid syntax in character constant ${fromBytes(text)}`);
        rune = escaped.rune;
        consumed = escaped.next;
      } else {
        if (body.length === 0 || body[0] === "'") this.fail(token.pos, "invalid syntax in empty character constant");
        const [r, size] = decodeRune(body, 0);
        rune = r;
        consumed = size;
      }
      if (consumed !== body.length) this.fail(token.pos, `malformed character constant: ${fromBytes(text)}`);
      return { ...base, isInt: true, isUint: true, isFloat: true, int64: BigInt(rune), float64: rune };
    }
    if (token.type === "complex" || text.endsWith("i")) {
      this.fail(token.pos, `complex number ${fromBytes(text)} is not supported in username templates`);
    }
    const parsed = parseGoNumber(text);
    if (parsed === "overflow") this.fail(token.pos, `integer overflow: ${JSON.stringify(text)}`);
    if (parsed === null) this.fail(token.pos, `illegal number syntax: ${JSON.stringify(text)}`);
    return { ...base, ...parsed };
  }
}

interface Escape {
  /** The bytes the escape stands for. */
  bytes: string;
  /** For character constants: the rune value. */
  rune: number;
  /** Index just past the escape. */
  next: number;
}

/** Go's strconv.UnquoteChar for a backslash escape at s[i]. */
function unquoteEscape(s: string, i: number, quote: '"' | "'"): Escape | null {
  const c = s[i + 1];
  if (c === undefined) return null;
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92 };
  const value = simple[c];
  if (value !== undefined) return { bytes: String.fromCharCode(value), rune: value, next: i + 2 };
  if (c === "'" || c === '"') {
    if (c !== quote) return null;
    return { bytes: c, rune: c.charCodeAt(0), next: i + 2 };
  }
  const hexLength = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0;
  if (hexLength > 0) {
    const digits = s.slice(i + 2, i + 2 + hexLength);
    if (digits.length !== hexLength || !/^[0-9a-fA-F]+$/.test(digits)) return null;
    const v = parseInt(digits, 16);
    if (c === "x") return { bytes: String.fromCharCode(v), rune: v, next: i + 2 + hexLength };
    if (!validRune(v)) return null;
    return { bytes: encodeRune(v), rune: v, next: i + 2 + hexLength };
  }
  if (c >= "0" && c <= "7") {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(digits)) return null;
    const v = parseInt(digits, 8);
    if (v > 255) return null;
    return { bytes: String.fromCharCode(v), rune: v, next: i + 4 };
  }
  return null;
}

type ParsedNumber = Pick<NumberNode, "isInt" | "isUint" | "isFloat" | "int64" | "float64">;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Go's rule for underscores in number literals (strconv.underscoreOK). */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0") {
    const p = s[1]?.toLowerCase();
    if (p === "b" || p === "o" || p === "x") {
      i = 2;
      saw = "0";
      hex = p === "x";
    }
  }
  for (; i < s.length; i++) {
    const ch = s[i] ?? "";
    if ((ch >= "0" && ch <= "9") || (hex && /[a-fA-F]/.test(ch))) {
      saw = "0";
      continue;
    }
    if (ch === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** strconv.ParseInt/ParseUint(text, 0, 64) as a BigInt, or null. */
function parseGoInteger(text: string): bigint | null {
  let s = text;
  let negative = false;
  if (s[0] === "+" || s[0] === "-") {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s.length === 0) return null;
  let base = 10;
  let digits = s;
  if (s[0] === "0" && s.length > 1) {
    const p = s[1]?.toLowerCase();
    if (p === "x") [base, digits] = [16, s.slice(2)];
    else if (p === "o") [base, digits] = [8, s.slice(2)];
    else if (p === "b") [base, digits] = [2, s.slice(2)];
    else [base, digits] = [8, s.slice(1)];
  }
  if (s.includes("_")) {
    if (!underscoreOK(text)) return null;
    digits = digits.replaceAll("_", "");
  }
  if (digits.length === 0) return null;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return null;
  const prefix = { 2: "0b", 8: "0o", 10: "", 16: "0x" }[base as 2 | 8 | 10 | 16];
  const value = BigInt(prefix + digits);
  return negative ? -value : value;
}

/** strconv.ParseFloat(text, 64) for decimal and hexadecimal literals, or null. */
function parseGoFloat(text: string): number | null {
  let s = text;
  if (s.includes("_")) {
    if (!underscoreOK(s)) return null;
    s = s.replaceAll("_", "");
  }
  let sign = 1;
  if (s[0] === "+" || s[0] === "-") {
    sign = s[0] === "-" ? -1 : 1;
    s = s.slice(1);
  }
  let value: number;
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const intPart = hex[1] ?? "";
    const fracPart = hex[2] ?? "";
    if (intPart.length + fracPart.length === 0) return null;
    const mantissa = BigInt("0x" + (intPart + fracPart || "0"));
    const exponent = Number(hex[3]) - 4 * fracPart.length;
    value = scaleByPowerOfTwo(mantissa, exponent);
  } else if (/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) {
    value = Number(s);
  } else {
    return null;
  }
  if (!Number.isFinite(value)) return null;
  return sign * value;
}

/** mantissa * 2^exponent, correctly rounded to a double. */
function scaleByPowerOfTwo(mantissa: bigint, exponent: number): number {
  if (mantissa === 0n) return 0;
  if (exponent >= 0) return Number(mantissa << BigInt(exponent));
  // Scale the numerator so the quotient keeps more than 64 significant bits,
  // then let Number() round; the remainder decides sticky rounding.
  const shift = BigInt(-exponent);
  const extra = 128n;
  const q = (mantissa << extra) >> shift;
  const exact = (q << shift) === mantissa << extra;
  const sticky = exact ? 0n : 1n;
  return Number((q << 1n) | sticky) * 2 ** -(Number(extra) + 1);
}

/** text/template/parse's newNumber for non-complex literals. */
export function parseGoNumber(text: string): ParsedNumber | "overflow" | null {
  let isInt = false;
  let isUint = false;
  let isFloat = false;
  let int64 = 0n;
  let uint64 = 0n;
  let float64 = 0;
  const integer = parseGoInteger(text);
  if (integer !== null) {
    if (integer >= 0n && integer <= UINT64_MAX && text[0] !== "+" && text[0] !== "-") {
      isUint = true;
      uint64 = integer;
    }
    if (integer >= INT64_MIN && integer <= INT64_MAX) {
      isInt = true;
      int64 = integer;
      if (integer === 0n) isUint = true;
    }
  }
  if (isInt) {
    isFloat = true;
    float64 = Number(int64);
  } else if (isUint) {
    isFloat = true;
    float64 = Number(uint64);
  } else {
    const f = parseGoFloat(text);
    if (f !== null) {
      if (!/[.eEpP]/.test(text)) return "overflow";
      isFloat = true;
      float64 = f;
      if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
        isInt = true;
        int64 = BigInt(f);
      }
    }
  }
  if (!isInt && !isUint && !isFloat) return null;
  return { isInt, isUint, isFloat, int64, float64 };
}

/** Parses a template (a UTF-8 byte string) into its top-level nodes. */
export function parseTemplate(source: string, funcs: FunctionTable): TopNode[] {
  return new Parser(source, funcs).parse();
}
