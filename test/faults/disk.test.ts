// Targets that cannot take writes, made so by real mechanisms (the tests run as root, where
// chmod stops nothing): an artifact store on a full tmpfs, the same store remounted read-only,
// a git host directory on a full tmpfs, and one host repo whose objects directory is a regular
// file. Each run reports a clear error naming the path, publishes nothing that points at bytes
// the store does not hold, and once the target is restored the next run recovers completely.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArtifactsToml } from '../../src/artifacts/parse.js';
import { entryMatches, parseTriplet } from '../../src/artifacts/platform.js';
import { loadConfig } from '../../src/config.js';
import { repoNameFor } from '../../src/git/url.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { artifactIntegrity, git, listFiles, runCli, writeWorldConfig } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';

const MIRROR_URL = 'http://mirror.invalid:8080';
const tmp = tempDir('julia-airgap-disk-');
const mounts: string[] = [];
let world: World;
// mount needs root; as root, chmod would stop nothing, so these are the only honest faults.
const ROOT = process.getuid?.() === 0;

const run = promisify(execFile);

async function mountTmpfs(dir: string, size = '256k'): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
}

/** Fills a filesystem to the last byte with one file; returns its path (delete it to restore). */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < 1 << 16; i++) writeSync(fd, chunk); // bounded: 256 MiB at most
    throw new Error(`${dir} did not fill up`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // A few bytes may still fit in the last page; take them too.
  try {
    for (let i = 0; i < 4096; i++) writeFileSync(file, 'x', { flag: 'a' });
  } catch {
    // full
  }
  return file;
}

interface Setup {
  stateDir: string;
  gitPath: string;
  artPath: string;
  sync(later?: number): Promise<SyncReport>;
}

async function setup(name: string, o: { gitPath?: string; artPath?: string } = {}): Promise<Setup> {
  const stateDir = path.join(tmp.dir, `state-${name}`);
  const gitPath = o.gitPath ?? path.join(stateDir, 'mirror', 'git');
  const artPath = o.artPath ?? path.join(stateDir, 'mirror', 'artifacts');
  const cfg = path.join(tmp.dir, `${name}.toml`);
  writeWorldConfig(cfg, {
    registry: world.registryDir, stateDir, mirrorUrl: MIRROR_URL,
    git: [`path = ${JSON.stringify(gitPath)}`], artifacts: [`path = ${JSON.stringify(artPath)}`],
  });
  const config = await loadConfig(cfg);
  // `later` days on: past any retry backoff the ledger imposes after a failure.
  return { stateDir, gitPath, artPath, sync: (later = 0) => sync(config, { now: () => new Date(Date.now() + later * 86_400_000) }) };
}

/** package -> versions listed by the published fork (read from the host repo), {} if none. */
async function forkVersions(gitPath: string): Promise<Record<string, string[]>> {
  const dir = path.join(gitPath, 'General.git');
  if (!existsSync(dir)) return {};
  // A directory git does not take for a repository serves nothing either.
  const head = await git(['--git-dir', dir, 'for-each-ref', '--format=%(refname)', 'refs/heads/']).catch(() => '');
  if (!head) return {};
  const show = (p: string) => git(['--git-dir', dir, 'show', `${head.split('\n')[0]}:${p}`]);
  const out: Record<string, string[]> = {};
  const reg = await show('Registry.toml');
  for (const m of reg.matchAll(/name = "([^"]+)", path = "([^"]+)"/g)) {
    const versions = await show(`${m[2]}/Versions.toml`);
    out[m[1]!] = [...versions.matchAll(/^\["([^"]+)"\]/gm)].map((v) => v[1]!).sort();
  }
  return out;
}

/**
 * The fork never points at bytes the store lacks: every version it lists has, for every
 * non-lazy artifact of the selected platform, a patched URL whose file is in the store.
 */
async function assertForkBacked(s: Setup): Promise<number> {
  const dir = path.join(s.gitPath, 'General.git');
  const versions = await forkVersions(s.gitPath);
  const platforms = [parseTriplet('x86_64-linux-gnu')];
  let checked = 0;
  for (const [pkg, vs] of Object.entries(versions)) {
    const reg = await git(['--git-dir', dir, 'show', `HEAD:Registry.toml`]);
    const p = new RegExp(`name = "${pkg}", path = "([^"]+)"`).exec(reg)![1]!;
    const pkgToml = await git(['--git-dir', dir, 'show', `HEAD:${p}/Package.toml`]);
    const repoUrl = /repo = "([^"]+)"/.exec(pkgToml)![1]!;
    const hostRepo = path.join(s.gitPath, repoUrl.slice(`${MIRROR_URL}/git/`.length));
    const vt = await git(['--git-dir', dir, 'show', `HEAD:${p}/Versions.toml`]);
    for (const v of vs) {
      const tree = new RegExp(`\\["${v.replace(/[+.]/g, '\\$&')}"\\]\\ngit-tree-sha1 = "([0-9a-f]{40})"`).exec(vt)![1]!;
      const files = (await git(['--git-dir', hostRepo, 'ls-tree', '-r', '--name-only', tree])).split('\n').filter((f) => /(^|\/)(Julia)?Artifacts\.toml$/.test(f));
      for (const f of files) {
        const entries = parseArtifactsToml(await git(['--git-dir', hostRepo, 'show', `${tree}:${f}`]), `${pkg}@${v}:${f}`);
        for (const e of entries) {
          if (e.lazy || e.downloads.length === 0 || !entryMatches(e.platform, platforms)) continue;
          const present = e.downloads.filter((d) => d.url.startsWith(`${MIRROR_URL}/artifacts/`) && existsSync(path.join(s.artPath, d.url.slice(`${MIRROR_URL}/artifacts/`.length))));
          expect(present.length, `${pkg}@${v} ${e.name}: no download in the store`).toBeGreaterThan(0);
          checked++;
        }
      }
    }
  }
  return checked;
}

const COMPLETE = { Bar_jll: ['1.0.0+0'], Example: ['0.1.0', '0.2.0', '0.3.0'], Foo_jll: ['1.0.0+0', '1.1.0+0'], MonoA: ['1.0.0'], MonoB: ['1.0.0'], UsesFoo: ['0.1.0'] };

async function assertRecovered(s: Setup): Promise<void> {
  const r = await s.sync(2);
  expect(r.error, r.error?.message).toBeUndefined();
  expect(r.exitCode).toBe(3); // Bar_jll 2.0.0+0's artifact 404s in the world, always
  expect(r.counts.versionsKept).toBe(9);
  expect(await forkVersions(s.gitPath)).toEqual(COMPLETE);
  expect(await assertForkBacked(s)).toBe(4); // Foo 1.0.0, Foo 1.1.0 (its lazy one aside), Bar 1.0.0, MonoData
  expect(artifactIntegrity(path.join(s.stateDir, 'artifacts'), s.artPath).problems).toEqual([]);
  expect(listFiles(s.artPath).filter((f) => /(^|\/)\.tmp(-|\/)/.test(f))).toEqual([]);
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
});

afterAll(async () => {
  for (const m of mounts.reverse()) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => undefined));
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('an artifact store that cannot take the bytes', () => {
  it.skipIf(!ROOT)('full (tmpfs at 100%): artifacts fail naming the path; nothing unbacked is published; recovers once space is freed', async () => {
    const artPath = path.join(tmp.dir, 'art-full');
    await mountTmpfs(artPath);
    const filler = fill(artPath);
    const s = await setup('art-full', { artPath });
    const r = await s.sync();
    expect(r.exitCode).toBe(3);
    const storeFailures = r.failures.filter((f) => f.kind === 'artifact' && f.code === 'store-failed' && /ENOSPC|no space/i.test(f.reason));
    expect(storeFailures.length, JSON.stringify(r.failures, null, 1)).toBe(4);
    for (const f of storeFailures) expect(f.reason).toContain(artPath);
    // Only packages that need no artifact got in: Example (UsesFoo and MonoB lost their deps).
    expect(await forkVersions(s.gitPath)).toEqual({ Example: ['0.1.0', '0.2.0', '0.3.0'] });
    expect(listFiles(artPath).filter((f) => f !== 'filler'), 'half-written files in the store').toEqual([]);
    rmSync(filler);
    await assertRecovered(s);
  });

  it.skipIf(!ROOT)('read-only (tmpfs remounted ro): EROFS names the path; recovers once writable', async () => {
    const artPath = path.join(tmp.dir, 'art-ro');
    await mountTmpfs(artPath, '4m');
    await run('mount', ['-o', 'remount,ro', artPath]);
    const s = await setup('art-ro', { artPath });
    const r = await s.sync();
    expect(r.exitCode).toBe(3);
    const bad = r.failures.filter((f) => f.kind === 'artifact' && f.code === 'store-failed' && /EROFS|read-only/i.test(f.reason));
    expect(bad.length, JSON.stringify(r.failures, null, 1)).toBe(4);
    for (const f of bad) expect(f.reason).toContain(artPath);
    expect(await forkVersions(s.gitPath)).toEqual({ Example: ['0.1.0', '0.2.0', '0.3.0'] });
    await run('mount', ['-o', 'remount,rw', artPath]);
    await assertRecovered(s);
  });
});

describe('a git host that cannot take the objects', () => {
  it.skipIf(!ROOT)('full (tmpfs at 100%): fatal, names the path, publishes no fork; recovers once space is freed', async () => {
    const gitPath = path.join(tmp.dir, 'git-full');
    await mountTmpfs(gitPath, '1m');
    const filler = fill(gitPath);
    const s = await setup('git-full', { gitPath });
    const r = await s.sync();
    expect(r.exitCode).toBe(1);
    expect(r.error?.message).toContain(gitPath);
    expect(r.fork).toBeUndefined();
    expect(await forkVersions(s.gitPath)).toEqual({});
    rmSync(filler);
    await assertRecovered(s);
  });

  it('one repo whose objects directory is a file: its versions stay out, naming the repo; the rest is published; recovers', async () => {
    const s = await setup('git-objects-file');
    const name = repoNameFor(world.repoUrl('Foo_jll.jl'));
    const objects = path.join(s.gitPath, `${name}.git`, 'objects');
    // The repo exists as the host makes it, but its object store is a regular file.
    await git(['init', '--bare', '--quiet', path.join(s.gitPath, `${name}.git`)]);
    rmSync(objects, { recursive: true });
    writeFileSync(objects, 'not a directory\n');
    const r = await s.sync();
    expect(r.exitCode).toBe(3);
    const foo = r.failures.filter((f) => f.package === 'Foo_jll' && f.code === 'publish-failed');
    expect(foo.map((f) => f.version).sort()).toEqual(['1.0.0+0', '1.1.0+0']);
    for (const f of foo) expect(f.reason).toContain(name);
    // UsesFoo depends on Foo_jll and goes too; everything else is published.
    expect(await forkVersions(s.gitPath)).toEqual({ Bar_jll: ['1.0.0+0'], Example: ['0.1.0', '0.2.0', '0.3.0'], MonoA: ['1.0.0'], MonoB: ['1.0.0'] });
    expect(await assertForkBacked(s)).toBe(2);
    rmSync(objects);
    mkdirSync(objects);
    await assertRecovered(s);
  });
});

describe('a state dir that cannot take the lock', () => {
  it.skipIf(!ROOT)('full: the CLI exits 1 naming the lock file, leaves no unreadable lock, and runs once space is freed', async () => {
    const stateDir = path.join(tmp.dir, 'state-full');
    await mountTmpfs(stateDir, '64k');
    const filler = fill(stateDir);
    const cfg = path.join(tmp.dir, 'state-full.toml');
    writeWorldConfig(cfg, { registry: world.registryDir, stateDir, mirrorUrl: MIRROR_URL });
    const res = await runCli(['sync', '--config', cfg], { cwd: tmp.dir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${path.join(stateDir, 'lock')}: cannot write the sync lock`);
    expect(res.stderr).not.toContain('internal error');
    // A half-written lock would turn the next runs away as if a live run held it.
    expect(existsSync(path.join(stateDir, 'lock'))).toBe(false);
    rmSync(filler);
    await run('mount', ['-o', 'remount,size=64m', stateDir]);
    const again = await runCli(['sync', '--config', cfg], { cwd: tmp.dir });
    expect(again.code, again.stderr).toBe(3);
  });
});
