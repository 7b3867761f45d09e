// The one error type of the template engine. Messages name a position in the
// template and the problem; they never contain the data being rendered.

export type TemplateErrorStage = "compile" | "render";

export class TemplateError extends Error {
  /** "compile": the template itself is wrong; "render": it failed on this data. */
  readonly stage: TemplateErrorStage;
  /** The problem, without the position prefix. */
  readonly problem: string;
  /** 1-based line of the offending token in the template, when known. */
  readonly line: number | undefined;
  /** 1-based column (in characters) of the offending token, when known. */
  readonly column: number | undefined;

  constructor(stage: TemplateErrorStage, problem: string, line?: number, column?: number) {
    const where = line === undefined ? "" : ` at ${line}:${column ?? 1}`;
    super(`username template${where}: ${problem}`);
    this.name = "TemplateError";
    this.stage = stage;
    this.problem = problem;
    this.line = line;
    this.column = column;
  }
}

/** Maps a byte offset in the (UTF-8) template to a 1-based line and column. */
export function positionOf(sourceBytes: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), sourceBytes.length);
  for (let i = 0; i < end; i++) {
    if (sourceBytes.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Columns count characters: skip UTF-8 continuation bytes.
  let column = 1;
  for (let i = lineStart; i < end; i++) {
    const b = sourceBytes.charCodeAt(i);
    if (b < 0x80 || b >= 0xc0) column++;
  }
  return { line, column };
}
