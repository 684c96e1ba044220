import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestArchive, emptyTreeSha1 } from '../../src/artifacts/treehash.js';
import { IntegrityError } from '../../src/errors.js';
import { HOSTILE, hasTool, makeArtifactTarball, packEntries, richSpec, type Compression } from '../fixtures/tarballs.js';
import { createHash } from 'node:crypto';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'treehash-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function* chunks(buf: Buffer, size = 777): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('digestArchive: parity with git write-tree', () => {
  const cases: [string, Compression][] = [
    ['gzip', 'gz'],
    ['plain tar', 'none'],
    ['xz', 'xz'],
    ['bzip2', 'bz2'],
    ['zstd', 'zst'],
  ];
  const tools: Record<Compression, string | undefined> = { gz: undefined, none: undefined, xz: 'xz', bz2: 'bzip2', zst: 'zstd' };
  for (const [label, comp] of cases) {
    const tool = tools[comp];
    const available = tool === undefined || hasTool(tool);
    it.skipIf(!available)(`rich tree (${label}): exec, owner-only exec, symlinks, hardlinks, empty dirs, .git`, async () => {
      const dir = await mkdtemp(join(work, `rich-${comp}-`));
      const t = await makeArtifactTarball(dir, richSpec(), comp);
      const d = await digestArchive(createReadStream(t.file), t.file);
      expect(d.treeSha1).toBe(t.treeSha1);
      expect(d.sha256).toBe(t.sha256);
      expect(d.size).toBe(t.bytes.length);
      expect(d.entries).toBeGreaterThan(10);
    });
  }

  it('pax format (long names as pax records)', async () => {
    const dir = await mkdtemp(join(work, 'pax-'));
    const t = await makeArtifactTarball(dir, richSpec(), 'gz', 'pax');
    const d = await digestArchive(createReadStream(t.file), t.file);
    expect(d.treeSha1).toBe(t.treeSha1);
  });

  it('small chunks from an async iterable give the same digest', async () => {
    const dir = await mkdtemp(join(work, 'chunks-'));
    const t = await makeArtifactTarball(dir);
    const d = await digestArchive(chunks(t.bytes, 13), 'mem');
    expect(d.treeSha1).toBe(t.treeSha1);
    expect(d.sha256).toBe(t.sha256);
  });

  it('a tree of only empty directories hashes to the empty tree', async () => {
    const dir = await mkdtemp(join(work, 'empty-'));
    const t = await makeArtifactTarball(dir, { dirs: ['a/b/c', 'd'] });
    const d = await digestArchive(createReadStream(t.file), t.file);
    expect(d.treeSha1).toBe(emptyTreeSha1());
    expect(t.treeSha1).toBe(emptyTreeSha1());
  });

  it('a large file is hashed while streaming', async () => {
    const dir = await mkdtemp(join(work, 'large-'));
    const big = Buffer.alloc(12 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 256;
    const t = await makeArtifactTarball(dir, { files: { 'lib/big.bin': big, 'x/y': 'z' } });
    const d = await digestArchive(createReadStream(t.file, { highWaterMark: 64 * 1024 }), t.file);
    expect(d.treeSha1).toBe(t.treeSha1);
    expect(d.unpackedSize).toBeGreaterThan(big.length);
  });

  it('later duplicates replace earlier ones; ./ prefixes and empty segments are normalised', async () => {
    const tarGz = await packEntries([
      { name: './a//b', content: 'first' },
      { name: 'a/b', content: 'second', mode: 0o755 },
      { name: 'a/./c', content: 'c' },
    ]);
    const expected = await packEntries([
      { name: 'a/b', content: 'second', mode: 0o755 },
      { name: 'a/c', content: 'c' },
    ]);
    const d1 = await digestArchive(chunks(tarGz), 'dup');
    const d2 = await digestArchive(chunks(expected), 'clean');
    expect(d1.treeSha1).toBe(d2.treeSha1);
  });

  it('trailing bytes after the gzip member are hashed but not parsed', async () => {
    const tarGz = await packEntries([{ name: 'a', content: 'x' }]);
    const plain = await digestArchive(chunks(tarGz), 'plain');
    const padded = Buffer.concat([tarGz, Buffer.alloc(100)]);
    const d = await digestArchive(chunks(padded), 'padded');
    expect(d.treeSha1).toBe(plain.treeSha1);
    expect(d.sha256).toBe(createHash('sha256').update(padded).digest('hex'));
  });
});

describe('digestArchive: hostile archives are refused, naming the entry', () => {
  for (const [name, c] of Object.entries(HOSTILE)) {
    it(name, async () => {
      const bytes = await packEntries(c.entries);
      const err = await digestArchive(chunks(bytes, 4096), `hostile-${name}.tar.gz`, c.limits).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toContain(`hostile-${name}.tar.gz`);
      expect((err as Error).message).toContain(c.mentions);
    });
  }

  it('refuses input over maxBytes', async () => {
    const bytes = await packEntries([{ name: 'a', content: Buffer.alloc(100_000, 1) }], false);
    await expect(digestArchive(chunks(bytes), 'big', { maxBytes: 10_000 })).rejects.toThrow(/exceeds the limit of 10000 bytes/);
  });

  it('refuses corrupt gzip and non-tar bytes', async () => {
    const good = await packEntries([{ name: 'a', content: 'x' }]);
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 20, 60);
    await expect(digestArchive(chunks(corrupt), 'corrupt.tar.gz')).rejects.toBeInstanceOf(IntegrityError);
    await expect(digestArchive(chunks(gzipSync(Buffer.alloc(5000, 0x41))), 'junk.tar.gz')).rejects.toThrow(/junk\.tar\.gz/);
    await expect(digestArchive(chunks(Buffer.alloc(0)), 'empty')).rejects.toThrow(/empty/);
  });

  it('names the missing decompressor', async () => {
    const dir = await mkdtemp(join(work, 'notool-'));
    const t = await makeArtifactTarball(dir, { files: { a: 'x' } }, hasTool('xz') ? 'xz' : 'gz');
    if (!t.file.endsWith('.xz')) return;
    const saved = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-bin');
    try {
      await expect(digestArchive(chunks(t.bytes), 'a.tar.xz')).rejects.toThrow(/needs the "xz" command/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it.skipIf(!hasTool('xz'))('refuses corrupt xz with the tool error', async () => {
    const xzMagic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
    await expect(digestArchive(chunks(xzMagic), 'bad.tar.xz')).rejects.toThrow(/bad\.tar\.xz.*xz/);
  });
});
