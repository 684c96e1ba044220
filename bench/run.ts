// `npm run bench`: timings as ratios against a baseline measured in the same run, so the
// figures mean the same on a fast or a slow machine. Nothing here asserts; it prints.
//
//   registry read   reading every package of General (reader + validation) vs parsing the same
//                   files with smol-toml alone
//   tree hash       digestArchive (sha256 + streaming git tree hash) of a tarball vs sha256 alone
//   repo fetch      fetchUpstream (every ref) of a generated repo vs `git clone --mirror`

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { parse as parseToml } from 'smol-toml';
import tar from 'tar-stream';
import { digestArchive } from '../src/artifacts/treehash.js';
import { ensureBareRepo, fetchUpstream } from '../src/git/mirror.js';
import { readPackage, readRegistryIndex } from '../src/registry/reader.js';
import { dirSource } from '../src/registry/source.js';

const run = promisify(execFile);

async function time(fn: () => Promise<unknown>, repeat = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

function row(name: string, ours: number, base: number, note: string): void {
  process.stdout.write(`${name.padEnd(14)} ${(ours / base).toFixed(2).padStart(6)}x baseline   (${ours.toFixed(0)} ms vs ${base.toFixed(0)} ms; ${note})\n`);
}

async function benchRegistry(tmp: string): Promise<void> {
  const data = path.resolve('..', 'shared', 'data', 'General-2024-04-04.tar.gz');
  if (!existsSync(data)) {
    process.stdout.write(`registry read  skipped: ${data} not found\n`);
    return;
  }
  await run('tar', ['-xzf', data, '-C', tmp]);
  const root = path.join(tmp, 'General');
  const files: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.toml') && /^(Package|Versions|Deps|WeakDeps|Registry)\.toml$/.test(e.name)) files.push(p);
    }
  };
  await walk(root);
  const base = await time(async () => {
    for (const f of files) parseToml(readFileSync(f, 'utf8'));
  }, 2);
  const ours = await time(async () => {
    const src = dirSource(root);
    const index = await readRegistryIndex(src);
    for (const uuid of index.packages.keys()) await readPackage(src, index, uuid);
  }, 2);
  row('registry read', ours, base, `${files.length} files; baseline: read + smol-toml parse`);
}

async function benchTreeHash(tmp: string): Promise<void> {
  const file = path.join(tmp, 'bench.tar.gz');
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), (await import('node:fs')).createWriteStream(file));
  for (let i = 0; i < 400; i++) {
    // half random (incompressible, like binaries), half text-like
    const buf = Buffer.concat([randomBytes(32 * 1024), Buffer.from('abcdefgh'.repeat(4 * 1024))]);
    pack.entry({ name: `dir${i % 20}/file${i}.bin`, mode: i % 3 ? 0o644 : 0o755 }, buf);
  }
  pack.finalize();
  await done;
  // The floor any verifier pays: sha256 of the compressed bytes, gunzip, sha1 of the content.
  const base = await time(async () => {
    const h = createHash('sha256');
    const s1 = createHash('sha1');
    const gunzip = createGunzip();
    gunzip.on('data', (c: Buffer) => s1.update(c));
    const ended = new Promise((r) => gunzip.on('end', r));
    for await (const chunk of createReadStream(file)) {
      h.update(chunk as Buffer);
      gunzip.write(chunk);
    }
    gunzip.end();
    await ended;
    h.digest('hex');
    s1.digest('hex');
  });
  const ours = await time(() => digestArchive(createReadStream(file), file));
  row('tree hash', ours, base, '400 files, 25 MiB unpacked; baseline: sha256 + gunzip + sha1');
}

async function benchFetch(tmp: string): Promise<void> {
  const src = path.join(tmp, 'src.git');
  await run('git', ['init', '-q', '--bare', src]);
  // 300 commits and 300 tags: a typical JLL-sized history, built with fast-import in one process.
  let stream = '';
  for (let i = 1; i <= 300; i++) {
    const content = `version ${i}\n${'x'.repeat(i * 10)}\n`;
    stream += `commit refs/heads/main\nmark :${i}\ncommitter b <b@x> ${1_700_000_000 + i} +0000\ndata 3\nc${i % 10}\n${i > 1 ? `from :${i - 1}\n` : ''}M 644 inline f.txt\ndata ${Buffer.byteLength(content)}\n${content}\nreset refs/tags/v${i}\nfrom :${i}\n\n`;
  }
  const fi = execFile('git', ['--git-dir', src, 'fast-import', '--quiet']);
  fi.stdin!.end(stream);
  await new Promise((r) => fi.on('exit', r));
  let n = 0;
  const base = await time(async () => {
    await run('git', ['clone', '-q', '--mirror', `file://${src}`, path.join(tmp, `m${n++}`)]);
  });
  const ours = await time(async () => {
    const dir = path.join(tmp, `o${n++}`);
    await ensureBareRepo(dir);
    await fetchUpstream(dir, src, { allowFile: true });
  });
  row('repo fetch', ours, base, '300 commits, 301 refs, local transport');
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'julia-airgap-bench-'));
  try {
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, '.keep'), '');
    process.stdout.write('julia-airgap benchmark (lower is better; baseline measured in this run)\n');
    await benchRegistry(tmp);
    await benchTreeHash(tmp);
    await benchFetch(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
