// Username templates: the naming language of Vault's
// sdk/helper/template (Go text/template plus Vault's function set), which the
// Go OpenAI plugin uses for service-account names. This is a TypeScript
// implementation of the subset such templates use, checked against the real
// Go package by test/conformance/template.
//
//   const t = compileUsernameTemplate("vault-{{.RoleName}}-{{.RandomSuffix}}");
//   t.render({ RoleName: "ci", RandomSuffix: "k3x9a0pz" }); // "vault-ci-k3x9a0pz"
//
// Supported: text; actions {{ pipeline }} with {{- and -}} trimming and
// {{/* comments */}}; fields .Name (and .A.B chains, which behave as in Go on
// string data); $ and $var := / = variables; pipelines with |; function calls
// with string, raw-string, character and number literals, fields, variables
// and parenthesised sub-pipelines as arguments. Functions: Vault's random,
// truncate, truncate_sha256, uppercase, lowercase, replace, sha256, base64,
// unix_time, unix_time_millis, timestamp, uuid, and Go's print, printf,
// println, len. Not supported (compile error): control structures and the
// other Go builtins (eq, index, slice, ...), complex numbers.
//
// A template reads only the data map it is given and the clock/random
// sources in the render options; it cannot reach files, the environment or
// any other object.

import { TemplateError, positionOf } from "./errors.ts";
import {
  CallError,
  type CallContext,
  FUNCTIONS,
  type FunctionSpec,
  type ParamType,
  UNSUPPORTED_BUILTINS,
  defaultRandom,
  defaultUuid,
} from "./functions.ts";
import { fromBytes, toBytes } from "./go-bytes.ts";
import { FormatLimitError, FormatUnsupportedError, sprint } from "./go-fmt.ts";
import {
  type ArgNode,
  type CommandNode,
  type NumberNode,
  type PipeNode,
  type TopNode,
  nodeString,
  parseTemplate,
} from "./parser.ts";
import { INVALID, NIL, type Value, goTypeName } from "./values.ts";

export { TemplateError } from "./errors.ts";
export type { TemplateErrorStage } from "./errors.ts";

/** The service-account name template of the Go plugin this engine replaces. */
export const DEFAULT_USERNAME_TEMPLATE = "vault-{{.RoleName}}-{{.RandomSuffix}}";

export const TEMPLATE_LIMITS = Object.freeze({
  /** Largest template accepted, in UTF-8 bytes (Vault: < 100,000). */
  maxTemplateBytes: 4096,
  /** Largest rendered result, in UTF-8 bytes (Vault: unbounded). */
  maxOutputBytes: 1024,
  /** Largest value any function may build on the way, in bytes. */
  maxValueBytes: 65536,
  /** Largest `random N` (Vault: unbounded). */
  maxRandomLength: 1024,
});

export interface RenderOptions {
  /** The instant unix_time, unix_time_millis and timestamp read (default: now). Formatted in UTC. */
  readonly now?: Date;
  /** Source for `random N`: must return N characters (default: crypto, base62 like Vault). */
  readonly random?: (length: number) => string;
  /** Source for `uuid` (default: 16 crypto-random bytes as 8-4-4-4-12 hex, like Vault). */
  readonly uuid?: () => string;
  /**
   * What a field missing from the data does. "default" is Vault's behaviour
   * (text/template with no missingkey option): printing it writes
   * "<no value>", passing it to a function that wants a string fails.
   * "error" fails at once and names the field.
   */
  readonly missingKey?: "default" | "error";
}

export interface UsernameTemplate {
  /** The template source, as compiled. */
  readonly source: string;
  /** Names of the data fields the template reads (.Name or $.Name), sorted, without duplicates. */
  readonly fields: readonly string[];
  /** Renders the template with role data. Throws TemplateError. */
  render(data: Readonly<Record<string, string>>, options?: RenderOptions): string;
}

// ---------------------------------------------------------------------------
// compile

const functionTable = {
  has: (name: string) => FUNCTIONS.has(name),
  unsupported: (name: string) => UNSUPPORTED_BUILTINS.has(name),
};

/** Compiles a username template. Throws TemplateError (stage "compile") when it is malformed. */
export function compileUsernameTemplate(source: string): UsernameTemplate {
  if (typeof source !== "string") throw new TemplateError("compile", "template must be a string");
  if (source.length === 0) throw new TemplateError("compile", "template is empty");
  const bytes = toBytes(source);
  if (bytes.length > TEMPLATE_LIMITS.maxTemplateBytes) {
    throw new TemplateError(
      "compile",
      `template is ${bytes.length} bytes long; the limit is ${TEMPLATE_LIMITS.maxTemplateBytes}`,
    );
  }
  const nodes = parseTemplate(bytes, functionTable);
  const checker = new StaticChecker(bytes);
  for (const node of nodes) if (node.type === "action") checker.pipe(node.pipe);
  const fields = [...checker.fields].map(fromBytes).sort();
  return Object.freeze({
    source,
    fields: Object.freeze(fields),
    render: (data: Readonly<Record<string, string>>, options?: RenderOptions) => render(bytes, nodes, data, options),
  });
}

function fail(stage: "compile" | "render", source: string, pos: number, problem: string): never {
  const { line, column } = positionOf(source, pos);
  throw new TemplateError(stage, problem, line, column);
}

function describeParam(type: ParamType): string {
  return type === "value" ? "reflect.Value" : type === "any" ? "interface {}" : type;
}

/**
 * Checks, before any data is seen, what Go only finds when it executes the
 * template: calls with the wrong number of arguments and literal arguments
 * of the wrong type. (Go reports these from Generate; they fail for every
 * input, so reporting them at compile time changes no outcome.)
 */
class StaticChecker {
  readonly source: string;
  readonly fields = new Set<string>();

  constructor(source: string) {
    this.source = source;
  }

  pipe(pipe: PipeNode): void {
    pipe.cmds.forEach((cmd, i) => this.command(cmd, i > 0));
  }

  command(cmd: CommandNode, piped: boolean): void {
    const [head, ...args] = cmd.args;
    if (head === undefined) return;
    if (head.type === "identifier") this.call(head.name, head.pos, args, piped);
    else this.arg(head);
    for (const arg of args) this.arg(arg);
  }

  arg(node: ArgNode): void {
    switch (node.type) {
      case "pipe":
        this.pipe(node);
        return;
      case "identifier":
        this.call(node.name, node.pos, [], false);
        return;
      case "chain":
        this.arg(node.node);
        return;
      case "field":
        if (node.ident[0] !== undefined) this.fields.add(node.ident[0]);
        return;
      case "variable":
        if (node.ident[0] === "$" && node.ident[1] !== undefined) this.fields.add(node.ident[1]);
        return;
    }
  }

  call(name: string, pos: number, args: readonly ArgNode[], piped: boolean): void {
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) return;
    const numIn = args.length + (piped ? 1 : 0);
    const fixed = spec.params.length;
    if (spec.variadic !== undefined ? numIn < fixed : numIn !== fixed) {
      const want = spec.variadic !== undefined ? `at least ${fixed}` : String(fixed);
      fail("compile", this.source, pos, `wrong number of args for ${name}: want ${want} got ${numIn}`);
    }
    args.forEach((arg, i) => {
      const type = i < fixed ? spec.params[i] : spec.variadic;
      if (type !== undefined) this.literal(arg, type, name);
    });
  }

  literal(arg: ArgNode, type: ParamType, fn: string): void {
    const found = nodeString(arg);
    const bad = (problem: string): never => fail("compile", this.source, arg.pos, `argument to ${fn}: ${problem}`);
    switch (arg.type) {
      case "number":
        if (type === "int" && !arg.isInt) bad(`expected integer; found ${fromBytes(found)}`);
        if (type === "string") bad(`expected string; found ${fromBytes(found)}`);
        return;
      case "string":
        if (type === "int") bad(`expected integer; found ${fromBytes(found)}`);
        return;
      case "bool":
        if (type === "int") bad(`expected integer; found ${found}`);
        if (type === "string") bad(`expected string; found ${found}`);
        return;
      case "nil":
        if (type === "int" || type === "string") bad(`cannot assign nil to ${type}`);
        return;
      case "dot":
        if (type === "int" || type === "string") {
          bad(`wrong type for value; expected ${type}; got map[string]interface {}`);
        }
        return;
    }
  }
}

// ---------------------------------------------------------------------------
// render

const MISSING: unique symbol = Symbol("no piped value");
type Final = Value | typeof MISSING;

interface Variable {
  readonly name: string;
  value: Value;
}

class Renderer {
  readonly source: string;
  readonly dot: Value;
  readonly ctx: CallContext;
  readonly strictKeys: boolean;
  readonly vars: Variable[];
  out = "";

  constructor(source: string, dot: Value, ctx: CallContext, strictKeys: boolean) {
    this.source = source;
    this.dot = dot;
    this.ctx = ctx;
    this.strictKeys = strictKeys;
    this.vars = [{ name: "$", value: dot }];
  }

  fail(node: { pos: number }, problem: string): never {
    fail("render", this.source, node.pos, problem);
  }

  write(bytes: string): void {
    if (this.out.length + bytes.length > TEMPLATE_LIMITS.maxOutputBytes) {
      throw new TemplateError("render", `rendered result is longer than ${TEMPLATE_LIMITS.maxOutputBytes} bytes`);
    }
    this.out += bytes;
  }

  walk(nodes: readonly TopNode[]): void {
    for (const node of nodes) {
      if (node.type === "text") {
        this.write(node.text);
        continue;
      }
      const value = this.pipeline(node.pipe);
      if (node.pipe.decl.length === 0) this.printValue(node, value);
    }
  }

  printValue(node: { pos: number }, value: Value): void {
    if (value.kind === "invalid") {
      this.write("<no value>");
      return;
    }
    this.write(this.guard(node, () => sprint([value], TEMPLATE_LIMITS.maxValueBytes)));
  }

  /** Runs fmt work, turning its size and support limits into render errors. */
  guard<T>(node: { pos: number }, work: () => T, fn?: string): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof FormatLimitError || error instanceof FormatUnsupportedError || error instanceof CallError) {
        this.fail(node, fn === undefined ? error.message : `error calling ${fn}: ${error.message}`);
      }
      throw error;
    }
  }

  pipeline(pipe: PipeNode): Value {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.command(cmd, value);
    const result = value === MISSING ? INVALID : value;
    for (const variable of pipe.decl) {
      const name = variable.ident[0] ?? "";
      if (pipe.isAssign) {
        const slot = this.findVar(name);
        if (slot === undefined) this.fail(variable, `undefined variable: ${fromBytes(name)}`);
        slot.value = result;
      } else {
        this.vars.push({ name, value: result });
      }
    }
    return result;
  }

  findVar(name: string): Variable | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v;
    }
    return undefined;
  }

  notAFunction(args: readonly ArgNode[], final: Final): void {
    const head = args[0];
    if (head !== undefined && (args.length > 1 || final !== MISSING)) {
      this.fail(head, `can't give argument to non-function ${fromBytes(nodeString(head))}`);
    }
  }

  command(cmd: CommandNode, final: Final): Value {
    const head = cmd.args[0];
    if (head === undefined) this.fail(cmd, "empty command");
    switch (head.type) {
      case "field":
        return this.fieldChain(this.dot, head, head.ident, cmd.args, final);
      case "chain":
        return this.chain(head, cmd.args, final);
      case "identifier":
        return this.callFunction(head.name, head, cmd.args.slice(1), final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.pipeline(head);
      case "variable":
        return this.variable(head, cmd.args, final);
    }
    this.notAFunction(cmd.args, final);
    switch (head.type) {
      case "bool":
        return { kind: "bool", b: head.value };
      case "dot":
        return this.dot;
      case "nil":
        return this.fail(head, "nil is not a command");
      case "number":
        return this.idealConstant(head);
      case "string":
        return { kind: "string", s: head.value };
    }
  }

  idealConstant(num: NumberNode): Value {
    // Go's isHexInt, which (like Go) does not look past a leading sign.
    const hexInt = /^0[xX]./.test(num.text) && !/[pP]/.test(num.text);
    const runeInt = num.text.startsWith("'");
    if (num.isFloat && !hexInt && !runeInt && /[.eEpP]/.test(num.text)) return { kind: "float", f: num.float64 };
    if (num.isInt) return { kind: "int", n: num.int64 };
    if (num.isUint) this.fail(num, `${num.text} overflows int`);
    return INVALID;
  }

  chain(node: ArgNode & { type: "chain" }, args: readonly ArgNode[], final: Final): Value {
    if (node.node.type === "nil") this.fail(node, `indirection through explicit nil in ${nodeString(node)}`);
    const receiver = this.arg(node.node, null);
    return this.fieldChain(receiver, node, node.field, args, final);
  }

  variable(node: ArgNode & { type: "variable" }, args: readonly ArgNode[], final: Final): Value {
    const name = node.ident[0] ?? "$";
    const slot = this.findVar(name);
    if (slot === undefined) this.fail(node, `undefined variable: ${fromBytes(name)}`);
    if (node.ident.length === 1) {
      this.notAFunction(args, final);
      return slot.value;
    }
    return this.fieldChain(slot.value, node, node.ident.slice(1), args, final);
  }

  fieldChain(
    receiver: Value,
    node: { pos: number },
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    for (let i = 0; i < ident.length - 1; i++) receiver = this.field(ident[i] ?? "", node, [], MISSING, receiver);
    return this.field(ident[ident.length - 1] ?? "", node, args, final, receiver);
  }

  field(name: string, node: { pos: number }, args: readonly ArgNode[], final: Final, receiver: Value): Value {
    const shown = fromBytes(name);
    if (receiver.kind === "invalid") {
      if (this.strictKeys) this.fail(node, `no data for field .${shown}`);
      return INVALID;
    }
    const hasArgs = args.length > 1 || final !== MISSING;
    if (receiver.kind === "map") {
      if (hasArgs) this.fail(node, `${shown} is not a method but has arguments`);
      const value = receiver.m.get(name);
      if (value === undefined) {
        if (this.strictKeys) this.fail(node, `the data has no field .${shown}`);
        return { kind: "invalid", field: name };
      }
      return { kind: "string", s: value };
    }
    if (receiver.kind === "nil") this.fail(node, `nil pointer evaluating interface {}.${shown}`);
    return this.fail(node, `can't evaluate field ${shown} in type ${goTypeName(receiver)}`);
  }

  callFunction(name: string, node: ArgNode, args: readonly ArgNode[], final: Final): Value {
    const spec: FunctionSpec | undefined = FUNCTIONS.get(name);
    if (spec === undefined) return this.fail(node, `${JSON.stringify(name)} is not a defined function`);
    const numIn = args.length + (final === MISSING ? 0 : 1);
    const fixed = spec.params.length;
    if (spec.variadic !== undefined ? numIn < fixed : numIn !== fixed) {
      const want = spec.variadic !== undefined ? `at least ${fixed}` : String(fixed);
      this.fail(node, `wrong number of args for ${name}: want ${want} got ${numIn}`);
    }
    const argv: Value[] = [];
    args.forEach((arg, i) => {
      const type = (i < fixed ? spec.params[i] : spec.variadic) ?? "any";
      argv.push(this.arg(arg, type, name));
    });
    if (final !== MISSING) {
      const type = (numIn - 1 < fixed ? spec.params[numIn - 1] : spec.variadic) ?? "any";
      argv.push(this.validate(final, type, node, name));
    }
    const result = this.guard(node, () => spec.call(argv, this.ctx), name);
    if (result.kind === "string" && result.s.length > this.ctx.maxValueBytes) {
      this.fail(node, `error calling ${name}: result is over the ${this.ctx.maxValueBytes}-byte limit`);
    }
    return result;
  }

  /** Go's validateType: can this value be passed where `type` is expected? */
  validate(value: Value, type: ParamType | null, node: { pos: number }, fn?: string): Value {
    const where = fn === undefined ? "" : ` (argument to ${fn})`;
    if (value.kind === "invalid") {
      if (type === null) return INVALID;
      if (type === "any") return NIL;
      if (type === "value") return INVALID;
      const what = value.field === undefined ? "no value" : `field .${fromBytes(value.field)}, which the data does not have`;
      this.fail(node, `invalid value; expected ${type}${where}; got ${what}`);
    }
    if (type === null || type === "any" || type === "value") return value;
    if (value.kind === type) return value;
    return this.fail(node, `wrong type for value; expected ${type}; got ${goTypeName(value)}${where}`);
  }

  /** Go's evalArg. A null type is "no particular type" (the receiver of a chain). */
  arg(node: ArgNode, type: ParamType | null, fn?: string): Value {
    switch (node.type) {
      case "dot":
        return this.validate(this.dot, type, node, fn);
      case "nil":
        if (type === "any" || type === "value") return NIL;
        return this.fail(node, `cannot assign nil to ${type === null ? "value" : describeParam(type)}`);
      case "field":
        return this.validate(this.fieldChain(this.dot, node, node.ident, [node], MISSING), type, node, fn);
      case "variable":
        return this.validate(this.variable(node, [], MISSING), type, node, fn);
      case "pipe":
        return this.validate(this.pipeline(node), type, node, fn);
      case "identifier":
        return this.validate(this.callFunction(node.name, node, [], MISSING), type, node, fn);
      case "chain":
        return this.validate(this.chain(node, [], MISSING), type, node, fn);
    }
    const problem = (expected: string) => `expected ${expected}; found ${fromBytes(nodeString(node))}`;
    switch (type) {
      case "int":
        if (node.type === "number" && node.isInt) return { kind: "int", n: node.int64 };
        return this.fail(node, problem("integer"));
      case "string":
        if (node.type === "string") return { kind: "string", s: node.value };
        return this.fail(node, problem("string"));
      default:
        // interface{} / reflect.Value: the literal's own type.
        if (node.type === "bool") return { kind: "bool", b: node.value };
        if (node.type === "string") return { kind: "string", s: node.value };
        return this.idealConstant(node);
    }
  }
}

function toDataMap(data: Readonly<Record<string, string>>): Map<string, string> {
  if (data === null || typeof data !== "object") {
    throw new TemplateError("render", "template data must be an object of strings");
  }
  const map = new Map<string, string>();
  for (const key of Object.keys(data)) {
    const value: unknown = data[key];
    if (typeof value !== "string") {
      throw new TemplateError("render", `template data field ${JSON.stringify(key)} must be a string`);
    }
    map.set(toBytes(key), toBytes(value));
  }
  return map;
}

function render(
  source: string,
  nodes: readonly TopNode[],
  data: Readonly<Record<string, string>>,
  options: RenderOptions = {},
): string {
  const now = options.now ?? new Date();
  const nowMillis = now.getTime();
  if (!Number.isFinite(nowMillis)) throw new TemplateError("render", "options.now is not a valid date");
  const ctx: CallContext = {
    nowMillis,
    random: options.random ?? defaultRandom,
    uuid: options.uuid ?? defaultUuid,
    maxValueBytes: TEMPLATE_LIMITS.maxValueBytes,
    maxRandomLength: TEMPLATE_LIMITS.maxRandomLength,
  };
  const dot: Value = { kind: "map", m: toDataMap(data) };
  const renderer = new Renderer(source, dot, ctx, options.missingKey === "error");
  renderer.walk(nodes);
  return fromBytes(renderer.out);
}
