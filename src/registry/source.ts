// Where registry files come from. The reader only ever asks for registry-relative paths, so
// the same code reads a checkout on disk, a git tree (via cat-file) or an in-memory fixture.
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { InputError } from '../errors.js';

export interface FileSource {
  /** Text of the file at a registry-relative `/`-separated path, or undefined if absent. */
  readText(path: string): Promise<string | undefined>;
  /** A human location for messages, e.g. `/tmp/General/E/Example/Versions.toml`. */
  describe(path: string): string;
}

/**
 * Why a registry-relative path is unsafe, or undefined if it is fine. Registry contents are
 * untrusted input: a `path` or `subdir` of `../x` or `/etc` must never reach the filesystem
 * or a git pathspec.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  for (const seg of path.split('/')) {
    if (seg === '') return 'has an empty segment';
    if (seg === '..') return 'contains ".."';
    if (seg === '.') return 'contains "."';
    if (seg.toLowerCase() === '.git') return 'contains ".git"';
  }
  return undefined;
}

/**
 * Reads a registry checkout on disk. Reads are synchronous on purpose: General is ~43k files
 * of a few hundred bytes, and fs/promises pays four thread-pool round trips per file
 * (measured here: reading every package took ~5 s async, ~1.4 s sync). Control returns to the
 * event loop every few dozen reads, so timers and sockets of other stages keep running.
 */
export function dirSource(root: string): FileSource {
  const base = nodePath.resolve(root);
  const full = (path: string) => nodePath.join(base, ...path.split('/'));
  let reads = 0;
  return {
    async readText(path) {
      const why = unsafePathReason(path);
      if (why) throw new InputError(nodePath.join(base, '<registry>'), `refusing to read path ${JSON.stringify(path)}: it ${why}`);
      if (++reads % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        return readFileSync(full(path), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new InputError(full(path), `cannot read: ${(err as Error).message}`, { cause: err });
      }
    },
    describe(path) {
      return unsafePathReason(path) ? `${base}/${JSON.stringify(path)}` : full(path);
    },
  };
}

/** A source over a fixed set of files; `label` prefixes locations (`label:path`). */
export function memorySource(files: Readonly<Record<string, string>> | ReadonlyMap<string, string>, label = 'memory'): FileSource {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return {
    async readText(path) {
      const why = unsafePathReason(path);
      if (why) throw new InputError(`${label}:<registry>`, `refusing to read path ${JSON.stringify(path)}: it ${why}`);
      return map.get(path);
    },
    describe(path) {
      return `${label}:${path}`;
    },
  };
}
