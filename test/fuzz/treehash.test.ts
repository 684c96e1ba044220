// Fuzzing the streaming tar tree hasher with a seeded generator. Random trees (unicode and
// spaced names, exec and non-exec modes, in-root symlinks incl. dangling ones and links to
// directories, hard links, empty directories, empty and multi-block files) are packed entry by
// entry with tar-stream in random order, optionally gzipped, and fed in random chunk sizes;
// the tree hash must equal `git write-tree` of the same tree on disk. Random byte mutations of
// such tarballs must end, within a per-case time limit, in a digest or an AirgapError.
// Reproduce a failure with FUZZ_SEED=<seed printed in the message>.

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestArchive } from '../../src/artifacts/treehash.js';
import { AirgapError } from '../../src/errors.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { gitWriteTree, packEntries, writeTree, type RawEntry, type TreeSpec } from '../fixtures/tarballs.js';
import { caseRng, mutate, SEED, type Rng } from './rng.js';

const ORACLE_CASES = 40;
const MUTATED_CASES = 300;
const CASE_TIMEOUT_MS = 10_000;
const tmp = tempDir('julia-airgap-fuzz-tar-');

afterAll(() => tmp.cleanup());

function segment(r: Rng, taken: Set<string>): string {
  for (;;) {
    const len = r.int(1, 12);
    let s = '';
    for (let i = 0; i < len; i++) s += r.pick([...'abcdefghijklmnopqrstuvwxyzABC0123456789-_ .', 'é', 'ü', '日', '本']);
    s = s.trim();
    if (s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git' || taken.has(s)) continue;
    taken.add(s);
    return s;
  }
}

interface Gen {
  spec: TreeSpec;
  entries: RawEntry[];
}

function genTree(r: Rng): Gen {
  const files: Record<string, { content: Buffer; mode: number }> = {};
  const symlinks: Record<string, string> = {};
  const hardlinks: Record<string, string> = {};
  const dirs: string[] = [];
  const walk = (dir: string, depth: number): void => {
    const taken = new Set<string>();
    const n = r.int(depth === 0 ? 1 : 0, 4);
    for (let i = 0; i < n; i++) {
      const p = dir ? `${dir}/${segment(r, taken)}` : segment(r, taken);
      const kind = depth < 3 ? r.int(0, 9) : r.int(0, 6);
      if (kind <= 5) {
        const size = r.pick([0, 1, r.int(2, 600), 511, 512, 513, r.int(1000, 70_000)]);
        files[p] = { content: r.bytes(size), mode: r.pick([0o644, 0o755, 0o744, 0o654, 0o600, 0o700]) };
      } else if (kind === 6) {
        symlinks[p] = '';
      } else {
        dirs.push(p);
        walk(p, depth + 1);
      }
    }
  };
  walk('', 0);
  // Symlink targets: another entry (file or directory) or a dangling name, always inside the root.
  const targets = [...Object.keys(files), ...dirs];
  for (const l of Object.keys(symlinks)) {
    const from = path.posix.dirname(l);
    const to = targets.length && r.bool(0.8) ? r.pick(targets) : `${from === '.' ? '' : from + '/'}missing-${r.hex(4)}`;
    symlinks[l] = path.posix.relative(from === '.' ? '' : from, to) || '.';
    if (symlinks[l] === '.' || to === l) delete symlinks[l];
  }
  const fileNames = Object.keys(files);
  for (let i = 0; i < r.int(0, 2) && fileNames.length; i++) {
    const d = dirs.length && r.bool() ? r.pick(dirs) : '';
    hardlinks[`${d ? d + '/' : ''}hard-${i}-${r.hex(4)}`] = r.pick(fileNames);
  }

  const body: RawEntry[] = [
    ...Object.entries(files).map(([name, f]) => ({ name, content: f.content, mode: f.mode })),
    ...Object.entries(symlinks).map(([name, linkname]) => ({ name, type: 'symlink' as const, linkname })),
  ];
  r.shuffle(body);
  // Directory entries: all, some or none, before their contents as tar writes them.
  const dirEntries: RawEntry[] = dirs.filter(() => r.bool(0.7)).map((name) => ({ name: r.bool(0.5) ? `${name}/` : name, type: 'directory' }));
  const entries = [...dirEntries, ...body, ...Object.entries(hardlinks).map(([name, linkname]) => ({ name, type: 'link' as const, linkname }))];
  if (r.bool(0.3)) for (const e of entries) e.name = `./${e.name}`;
  return { spec: { files, symlinks, hardlinks, dirs }, entries };
}

async function* chunks(r: Rng, bytes: Buffer): AsyncGenerator<Buffer> {
  let at = 0;
  while (at < bytes.length) {
    const n = r.pick([1, 7, 512, 4096, r.int(1, 100_000)]);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no result after ${CASE_TIMEOUT_MS} ms (hang)`)), CASE_TIMEOUT_MS);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

const bases: Buffer[] = [];

describe(`tar tree hash (seed ${SEED})`, () => {
  it(`${ORACLE_CASES} random trees: the streamed tree hash equals git write-tree`, async () => {
    const kinds = { symlink: 0, link: 0, exec: 0, big: 0 };
    for (let i = 0; i < ORACLE_CASES; i++) {
      const r = caseRng(i);
      const g = genTree(r);
      const dir = path.join(tmp.dir, `case-${i}`);
      await writeTree(dir, g.spec);
      const expected = await gitWriteTree(dir);
      await rm(dir, { recursive: true, force: true });
      const gzip = r.bool();
      const bytes = await packEntries(g.entries, gzip);
      if (bases.length < 12) bases.push(bytes);
      const where = `seed ${SEED} case ${i} (${gzip ? 'gz' : 'tar'}): ${JSON.stringify(g.entries.map((e) => [e.type ?? 'file', e.name, e.linkname ?? e.mode]))}`;
      const d = await withTimeout(digestArchive(chunks(r, bytes), `case-${i}`), where).catch((err: unknown) => {
        throw new Error(`${where}\n--> ${(err as Error).message}`);
      });
      expect(d.treeSha1, where).toBe(expected);
      expect(d.size, where).toBe(bytes.length);
      for (const e of g.entries) {
        if (e.type === 'symlink') kinds.symlink++;
        if (e.type === 'link') kinds.link++;
        if ((e.mode ?? 0) & 0o100 && (e.type ?? 'file') === 'file') kinds.exec++;
        if (Buffer.isBuffer(e.content) && e.content.length > 1000) kinds.big++;
      }
    }
    // The generator did cover each shape.
    for (const [k, v] of Object.entries(kinds)) expect(v, k).toBeGreaterThan(0);
  });

  it(`${MUTATED_CASES} byte-mutated tarballs: a digest or an AirgapError, never a hang or another error`, async () => {
    expect(bases.length).toBeGreaterThan(0);
    await mkdir(tmp.dir, { recursive: true });
    const outcomes = { digest: 0, refused: 0 };
    for (let i = 0; i < MUTATED_CASES; i++) {
      const r = caseRng(ORACLE_CASES + i);
      const bytes = mutate(r, r.pick(bases));
      const where = `seed ${SEED} mutated case ${ORACLE_CASES + i}`;
      const limits = { maxBytes: 1 << 20, maxUnpackedBytes: 8 << 20, maxEntries: 10_000 };
      try {
        await withTimeout(digestArchive(chunks(r, bytes), `case-${i}`, limits), where);
        outcomes.digest++;
      } catch (err) {
        if (!(err instanceof AirgapError)) throw new Error(`${where}: not an AirgapError: ${(err as Error)?.stack ?? String(err)}`);
        outcomes.refused++;
      }
    }
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.digest + outcomes.refused).toBe(MUTATED_CASES);
  });
});
