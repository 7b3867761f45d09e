// The docs check: every Markdown file of the repository, every relative link
// and image must resolve to a file or directory inside the repository, and
// every #anchor to a heading of the target page, slugged as GitHub slugs it.
// What a renderer would only warn about (an empty link, an undefined
// reference, an anchor that two headings share) is a failure here too.
// test/docs/links.test.ts runs it in CI.
//
//   node tools/docs/check.ts [root]
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";

/** Directories never walked: dependencies, build output, the Python venv, git. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(["node_modules", "dist", ".venv", ".git"]);

export interface Problem {
  /** Repository-relative path of the Markdown file. */
  file: string;
  line: number;
  message: string;
}

export interface CheckResult {
  files: number;
  links: number;
  problems: Problem[];
}

/**
 * GitHub's heading id: the rendered text lowercased, every character that is
 * not a letter, mark, digit, connector (such as "_"), space or "-" dropped,
 * and each space turned into "-". Repeats get "-1", "-2"... (see headingAnchors).
 */
export function githubSlug(heading: string): string {
  return plainText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** The text a heading renders to: markup gone, code spans literal. */
export function plainText(markdown: string): string {
  const spans: string[] = [];
  // Code spans first: their content is literal, "*" and "_" included.
  let text = markdown.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_m, _ticks: string, content: string) => {
    spans.push(content.replace(/^ (.*) $/s, "$1"));
    return `\u0000${spans.length - 1}\u0000`;
  });
  text = text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/\*+/g, "")
    .replace(/~~/g, "")
    .replace(/(^|[^\p{L}\p{N}])_+([^_]+?)_+(?=[^\p{L}\p{N}]|$)/gu, "$1$2")
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, name: string) => {
      if (name.startsWith("#x") || name.startsWith("#X")) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10));
      return ENTITIES[name.toLowerCase()] ?? m;
    });
  return text.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => spans[Number(i)] ?? "");
}

export interface Heading {
  text: string;
  line: number;
  /** The slug before repeats are numbered. */
  base: string;
  /** The id GitHub gives it. */
  anchor: string;
}

/** A Markdown line-by-line scan that knows fenced code blocks and HTML comments. */
interface Line {
  number: number;
  text: string;
  /** Inside a fenced code block (the fences included). */
  code: boolean;
}

function scanLines(markdown: string): Line[] {
  // Comments are blanked (keeping line breaks), so nothing in them counts.
  const uncommented = markdown.replace(/<!--[\s\S]*?-->/g, (m) => m.replace(/[^\n]/g, " "));
  const lines: Line[] = [];
  let fence: { char: string; length: number } | undefined;
  uncommented.split("\n").forEach((raw, i) => {
    const text = raw.replace(/\r$/, "");
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (fence) {
      lines.push({ number: i + 1, text, code: true });
      if (open && open[1]![0] === fence.char && open[1]!.length >= fence.length && text.trim() === open[1]) fence = undefined;
      return;
    }
    if (open && !(open[1]![0] === "`" && text.slice(open[0].length).includes("`"))) {
      fence = { char: open[1]![0]!, length: open[1]!.length };
      lines.push({ number: i + 1, text, code: true });
      return;
    }
    lines.push({ number: i + 1, text, code: false });
  });
  return lines;
}

const PARAGRAPH_BREAKERS = /^ {0,3}([-*+]\s|\d+[.)]\s|>|#|\||<)/;

/** The headings of a page, ATX and setext, with the anchors GitHub gives them. */
export function headingAnchors(markdown: string): Heading[] {
  const lines = scanLines(markdown);
  const raw: Array<{ text: string; line: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.code) continue;
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(l.text);
    if (atx) {
      raw.push({ text: atx[1] ?? "", line: l.number });
      continue;
    }
    const next = lines[i + 1];
    if (next && !next.code && /^ {0,3}(=+|-+)[ \t]*$/.test(next.text) && l.text.trim() !== "" && !PARAGRAPH_BREAKERS.test(l.text)) {
      const previous = lines[i - 1];
      // Only a one-line paragraph is taken; a longer one is rare in headings.
      if (!previous || previous.code || previous.text.trim() === "" || /^ {0,3}#/.test(previous.text)) {
        raw.push({ text: l.text.trim(), line: l.number });
        i++;
      }
    }
  }
  const used = new Set<string>();
  return raw.map(({ text, line }) => {
    const base = githubSlug(text);
    let anchor = base;
    for (let n = 1; used.has(anchor); n++) anchor = `${base}-${n}`;
    used.add(anchor);
    return { text, line, base, anchor };
  });
}

/** Ids set by hand in HTML: <a name="x">, <span id="x">. */
function htmlAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/<[a-z][a-z0-9]*\s[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["'][^>]*>/gi)].map((m) => m[1]!);
}

export interface Link {
  line: number;
  /** The destination as written (angle brackets and title removed). */
  target: string;
  kind: "link" | "image" | "definition" | "html";
}

export interface LinkProblem {
  line: number;
  message: string;
}

/** Blanks code spans, keeping offsets, so nothing in them is taken for a link. */
function blankCodeSpans(text: string): string {
  return text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (m) => m.replace(/[^\n]/g, " "));
}

const INLINE = /(!?)\[((?:[^[\]\\]|\\.|\[(?:[^[\]\\]|\\.)*\])*)\]\(\s*(<[^>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const FULL_REFERENCE = /(!?)\[((?:[^[\]\\]|\\.)*)\]\[((?:[^[\]\\]|\\.)*)\]/g;
const DEFINITION = /^ {0,3}\[((?:[^[\]\\]|\\.)+)\]:[ \t]*(<[^>]*>|\S+)?/;
const HTML_LINK = /<(?:a|img|link|source)\s[^>]*?\b(?:href|src)\s*=\s*["']([^"']*)["']/gi;

function normalizeLabel(label: string): string {
  return label.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Links, images, reference links and definitions of a page, outside code, with the problems found in their syntax. */
export function extractLinks(markdown: string): { links: Link[]; problems: LinkProblem[] } {
  const lines = scanLines(markdown);
  const links: Link[] = [];
  const problems: LinkProblem[] = [];
  const definitions = new Set<string>();
  const blocks: Array<{ start: number; text: string }> = [];
  let current: { start: number; lines: string[] } | undefined;
  const flush = () => {
    if (current) blocks.push({ start: current.start, text: current.lines.join("\n") });
    current = undefined;
  };
  for (const l of lines) {
    if (l.code) {
      flush();
      continue;
    }
    const def = DEFINITION.exec(l.text);
    if (def) {
      flush();
      definitions.add(normalizeLabel(def[1]!));
      const target = (def[2] ?? "").replace(/^<(.*)>$/, "$1");
      if (!target) problems.push({ line: l.number, message: `reference definition [${def[1]}] has no destination` });
      else links.push({ line: l.number, target, kind: "definition" });
      continue;
    }
    if (l.text.trim() === "") {
      flush();
      continue;
    }
    current ??= { start: l.number, lines: [] };
    current.lines.push(l.text);
  }
  flush();

  for (const block of blocks) {
    const text = blankCodeSpans(block.text);
    const lineAt = (index: number) => block.start + (text.slice(0, index).match(/\n/g)?.length ?? 0);
    // Inline links are found first and blanked, so their text is not read again as a reference.
    const rest = text.replace(INLINE, (m, bang: string, label: string, dest: string, offset: number) => {
      const target = dest.replace(/^<(.*)>$/, "$1").trim();
      const line = lineAt(offset);
      if (!target) problems.push({ line, message: `empty ${bang ? "image" : "link"} destination in [${label.trim()}]()` });
      else links.push({ line, target, kind: bang ? "image" : "link" });
      // The label was read with code spans blanked; its text is the original's.
      const originalLabel = block.text.slice(offset + bang.length + 1, offset + bang.length + 1 + label.length);
      if (!bang && originalLabel.trim() === "") problems.push({ line, message: `link to ${target || "nothing"} has no text` });
      return m.replace(/[^\n]/g, " ");
    });
    rest.replace(FULL_REFERENCE, (m, _bang: string, label: string, ref: string, offset: number) => {
      const name = ref === "" ? label : ref;
      if (!definitions.has(normalizeLabel(name))) problems.push({ line: lineAt(offset), message: `reference [${name}] is not defined` });
      return m;
    });
    for (const m of text.matchAll(HTML_LINK)) {
      const target = m[1]!.trim();
      if (!target) problems.push({ line: lineAt(m.index), message: "empty href or src in HTML" });
      else links.push({ line: lineAt(m.index), target, kind: "html" });
    }
  }
  return { links, problems };
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

async function exists(path: string): Promise<"file" | "directory" | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? "directory" : "file";
  } catch {
    return undefined;
  }
}

/** Every Markdown file under root, outside the skipped directories, sorted. */
export async function markdownFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) await walk(join(dir, entry.name));
      } else if (entry.isFile() && /\.md$/i.test(entry.name)) {
        out.push(join(dir, entry.name));
      }
    }
  };
  await walk(root);
  return out.sort();
}

interface PageAnchors {
  anchors: Set<string>;
  /** Anchors that more than one heading could claim: the link lands on the first only. */
  ambiguous: Map<string, number>;
}

function pageAnchors(markdown: string): PageAnchors {
  const headings = headingAnchors(markdown);
  const anchors = new Set([...headings.map((h) => h.anchor), ...htmlAnchors(markdown)]);
  const ambiguous = new Map<string, number>();
  for (const h of headings) {
    const claimants = headings.filter((o) => o.base === h.base).length;
    if (claimants > 1) ambiguous.set(h.base, claimants);
    // "Foo", "Foo", "Foo 1": the second "Foo" takes foo-1, which "Foo 1" would be.
    if (h.anchor !== h.base && headings.some((o) => o.base === h.anchor)) ambiguous.set(h.anchor, 2);
  }
  return { anchors, ambiguous };
}

function decodePath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** Checks every Markdown file under root. */
export async function checkDocs(root: string): Promise<CheckResult> {
  const absRoot = resolve(root);
  const files = await markdownFiles(absRoot);
  const texts = new Map<string, string>();
  const anchorsCache = new Map<string, PageAnchors>();
  const read = async (path: string) => {
    let t = texts.get(path);
    if (t === undefined) {
      t = await readFile(path, "utf8");
      texts.set(path, t);
    }
    return t;
  };
  const anchorsOf = async (path: string) => {
    let a = anchorsCache.get(path);
    if (!a) {
      a = pageAnchors(await read(path));
      anchorsCache.set(path, a);
    }
    return a;
  };

  const problems: Problem[] = [];
  let linkCount = 0;
  for (const file of files) {
    const rel = relative(absRoot, file).split(sep).join("/");
    const { links, problems: syntax } = extractLinks(await read(file));
    for (const p of syntax) problems.push({ file: rel, ...p });
    for (const link of links) {
      linkCount++;
      const report = (message: string) => problems.push({ file: rel, line: link.line, message });
      if (isExternal(link.target)) continue;
      const hash = link.target.indexOf("#");
      const pathPart = (hash < 0 ? link.target : link.target.slice(0, hash)).replace(/\?.*$/, "");
      const anchor = hash < 0 ? undefined : link.target.slice(hash + 1);
      if (anchor === "") {
        report(`link ${link.target} has an empty anchor`);
        continue;
      }
      let target = file;
      if (pathPart !== "") {
        const decoded = decodePath(pathPart);
        if (decoded === undefined) {
          report(`link ${link.target} is not valid percent-encoding`);
          continue;
        }
        target = decoded.startsWith("/") ? join(absRoot, decoded) : resolve(dirname(file), decoded);
        if (target !== absRoot && !target.startsWith(absRoot + sep)) {
          report(`link ${link.target} points outside the repository`);
          continue;
        }
        const kind = await exists(target);
        if (!kind) {
          report(`link ${link.target}: ${relative(absRoot, target).split(sep).join("/")} does not exist`);
          continue;
        }
        if (kind === "directory" && anchor !== undefined) {
          // GitHub shows a directory's README.md, so the anchor is the README's.
          target = join(target, "README.md");
          if (!(await exists(target))) {
            report(`link ${link.target}: the directory has no README.md for the anchor`);
            continue;
          }
        }
      }
      if (anchor === undefined) continue;
      if (!/\.md$/i.test(target)) {
        if (!/^L\d+(-L\d+)?$/.test(anchor)) report(`link ${link.target}: only #L<line> anchors can be checked in a file that is not Markdown`);
        continue;
      }
      const decodedAnchor = decodePath(anchor) ?? anchor;
      const page = await anchorsOf(target);
      const where = target === file ? "this page" : relative(absRoot, target).split(sep).join("/");
      if (!page.anchors.has(decodedAnchor)) report(`link ${link.target}: no heading in ${where} has the anchor #${decodedAnchor}`);
      else if (page.ambiguous.has(decodedAnchor)) {
        report(`link ${link.target}: ${page.ambiguous.get(decodedAnchor)} headings in ${where} claim #${decodedAnchor}; the link lands on the first only: rename one`);
      }
    }
  }
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { files: files.length, links: linkCount, problems };
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join("\n");
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(import.meta.dirname, "..", "..");
  const result = await checkDocs(root);
  if (result.problems.length > 0) {
    process.stderr.write(`${formatProblems(result.problems)}\n\ndocs check: ${result.problems.length} problem(s) in ${result.files} Markdown files\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`docs check: ${result.files} Markdown files, ${result.links} links, no problems\n`);
  }
}
