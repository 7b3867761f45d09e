// Types for build.mjs, so that TypeScript scripts (release.ts) can use it.
import type { Metafile } from "esbuild";

export interface BuildTarget {
  name: string;
  entry: string;
}

export interface BuildOptions {
  nodePath?: string;
  out?: string;
  useCodeCache?: boolean;
  log?: (line: string) => void;
}

export interface BuiltExecutable {
  path: string;
  sha256: string;
  metafile: Metafile;
  bundle: string;
}

export const TARGETS: BuildTarget[];
export function gitCommit(): string;
export function nodeBinary(platform?: string): string;
export function buildExecutable(target: BuildTarget, options?: BuildOptions): Promise<BuiltExecutable>;
