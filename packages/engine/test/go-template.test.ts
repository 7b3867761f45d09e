// Username templates checked against Go itself: every case below is rendered
// by Vault's own sdk/helper/template (test/conformance/template, run with
// `go run`) and by compileUsernameTemplate(...).render(...). Both must accept
// or reject alike, at the same stage (Go's parse ~ our compile, Go's
// execution ~ our render), and agree on the output byte for byte. Outputs of
// `random` and `uuid` are compared by shape (length and alphabet), since
// they are random on both sides. The clock is fixed on both sides (the
// harness swaps Vault's clock-reading functions for ones that read the case's
// instant in UTC; Vault's own functions use the server's local zone, ours
// always UTC). Error messages are not compared.
//
// Deliberate differences are listed in EXCEPTIONS, each with its reason; the
// cases that exercise them say which exception they belong to, and the test
// asserts the difference is exactly that one (and fails if Go ever agrees).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TemplateError, compileUsernameTemplate } from "../src/template/username-template.ts";

const GO_DIR = fileURLToPath(new URL("../../../test/conformance/template/", import.meta.url));

const EXCEPTIONS = {
  "control-structure":
    "{{if}}, {{range}}, {{with}}, {{define}}, {{template}} and {{block}} are rejected when the template is " +
    "compiled: a username template renders flat role data into one name, and the engine keeps the language small",
  "unsupported-builtin":
    "Go's builtins other than print, printf, println and len (eq, ne, lt, le, gt, ge, and, or, not, index, " +
    "slice, html, js, urlquery, call) are rejected at compile time; they only matter with control structures or " +
    "non-string data",
  "complex-number": "complex literals (1i, 1+2i) are rejected at compile time; no name needs them",
  "early-detection":
    "a call with the wrong number of arguments, or with a literal argument of the wrong type, fails for every " +
    "input; Go notices during Generate, we notice during compile. Both reject the template",
  "pointer-verb":
    "printf's %p of the data map prints a memory address in Go (a different one on every run); we reject it " +
    "rather than invent one",
  "size-limit":
    "we bound the template (4096 bytes), the rendered name (1024 bytes), `random` (1024 characters) and any " +
    "intermediate value (64 KiB) where Vault has no bound (or a 100,000-byte template bound); within the bounds " +
    "the results are Go's",
} as const;
type ExceptionName = keyof typeof EXCEPTIONS;

interface Case {
  readonly template: string;
  readonly data?: Readonly<Record<string, string>>;
  /** Unix seconds and extra milliseconds of "now" (default 2023-11-14T22:13:20.123Z). */
  readonly now?: readonly [seconds: number, millis: number];
  /** For outputs with random parts: both outputs must match this and have the same length. */
  readonly shape?: RegExp;
  readonly exception?: ExceptionName;
}

const DATA = { RoleName: "My-Role", RandomSuffix: "k3x9a0pz", ProjectName: "Proj X", Empty: "" };
const NOW: readonly [number, number] = [1_700_000_000, 123];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const c = (template: string, extra: Omit<Case, "template"> = {}): Case => ({ template, ...extra });
const early = (template: string): Case => c(template, { exception: "early-detection" });

const CASES: readonly Case[] = [
  // Text, fields, the seed plugin's default and Vault's own defaults.
  c("vault-{{.RoleName}}-{{.RandomSuffix}}"),
  c("vault-{{.RoleName}}-{{.RandomSuffix}}-{{.ProjectName}}"),
  c("vault-{{.RoleName | truncate 4}}-{{.RandomSuffix}}"),
  c("plain text, no actions"),
  c("{{.RoleName}}{{.RoleName}}"),
  c('{{ printf "v-%s-%s-%s-%s" (.RoleName | truncate 8) (.ProjectName | truncate 8) (.RandomSuffix) (unix_time) | truncate 63 | lowercase }}'),
  c('{{ printf "v_%s_%s_%s_%s" (.RoleName | truncate 15) (.ProjectName | truncate 15) (.RandomSuffix) (unix_time) | truncate 100 | replace "-" "_" | lowercase }}'),
  c('{{printf "V_%s_%s_%s" (printf "%s" .RoleName | uppercase | truncate 64) (printf "%s" .ProjectName | uppercase | truncate 64) (unix_time) | truncate 128}}'),
  c('{{ printf "v-%s-%s-%s-%s" (.RoleName | truncate 8) (.ProjectName | truncate 8) (random 20) (unix_time) | truncate 63 }}', {
    shape: /^v-My-Role-Proj X-[A-Za-z0-9]{20}-1700000000$/,
  }),
  // Missing keys: Vault sets no missingkey option.
  c("{{.Missing}}"),
  c("{{.Missing | lowercase}}"),
  c('{{printf "%s|%v|%d" .Missing .Missing .Missing}}'),
  c("{{.Missing.X}}"),
  c("{{.RoleName.X}}"),
  c("{{.Empty}}|{{.Empty | truncate 3}}"),
  c("{{.constructor}}{{.toString}}{{.__proto__}}"),
  c("{{.Ré}}|{{.}}", { data: { Ré: "x", "b-c": "y", A: "z" } }),
  // Pipelines and parentheses.
  c("{{.RoleName|lowercase}}"),
  c("{{ .RoleName | replace \"R\" \"r\" | replace \"-\" \"\" | uppercase }}"),
  c('{{ (lowercase .RoleName | uppercase) | printf "%s!" }}'),
  c("{{ lowercase (uppercase (lowercase .RoleName)) }}"),
  c("{{ ((.RoleName)) }}"),
  c("{{.RoleName |}}"),
  c("{{| .RoleName}}"),
  c("{{.RoleName || lowercase}}"),
  c('{{"a" | "b"}}'),
  c("{{.RoleName | .RoleName}}"),
  c("{{.RoleName 1}}"),
  c('{{"a" "b"}}'),
  c("{{ (printf \"%s\" .RoleName).X }}"),
  c("{{ (.Missing).X }}"),
  c('{{"x".X}}'),
  c("{{ (.RoleName }}"),
  c("{{ .RoleName) }}"),
  c("{{ () }}"),
  c("{{}}"),
  c("{{ }}"),
  // Variables.
  c("{{$x := .RoleName}}{{$x}}-{{$.RoleName}}-{{$}}"),
  c("{{ $x := (lowercase .RoleName) }}{{ $x | uppercase }}"),
  c("{{ $x := \"a\" }}{{ $x = \"b\" }}{{ $x }}"),
  c('{{ print ($y := "a") $y }}'),
  c("{{ $x := $x }}"),
  c('{{ $y = "a" }}'),
  c("{{ $x }}"),
  c("{{ $x, $y := 1 }}"),
  c("{{ $x:=1 }}{{$x}}"),
  c("{{ $x := .Missing }}{{ $x }}|{{ $x.Y }}"),
  c('{{ $x := "a" }}{{ $x 1 }}'),
  // Whitespace trimming and comments.
  c('a  {{- .RoleName -}}  b'),
  c('a {{-"b"-}} c'),
  c("a\t\n {{- \"b\" -}}\n\tc"),
  c('{{"a"}} {{- /* x */}} b'),
  c("{{/* x */}}a{{- /* y */ -}} b"),
  c("{{ /* x */ }}"),
  c("{{/* x */ -}}\n  z"),
  c("{{/* unclosed"),
  c("{{/* x */ x}}"),
  c("{{-3}}"),
  c("{{.RoleName -}}x"),
  c("{{.RoleName-}}"),
  c("{{\n.RoleName\n|\nlowercase\n}}"),
  c('}}{{"}}"}}{{"{{"}}}}'),
  c("{{"),
  c("{{.RoleName"),
  c("{{.RoleName}"),
  // Literals.
  c("{{1e3}}|{{1.0}}|{{0x10}}|{{'a'}}|{{1_000}}|{{1e20}}|{{123456.0}}|{{1234567.0}}|{{0.0001}}|{{0.00001}}|{{-0}}|{{+5}}"),
  c("{{0x1p4}}|{{0x1.8p1}}|{{0x_1F}}|{{0b101}}|{{0o17}}|{{017}}|{{1_0.5}}|{{.5}}|{{5.}}|{{1E3}}|{{-.5}}|{{+0.1e1}}"),
  c('{{printf "%T %T %T" -0x1e 0x1E 1e3}}'),
  c("{{18446744073709551615}}"),
  c("{{99999999999999999999}}"),
  c("{{08}}"),
  c("{{1__0}}"),
  c("{{0x1.8}}"),
  c("{{1e400}}"),
  c("{{-9223372036854775808}}|{{9223372036854775807}}"),
  c("{{'\\n'}}|{{'\\x41'}}|{{'\\u00e9'}}|{{'\\''}}|{{'é'}}|{{'\\377'}}|{{'\\\\'}}"),
  c("{{'ab'}}"),
  c("{{'\\\"'}}"),
  c('{{"\\\'"}}'),
  c('{{"\\q"}}'),
  c('{{"\\u00e9\\x41\\101\\t|"}}|{{`raw\\n`}}'),
  c('{{"\\ud800"}}'),
  c('{{"abc}}'),
  c("{{ true }}|{{ false }}|{{ print true nil }}"),
  c("{{ nil }}"),
  c("{{ nil | lowercase }}"),
  c("{{ € }}"),
  c("{{ é }}"),
  c("{{ # }}"),
  c('{{lowercase"x"}}'),
  c("{{ .R-é }}"),
  c("{{ ..RoleName }}"),
  c("{{ foo }}"),
  // Vault's functions.
  c("{{ truncate 3 \"\" }}|{{ truncate 100 .RoleName }}|{{ truncate 7 .RoleName }}|{{ truncate 6 .RoleName }}"),
  c("{{truncate 1e3 .RoleName}}|{{truncate 'a' .RoleName}}|{{truncate 9223372036854775807 .RoleName}}"),
  c("{{ truncate 0 .RoleName }}"),
  c("{{ truncate -1 .RoleName }}"),
  c("{{truncate 2 \"é\"}}|{{truncate 1 \"é\" | uppercase}}|{{truncate 1 \"é\"}}"),
  c("{{ truncate_sha256 9 \"abcdefghij\" }}|{{ truncate_sha256 9 \"abcdefghi\" }}|{{ truncate_sha256 20 .RoleName }}|{{ truncate_sha256 10 \"ééééééééé\" }}"),
  c('{{ truncate_sha256 8 "a" }}'),
  c("{{ uppercase .RoleName }}|{{ lowercase .RoleName }}|{{ uppercase \"\" }}"),
  c('{{ uppercase "àéîõü æøå ǆ ǅ αβγ ѐ ա ı ſ ﬀ ŉ ǰ ΐ ß ᾳ" }}|{{ lowercase "ÀÉÎÕÜ ÆØÅ Ǆ ǅ ΑΒΓΣ Ѐ Ա İ K" }}'),
  c('{{ lowercase "\\xff\\xfeA" }}|{{ uppercase "a\\xc3" }}|{{ "\\xff" | len }}'),
  c('{{ replace "-" "_" .RoleName }}|{{ replace "" "" "abc" }}|{{ replace "x" "y" "" }}|{{ replace "" "." "" }}|{{ replace "aa" "b" "aaaaa" }}|{{ replace "" "-" "aé" }}'),
  c('{{ sha256 "" }}|{{ sha256 .RoleName }}|{{ base64 "" }}|{{ base64 "hello world!" }}|{{ base64 "é" }}'),
  c("{{ random 0 }}|x"),
  c("{{ random -1 }}"),
  c("{{ random 20 }}", { shape: /^[A-Za-z0-9]{20}$/ }),
  c("vault-{{.RoleName | lowercase}}-{{ random 8 | lowercase }}", { shape: /^vault-my-role-[a-z0-9]{8}$/ }),
  c("{{ 5 | random | len }}|{{ random 1.0 | len }}"),
  c("{{ 1.5 | random }}"),
  c('{{ "5" | random }}'),
  c("{{ random .RoleName }}"),
  c("{{ uuid }}", { shape: UUID }),
  c('{{ printf "%s-%s" .RoleName (uuid) }}', { shape: /^My-Role-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ }),
  c("{{ uuid | len }}"),
  c("{{ unix_time }}|{{ unix_time_millis }}"),
  c("{{ unix_time }}|{{ unix_time_millis }}", { now: [-1, 500] }),
  c('{{ timestamp "2006-01-02T15:04:05Z07:00" }}|{{ timestamp "" }}|{{ timestamp "Monday, 02-Jan-06 15:04:05 MST" }}|{{ timestamp "20060102150405" }}'),
  c('{{ timestamp "Jan January Mon Monday MST 1 01 2 _2 02 __2 002 15 3 03 4 04 5 05 2006 06 PM pm" }}'),
  c('{{ timestamp "-0700 -07:00 -07 Z0700 Z07:00 Z07 Z070000 -070000 Z07:00:00 -07:00:00" }}'),
  c('{{ timestamp "3:04PM 03:04:05pm .000000 .999999999 ,000 ,9 .0123 .000000000000" }}'),
  c('{{ timestamp "Janu Monda Mo Ja MSTx Jan2 Mon3 Monthly Mondays Janet _2006 0023" }}'),
  c('{{ timestamp "2006-01-02 3:04:05.000 PM Mon __2 _2" }}', { now: [951_800_407, 0] }),
  c('{{ timestamp "2006-01-02T15:04:05.999Z07:00 Monday 002" }}', { now: [-1, 500] }),
  c('{{ timestamp "2006-01-02T15:04:05.999 Jan _2 __2" }}', { now: [4_102_531_199, 999] }),
  c('{{ timestamp "2006 06 Jan 2" }}', { now: [253_402_300_800, 0] }),
  c("{{ timestamp 1 }}", { exception: "early-detection" }),
  // Go's builtins we implement: print, printf, println, len.
  c('{{print}}|{{print "a" 1 2 "b" 3.5 true false}}|{{print .Missing .Missing}}|{{print . 1}}'),
  c('{{println}}|{{println 1 "a"}}'),
  c('{{len "héllo"}}|{{len .}}|{{len .RoleName}}|{{len ""}}'),
  c("{{ len 3 }}"),
  c("{{ len .Missing }}"),
  c("{{ len nil }}"),
  c('{{ truncate (len .RoleName) "abcdefghijkl" }}'),
  c('{{printf "%05s|%-5s|%5.2s|%x|% X|%#x|%q|%#q|%+q" "ab" "ab" "abc" "hi" "hi" "hi" "é\\n" "a`b" "é"}}'),
  c('{{printf "%d %5d %-5d| %05d %+d %x %#o %b %c %U %#U %q" 42 42 42 -42 5 255 8 5 65 233 233 97}}'),
  c('{{printf "%v %g %e %f %.2f %8.3e %G %.0f %.0f %.3g" 1.5 1e21 123.456 0.1 2.675 1234.5 1e-7 0.5 1.5 1234.5}}'),
  c('{{printf "%v %v %v %v %v %v %v" 0.1 100000.0 1000000.0 1e-5 123456789.0 1.0e-4 5e-324}}'),
  c('{{printf "%e %E %.0e %.10e %g %G %.2g %.10g %#g %#.3g %#v" 1.0 0.000123 5.5 1.0 0.0 1e100 0.0001234 3.0 1.5 2.0 1.0}}'),
  c('{{printf "%8.2f|%-8.2f|%08.2f|%+.1f|% .1f|%+08.2f|%.3f|%f" 3.14159 3.14159 -3.14159 2.0 2.0 1.5 -0.0005 1e20}}'),
  c('{{printf "%.0f %.0f %.0f %.0f %.1f %.1f %.2f" 2.5 3.5 -2.5 0.49999999999999994 0.05 0.25 1.005}}'),
  c('{{printf "%x %X %o %O %b %#x %#X %08b % d %+d %-+5d|" 3735928559 255 64 64 10 0 255 5 7 -7 3}}'),
  c('{{printf "%.3d|%6.3d|%-06d|%06d|%.0d|%5.0d|" 7 7 7 -7 0 0}}'),
  c('{{printf "%c%c%c %q %q %+q %U %#U %#U" 72 233 128512 10 128512 233 128512 128512 10}}'),
  c('{{printf "%10q|%-10q|%.2q|%#q|%#q|%q" "ab" "ab" "abcdef" "a\\tb" "a\\nb" "\\x00\\x7f\\u00ad\\U0001F600"}}'),
  c('{{printf "%x|% x|%#x|%# x|%.2x|%8x|%-8X|" "héllo" "abc" "abc" "abc" "abcdef" "ab" "ab"}}'),
  c('{{printf "%5t|%-6t|%v|%d|%s|%q" true false true true false true}}'),
  c('{{printf "%5s|%.1s|%-4s|%05d" "é" "éa" "ß" -12}}'),
  c('{{printf "%!d %z %" 1 2}}'),
  c('{{printf "%s %d"}}|{{printf "%s" 1 2}}|{{printf "%!"}}|{{printf "%s-%s" .RoleName}}'),
  c('{{printf "%[1]d %[1]x %[1]o" 64}}|{{printf "%[0]d" 1}}|{{printf "%[x]d" 1}}|{{printf "%[2]d %d" 1 2 3}}|{{printf "%[1]*d" 4 1}}|{{printf "%3[1]d" 5}}|{{printf "%.[1]d" 5}}'),
  c('{{printf "%*s|%-*s|%.*s|%*.*f" 6 "ab" 6 "ab" 1 "ab" 8 2 3.14159}}|{{printf "%*d" "x" 1}}|{{printf "%.*d" -1 5}}|{{printf "%*d" 10000000 1}}'),
  c('{{printf "%5.}" 1}}|{{printf "%5." 1}}|{{printf "%-" 1}}'),
  c('{{printf "%v %d" nil nil}}|{{printf "%s" .}}|{{printf "%T" nil}}|{{printf "%5v|%-7v|" nil nil}}'),
  c('{{printf "%v|%d|%#v|%T" . . . .}}'),
  c('{{printf "%p" .RoleName}}|{{printf "%w" "x"}}|{{printf "%08s|%-08s" "ab" "ab"}}|{{printf "%+v %#v %#v %#v" "a" "a" 1 true}}'),
  c('{{printf "%6.2v|%.3v|%#5x" "abcdef" 3.14159 10}}'),
  c('{{printf "%d" -9223372036854775808}}|{{printf "%x" -9223372036854775808}}|{{printf "%c" -1}}|{{printf "%U" -1}}'),
  c('{{ printf "%s" (printf "%d" 5) }}|{{ printf "%s" (len "x") }}'),
  c('{{ . | printf "%v" }}|{{ . }}'),
  // Errors Go finds only while executing; we find them when compiling.
  early("{{lowercase nil}}"),
  early("{{truncate 1.5 .RoleName}}"),
  early("{{truncate 1e20 .RoleName}}"),
  early("{{truncate 18446744073709551615 .RoleName}}"),
  early('{{ lowercase "A" "B" }}'),
  early('{{ "A" | lowercase "B" }}'),
  early("{{ truncate 3 }}"),
  early("{{ uuid 1 }}"),
  early("{{ 1 | uuid }}"),
  early('{{ unix_time "x" }}'),
  early('{{ random "5" }}'),
  early("{{ printf }}"),
  early("{{ printf 1 }}"),
  early("{{ printf . }}"),
  early("{{ lowercase . }}"),
  early("{{ len 1 2 }}"),
  // Keywords.
  c("{{ else }}"),
  c("{{ end }}"),
  c("{{ break }}"),
  c("{{ if .RoleName }}x{{ end }}", { exception: "control-structure" }),
  c("{{ range . }}x{{ end }}", { exception: "control-structure" }),
  c("{{ with .RoleName }}{{ . }}{{ end }}", { exception: "control-structure" }),
  c('{{ define "x" }}y{{ end }}', { exception: "control-structure" }),
  c('{{ template "x" }}', { exception: "control-structure" }),
  c('{{ block "x" . }}y{{ end }}', { exception: "control-structure" }),
  c('{{ eq .RoleName "x" }}', { exception: "unsupported-builtin" }),
  c('{{ index . "RoleName" }}', { exception: "unsupported-builtin" }),
  c("{{ slice .RoleName 1 2 }}", { exception: "unsupported-builtin" }),
  c("{{ and 1 2 }}", { exception: "unsupported-builtin" }),
  c("{{ print 1i }}", { exception: "complex-number" }),
  c("{{ 1+2i }}", { exception: "complex-number" }),
  c('{{ printf "%p" . }}', { exception: "pointer-verb" }),
  // Bounds.
  c('{{printf "%10000000d" 1}}', { exception: "size-limit" }),
  c('{{printf "%2000s" "a"}}', { exception: "size-limit" }),
  c("{{ random 2000 | truncate 10 }}", { exception: "size-limit" }),
  c("x".repeat(5000), { exception: "size-limit" }),
];

interface GoResult {
  ok: boolean;
  output?: string;
  output_bytes: number;
  stage?: "parse" | "exec";
  error?: string;
}

type Outcome = { ok: true; output: string } | { ok: false; stage: "compile" | "render" };

function nowOf(k: Case): readonly [number, number] {
  return k.now ?? NOW;
}

function ours(k: Case): Outcome {
  const [seconds, millis] = nowOf(k);
  try {
    const output = compileUsernameTemplate(k.template).render(k.data ?? DATA, {
      now: new Date(seconds * 1000 + millis),
    });
    return { ok: true, output };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { ok: false, stage: error.stage };
  }
}

function runGo(): { results?: GoResult[]; skip?: string } {
  const probe = spawnSync("go", ["version"], { encoding: "utf8" });
  if (probe.error) {
    return {
      skip: `Go is not installed (go: ${(probe.error as NodeJS.ErrnoException).code}); this test compares our templates with Vault's Go package`,
    };
  }
  const input = JSON.stringify(
    CASES.map((k) => {
      const [seconds, millis] = nowOf(k);
      return { template: k.template, data: k.data ?? DATA, now_unix: seconds, now_nanos: millis * 1_000_000 };
    }),
  );
  const run = spawnSync("go", ["run", "."], {
    cwd: GO_DIR,
    input,
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "auto" },
    maxBuffer: 64 << 20,
    timeout: 15 * 60_000,
  });
  if (run.error || run.status !== 0) {
    throw new Error(`go run in ${GO_DIR} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr}`);
  }
  return { results: JSON.parse(run.stdout) as GoResult[] };
}

const go = runGo();

const label = (template: string): string => {
  const t = template.length > 90 ? `${template.slice(0, 87)}...` : template;
  return JSON.stringify(t);
};

test("the case table is large and names only known exceptions", () => {
  assert.ok(CASES.length >= 150, `only ${CASES.length} cases`);
  for (const k of CASES) if (k.exception) assert.ok(k.exception in EXCEPTIONS);
  for (const name of Object.keys(EXCEPTIONS)) {
    assert.ok(CASES.some((k) => k.exception === name), `no case exercises exception ${name}`);
  }
});

if (go.skip) test("username templates agree with Vault's sdk/helper/template", { skip: go.skip }, () => {});

CASES.forEach((k, i) => {
  if (go.skip) return;
  const name = k.exception
    ? `${label(k.template)}: deliberately differs from Go (${k.exception})`
    : `${label(k.template)}: same outcome as Vault's Go template`;
  test(name, () => {
    const result = go.results?.[i];
    assert.ok(result, "Go returned no result for this case");
    const actual = ours(k);
    switch (k.exception) {
      case "early-detection":
        assert.equal(result.ok, false, "Go accepted this template");
        assert.equal(result.stage, "exec", "Go now rejects this while parsing; drop the exception");
        assert.deepEqual(actual, { ok: false, stage: "compile" });
        return;
      case "control-structure":
      case "unsupported-builtin":
      case "complex-number":
        assert.ok(result.ok || result.stage === "exec", `Go now rejects this while parsing too: ${result.error}`);
        assert.deepEqual(actual, { ok: false, stage: "compile" });
        return;
      case "pointer-verb":
      case "size-limit":
        assert.equal(result.ok, true, `Go rejects this too: ${result.error}`);
        assert.equal(actual.ok, false, "we accepted it");
        return;
    }
    if (!result.ok) {
      assert.deepEqual(actual, { ok: false, stage: result.stage === "parse" ? "compile" : "render" }, `Go: ${result.error}`);
      return;
    }
    assert.ok(actual.ok, `we rejected what Go renders as ${JSON.stringify(result.output)}`);
    assert.equal(typeof result.output, "string", "Go's output was too long to report");
    const expected = result.output ?? "";
    if (k.shape) {
      assert.match(expected, k.shape, "Go's output does not have the expected shape");
      assert.match(actual.output, k.shape);
      assert.equal(Buffer.byteLength(actual.output), Buffer.byteLength(expected));
    } else {
      assert.equal(actual.output, expected);
    }
  });
});
