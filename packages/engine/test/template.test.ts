// Username templates (Vault's sdk/helper/template language): one behaviour per
// test. go-template.test.ts checks the same engine against Vault's Go code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  DEFAULT_USERNAME_TEMPLATE,
  TEMPLATE_LIMITS,
  TemplateError,
  compileUsernameTemplate,
  type RenderOptions,
} from "../src/template/username-template.ts";

const NOW = new Date("2023-11-14T22:13:20.123Z");
const DATA = { RoleName: "ci-Runner", RandomSuffix: "k3x9a0pz", ProjectName: "Proj X" };

const render = (template: string, data: Record<string, string> = DATA, options: RenderOptions = {}): string =>
  compileUsernameTemplate(template).render(data, { now: NOW, ...options });

/** Asserts that fn throws a TemplateError of the given stage whose message matches. */
function throwsTemplateError(fn: () => unknown, stage: "compile" | "render", message: RegExp): TemplateError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TemplateError, `expected a TemplateError, got ${String(caught)}`);
  assert.equal(caught.stage, stage);
  assert.match(caught.message, message);
  return caught;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

// --- the default template ----------------------------------------------------

test("the default template is the seed plugin's vault-{{.RoleName}}-{{.RandomSuffix}}", () => {
  assert.equal(DEFAULT_USERNAME_TEMPLATE, "vault-{{.RoleName}}-{{.RandomSuffix}}");
});

test("the default template renders vault-<role>-<suffix>", () => {
  assert.equal(render(DEFAULT_USERNAME_TEMPLATE), "vault-ci-Runner-k3x9a0pz");
});

test("a compiled template renders again with other data", () => {
  const template = compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE);
  assert.equal(template.render({ RoleName: "a", RandomSuffix: "1" }), "vault-a-1");
  assert.equal(template.render({ RoleName: "b", RandomSuffix: "2" }), "vault-b-2");
});

test("fields lists the data fields a template reads, sorted and once each", () => {
  const template = compileUsernameTemplate("{{.RoleName}}-{{$.ProjectName}}-{{.RoleName | lowercase}}-{{.A.B}}");
  assert.deepEqual(template.fields, ["A", "ProjectName", "RoleName"]);
});

test("text outside actions is copied unchanged", () => {
  assert.equal(render("plain name, no actions"), "plain name, no actions");
});

test("the result is a plain string", () => {
  assert.equal(typeof render("{{ unix_time }}"), "string");
});

// --- Vault's functions ------------------------------------------------------

test("random N gives N base62 characters from the default crypto source", () => {
  assert.match(render("{{ random 40 }}"), /^[A-Za-z0-9]{40}$/);
});

test("random uses the random source given in the options", () => {
  assert.equal(render("{{ random 3 }}", DATA, { random: (n) => "x".repeat(n) }), "xxx");
});

test("random 0 renders nothing", () => {
  assert.equal(render("[{{ random 0 }}]"), "[]");
});

test("random with a negative length is a render error", () => {
  throwsTemplateError(() => render("{{ random -1 }}"), "render", /error calling random: length must not be negative/);
});

test("random above the length limit is a render error", () => {
  throwsTemplateError(
    () => render(`{{ random ${TEMPLATE_LIMITS.maxRandomLength + 1} | truncate 5 }}`),
    "render",
    /error calling random: length \d+ is over the limit/,
  );
});

test("truncate N cuts a longer value to N bytes", () => {
  assert.equal(render("{{ .RoleName | truncate 4 }}"), "ci-R");
});

test("truncate leaves a value no longer than N alone", () => {
  assert.equal(render("{{ truncate 20 .RoleName }}"), "ci-Runner");
});

test("truncate counts bytes as Go does, so it can split a character", () => {
  assert.equal(render('{{ truncate 2 "é" }}'), "é");
  assert.equal(render('{{ truncate 1 "é" }}'), "\ufffd");
});

test("truncate with a maximum of 0 is a render error, as in Vault", () => {
  throwsTemplateError(() => render("{{ truncate 0 .RoleName }}"), "render", /max length must be > 0 but was 0/);
});

test("truncate_sha256 keeps the head and appends 8 hex digits of the tail's sha256", () => {
  assert.equal(render('{{ truncate_sha256 9 "abcdefghij" }}'), "a" + sha256("bcdefghij").slice(0, 8));
});

test("truncate_sha256 leaves a value no longer than the maximum alone", () => {
  assert.equal(render('{{ truncate_sha256 10 "abcdefghij" }}'), "abcdefghij");
});

test("truncate_sha256 with a maximum of 8 or less is a render error", () => {
  throwsTemplateError(() => render('{{ truncate_sha256 8 "abc" }}'), "render", /max length must be > 8 but was 8/);
});

test("uppercase and lowercase change case, non-ASCII letters included", () => {
  assert.equal(render("{{ uppercase .RoleName }}|{{ lowercase .RoleName }}"), "CI-RUNNER|ci-runner");
  assert.equal(render('{{ lowercase "ÉTÉ" }}|{{ uppercase "straße" }}'), "été|STRAßE");
});

test("replace takes find, then replacement, then the value", () => {
  assert.equal(render('{{ replace "-" "_" "a-b-c" }}'), "a_b_c");
});

test("replace with an empty find inserts the replacement around every character", () => {
  assert.equal(render('{{ replace "" "." "aé" }}'), ".a.é.");
});

test("sha256 renders the lowercase hex SHA-256 of the value", () => {
  assert.equal(render('{{ sha256 "abc" }}'), sha256("abc"));
});

test("base64 renders the standard base64 of the value's UTF-8 bytes", () => {
  assert.equal(render('{{ base64 "héllo" }}'), Buffer.from("héllo").toString("base64"));
});

test("unix_time and unix_time_millis read the instant given in the options", () => {
  assert.equal(render("{{ unix_time }} {{ unix_time_millis }}"), "1700000000 1700000000123");
});

test("timestamp formats with a Go layout, in UTC", () => {
  assert.equal(render('{{ timestamp "2006-01-02T15:04:05Z07:00" }}'), "2023-11-14T22:13:20Z");
  assert.equal(render('{{ timestamp "Mon Jan _2 3:04:05.000PM MST 2006" }}'), "Tue Nov 14 10:13:20.123PM UTC 2023");
});

test("uuid renders 8-4-4-4-12 lowercase hex by default", () => {
  assert.match(render("{{ uuid }}"), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

test("uuid uses the uuid source given in the options", () => {
  assert.equal(render("{{ uuid }}", DATA, { uuid: () => "fixed" }), "fixed");
});

// --- Go builtins and syntax --------------------------------------------------

test("printf formats like Go's fmt.Sprintf, as in Vault's own default templates", () => {
  const template =
    '{{ printf "v-%s-%s-%s-%s" (.RoleName | truncate 8) (.ProjectName | truncate 8) (random 20) (unix_time) | truncate 63 | lowercase }}';
  assert.equal(render(template, DATA, { random: (n) => "R".repeat(n) }), `v-ci-runne-proj x-${"r".repeat(20)}-1700000000`);
});

test("printf reports a bad verb the way Go does", () => {
  assert.equal(render('{{ printf "%d|%s" "x" }}'), "%!d(string=x)|%!s(MISSING)");
});

test("printf rounds floats half to even, as Go does", () => {
  assert.equal(render('{{ printf "%.2f %.0f %.0f" 2.675 2.5 3.5 }}'), "2.67 2 4");
});

test("print and println join their arguments as Go's fmt does", () => {
  assert.equal(render('{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}'), "a1 2b|a 1\n");
});

test("len counts bytes", () => {
  assert.equal(render('{{ len "héllo" }}'), "6");
});

test("a pipe passes its value as the last argument of the next call", () => {
  assert.equal(render('{{ "abcdef" | truncate 3 }}'), "abc");
});

test("pipes run left to right", () => {
  assert.equal(render('{{ .RoleName | replace "-" "_" | uppercase | truncate 5 }}'), "CI_RU");
});

test("parenthesised sub-pipelines are evaluated first", () => {
  assert.equal(render('{{ printf "%s/%s" (.RoleName | lowercase) (truncate 2 .ProjectName) }}'), "ci-runner/Pr");
});

test("{{- and -}} trim the whitespace beside the action", () => {
  assert.equal(render("a \n\t{{- .RoleName -}} \n b"), "aci-Runnerb");
});

test("comments render nothing", () => {
  assert.equal(render("a{{/* a comment */}}b{{- /* trimmed */ -}} c"), "abc");
});

test("variables hold a value for later actions", () => {
  assert.equal(render("{{ $r := lowercase .RoleName }}{{ $r }}-{{ $r | uppercase }}-{{ $.ProjectName }}"), "ci-runner-CI-RUNNER-Proj X");
});

test("number literals follow Go's syntax", () => {
  assert.equal(render("{{ 0x10 }} {{ 1_000 }} {{ 'a' }} {{ 1e3 }} {{ 1.5 }}"), "16 1000 97 1000 1.5");
});

// --- missing data ------------------------------------------------------------

test("a missing field prints <no value>, as Vault's text/template does", () => {
  assert.equal(render("x-{{ .Nope }}"), "x-<no value>");
});

test("a missing field passed to a function is a render error naming the field", () => {
  throwsTemplateError(() => render("{{ .Nope | lowercase }}"), "render", /field \.Nope, which the data does not have/);
});

test('missingKey "error" rejects any missing field and names it', () => {
  throwsTemplateError(() => render("x-{{ .Nope }}", DATA, { missingKey: "error" }), "render", /no field \.Nope/);
});

test("properties inherited from Object.prototype are not data", () => {
  assert.equal(render("{{ .constructor }}|{{ .toString }}|{{ .__proto__ }}"), "<no value>|<no value>|<no value>");
});

test("{{.}} shows only the data map", () => {
  assert.equal(render("{{ . }}", { B: "2", A: "1" }), "map[A:1 B:2]");
});

test("a data value that is not a string is rejected", () => {
  const data = { RoleName: 5 } as unknown as Record<string, string>;
  throwsTemplateError(() => render("{{ .RoleName }}", data), "render", /"RoleName" must be a string/);
});

// --- errors -------------------------------------------------------------------

test("an unknown function is a compile error with its name and position", () => {
  const error = throwsTemplateError(() => compileUsernameTemplate("ab\n  {{ env \"HOME\" }}"), "compile", /function "env" not defined/);
  assert.equal(error.line, 2);
  assert.equal(error.column, 6);
  assert.match(error.message, /^username template at 2:6: /);
});

test("no function reads files, the environment or processes", () => {
  for (const name of ["env", "readFile", "file", "exec", "expandenv", "getenv"]) {
    throwsTemplateError(() => compileUsernameTemplate(`{{ ${name} "x" }}`), "compile", /not defined/);
  }
});

test("control structures are rejected at compile time", () => {
  for (const t of ["{{if .A}}x{{end}}", "{{range .}}x{{end}}", "{{with .A}}x{{end}}", '{{define "a"}}x{{end}}', '{{template "a"}}', '{{block "a" .}}x{{end}}']) {
    throwsTemplateError(() => compileUsernameTemplate(t), "compile", /is not supported: username templates allow no control structures/);
  }
});

test("Go builtins other than print, printf, println and len are rejected at compile time", () => {
  throwsTemplateError(() => compileUsernameTemplate('{{ eq .A "b" }}'), "compile", /"eq" is a Go text\/template builtin/);
  throwsTemplateError(() => compileUsernameTemplate('{{ index . "A" }}'), "compile", /"index" is a Go text\/template builtin/);
});

test("a call with the wrong number of arguments is a compile error", () => {
  throwsTemplateError(() => compileUsernameTemplate("{{ truncate 3 }}"), "compile", /wrong number of args for truncate: want 2 got 1/);
  throwsTemplateError(() => compileUsernameTemplate('{{ "a" | lowercase "b" }}'), "compile", /wrong number of args for lowercase: want 1 got 2/);
});

test("a literal argument of the wrong type is a compile error", () => {
  throwsTemplateError(() => compileUsernameTemplate('{{ truncate "3" .A }}'), "compile", /argument to truncate: expected integer; found "3"/);
  throwsTemplateError(() => compileUsernameTemplate("{{ truncate 1.5 .A }}"), "compile", /expected integer; found 1\.5/);
});

test("an unclosed action is a compile error", () => {
  throwsTemplateError(() => compileUsernameTemplate("vault-{{ .RoleName"), "compile", /unclosed action/);
});

test("a stray token is a compile error saying what was unexpected", () => {
  throwsTemplateError(() => compileUsernameTemplate("{{ .A || lowercase }}"), "compile", /unexpected "\|" in command/);
});

test("an empty template is rejected", () => {
  throwsTemplateError(() => compileUsernameTemplate(""), "compile", /template is empty/);
});

test("a template over the size limit is rejected", () => {
  const source = "x".repeat(TEMPLATE_LIMITS.maxTemplateBytes + 1);
  throwsTemplateError(() => compileUsernameTemplate(source), "compile", /4097 bytes long; the limit is 4096/);
});

test("a result over the output limit is a render error", () => {
  throwsTemplateError(() => render(`{{ printf "%${TEMPLATE_LIMITS.maxOutputBytes + 1}s" "a" }}`), "render", /longer than 1024 bytes/);
});

test("intermediate values are bounded too", () => {
  throwsTemplateError(() => render('{{ printf "%10000000d" 1 | truncate 3 }}'), "render", /would exceed 65536 bytes/);
  throwsTemplateError(() => render('{{ replace "" (printf "%1000s" "") (printf "%1000s" "") | truncate 3 }}'), "render", /over the 65536-byte limit/);
});

test("deeply nested parentheses are rejected", () => {
  throwsTemplateError(() => compileUsernameTemplate(`{{ ${"(".repeat(200)}1${")".repeat(200)} }}`), "compile", /nested too deeply/);
});

test("render errors never contain the data", () => {
  const data = { Secret: "hunter2-credential" };
  for (const t of ["{{ .Secret.X }}", "{{ .Secret 1 }}", "{{ .Secret | truncate 0 }}", "{{ .Secret | random }}", "{{ .Nope | lowercase }}"]) {
    const error = throwsTemplateError(() => render(t, data), "render", /./);
    assert.doesNotMatch(error.message, /hunter2/);
  }
});

test("an invalid now option is rejected", () => {
  throwsTemplateError(() => render("{{ unix_time }}", DATA, { now: new Date(Number.NaN) }), "render", /not a valid date/);
});
