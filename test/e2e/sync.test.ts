// End to end: a real upstream (git over smart HTTP, artifacts over HTTP, a registry repo), a
// sync to `dir` targets, the mirror served by `julia-airgap serve`'s server, and an independent
// check with plain git and plain HTTP after the upstream servers are stopped.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { loadLedger } from '../../src/sync/ledger.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { gitWriteTree } from '../fixtures/tarballs.js';
import { LOST_TREE, makeWorld, UUIDS, writeWorldConfig, type World } from '../fixtures/world.js';

const tmp = tempDir('julia-airgap-e2e-');
let world: World;
let mirror: RunningServer;
let config: Config;
let first: SyncReport;
const stateDir = path.join(tmp.dir, 'state');

// Asynchronous on purpose: the mirror server runs in this process, and a synchronous child
// would block the event loop that has to answer it.
async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } });
  return stdout.trim();
}

/** Every file under the object stores of the given repos: any new object shows up here. */
function objectFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

function repoObjectDirs(): string[] {
  const roots = [path.join(stateDir, 'mirror', 'git'), path.join(stateDir, 'repos')];
  const dirs = roots.flatMap((r) => readdirSync(r).map((n) => path.join(r, n, 'objects')));
  return [...dirs, path.join(stateDir, 'registry.git', 'objects')];
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  mkdirSync(path.join(stateDir, 'mirror', 'git'), { recursive: true });
  mkdirSync(path.join(stateDir, 'mirror', 'artifacts'), { recursive: true });
  mirror = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(stateDir, 'mirror', 'git'), artifactsRoot: path.join(stateDir, 'mirror', 'artifacts') });
  const cfg = path.join(tmp.dir, 'airgap.toml');
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir: 'state', mirrorUrl: mirror.url });
  config = await loadConfig(cfg);
  first = await sync(config, { now: () => new Date() });
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await mirror?.close();
  tmp.cleanup();
});

describe('sync to dir targets', () => {
  it('publishes what is complete and reports the rest (exit 3)', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.packagesSelected).toBe(6);
    expect(first.counts.packagesKept).toBe(6);
    // Example 0.4.0 is lost upstream, Bar_jll 2.0.0+0's artifact 404s.
    expect(first.counts.versionsLost).toBe(1);
    expect(first.counts.versionsKept).toBe(9);
    expect(first.counts.versionsPatched).toBe(4);
    expect(first.warnings.join('\n')).toContain(LOST_TREE);
    expect(first.fork?.created).toBe(true);
  });

  it('never asks for artifacts of platforms that were not selected', () => {
    expect(world.artServer.hits[world.artifacts['Foo.v1.0.0.aarch64-linux-gnu']!.route] ?? 0).toBe(0);
    expect(world.artServer.hits[world.artifacts['Foo.v1.0.0.x86_64-w64-mingw32']!.route] ?? 0).toBe(0);
    // the 404 URL and the wrong-bytes URL were tried before the good ones
    expect(world.artServer.hits['/missing/Foo.tar.gz']).toBeGreaterThan(0);
    expect(world.artServer.hits['/bad/Foo.v1.1.0.x86_64-linux-gnu.tar.gz']).toBeGreaterThan(0);
  });

  it('records failures in the ledger: blocking, lazy, and gone', async () => {
    const ledger = await loadLedger(stateDir);
    const byKey = new Map(ledger.items.map((i) => [i.key, i]));
    const bar2 = byKey.get(`version:${UUIDS.Bar_jll}@2.0.0+0`);
    expect(bar2?.code).toBe('artifact-missing');
    expect(bar2?.blocking).toBe(true);
    const lost = byKey.get(`version:${UUIDS.Example}@0.4.0`);
    expect(lost?.code).toBe('lost-upstream');
    expect(lost?.gone).toBe(true);
    const lazy = ledger.items.find((i) => i.kind === 'artifact' && i.artifact === 'FooLazy');
    expect(lazy?.blocking).toBe(false);
    // the wrong bytes were never stored under any name
    const stored = objectFiles([path.join(stateDir, 'artifacts')]).filter((f) => !f.includes(`${path.sep}tmp${path.sep}`));
    for (const f of stored) {
      const sha = createHash('sha256').update(readFileSync(f)).digest('hex');
      expect(path.basename(f)).toBe(sha);
    }
  });

  it('a second sync with no upstream change adds no commit and writes no object', async () => {
    const before = objectFiles(repoObjectDirs());
    const again = await sync(config);
    expect(again.exitCode).toBe(3);
    expect(again.fork?.commit).toBe(first.fork?.commit);
    expect(again.fork?.created).toBe(false);
    expect(again.counts.reposPushed).toBe(0);
    expect(objectFiles(repoObjectDirs())).toEqual(before);
  });

  it('a resync picks up a new upstream version with one fast-forward commit', async () => {
    world.addExampleVersion();
    const next = await sync(config);
    expect(next.exitCode).toBe(3);
    expect(next.fork?.created).toBe(true);
    const forkRepo = path.join(stateDir, 'mirror', 'git', 'General.git');
    expect(await git(['--git-dir', forkRepo, 'rev-parse', `${next.fork!.commit}^`])).toBe(first.fork!.commit);
    expect(await git(['--git-dir', forkRepo, 'log', '-1', '--format=%B', next.fork!.commit])).toContain('julia-airgap: fork of');
  });
});

describe('independent check from the inside (upstream stopped)', () => {
  const client = path.join(tmp.dir, 'client');
  let registry: string;

  beforeAll(async () => {
    await world.close();
    mkdirSync(client, { recursive: true });
    registry = path.join(client, 'General');
    await git(['clone', '--quiet', `${mirror.url}/git/General.git`, registry]);
  });

  it('the fork is pruned and points only at the internal host', () => {
    const reg = parseToml(readFileSync(path.join(registry, 'Registry.toml'), 'utf8')) as { repo: string; name: string; uuid: string; packages: Record<string, { name: string }> };
    expect(reg.repo).toBe(`${mirror.url}/git/General.git`);
    expect(reg.name).toBe('Upstream');
    expect(reg.uuid).toBe(UUIDS.registry);
    expect(Object.values(reg.packages).map((p) => p.name).sort()).toEqual(['Bar_jll', 'Example', 'Foo_jll', 'MonoA', 'MonoB', 'UsesFoo']);
    expect(statSync(path.join(registry, '.tree_info.toml'), { throwIfNoEntry: false })).toBeUndefined();
    const monoA = parseToml(readFileSync(path.join(registry, 'M/MonoA/Package.toml'), 'utf8')) as Record<string, string>;
    expect(monoA.repo.startsWith(`${mirror.url}/git/`)).toBe(true);
    expect(monoA.subdir).toBe('lib/MonoA');
    const versions = (p: string) => Object.keys(parseToml(readFileSync(path.join(registry, p, 'Versions.toml'), 'utf8'))).sort();
    expect(versions('E/Example')).toEqual(['0.1.0', '0.2.0', '0.3.0', '0.5.0']);
    expect(versions('jll/B/Bar_jll')).toEqual(['1.0.0+0']);
    expect(versions('jll/F/Foo_jll')).toEqual(['1.0.0+0', '1.1.0+0']);
    // untouched files stay byte-identical to upstream
    expect(readFileSync(path.join(registry, 'M/MonoB/Deps.toml'), 'utf8')).toContain(`MonoA = "${UUIDS.MonoA}"`);
  });

  it('every listed tree (and every original tree) is reachable after a shallow then full fetch', async () => {
    let checked = 0;
    for (const dir of ['E/Example', 'M/MonoA', 'M/MonoB', 'jll/F/Foo_jll', 'jll/B/Bar_jll', 'U/UsesFoo']) {
      const pkg = parseToml(readFileSync(path.join(registry, dir, 'Package.toml'), 'utf8')) as { name: string; repo: string };
      const versions = parseToml(readFileSync(path.join(registry, dir, 'Versions.toml'), 'utf8')) as Record<string, { 'git-tree-sha1': string }>;
      const clone = path.join(client, 'clones', pkg.name);
      await git(['clone', '--quiet', '--bare', '--depth=1', pkg.repo, clone]);
      await git(['--git-dir', clone, 'fetch', '--quiet', '--unshallow', pkg.repo, '+refs/*:refs/remotes/cache/*']);
      expect(await git(['--git-dir', clone, 'for-each-ref', '--format=%(refname)'])).not.toContain('refs/remotes/cache/pull/');
      for (const [v, info] of Object.entries(versions)) {
        expect(await git(['--git-dir', clone, 'cat-file', '-t', info['git-tree-sha1']]), `${pkg.name} ${v}`).toBe('tree');
        const original = world.trees[pkg.name]![v]!;
        expect(await git(['--git-dir', clone, 'cat-file', '-t', original]), `${pkg.name} ${v} original`).toBe('tree');
        checked++;
      }
    }
    expect(checked).toBe(10);
  });

  it('patched versions list new trees; their artifacts download from the mirror with matching hashes', async () => {
    const versions = parseToml(readFileSync(path.join(registry, 'jll/F/Foo_jll/Versions.toml'), 'utf8')) as Record<string, { 'git-tree-sha1': string }>;
    const tree = versions['1.0.0+0']!['git-tree-sha1'];
    expect(tree).not.toBe(world.trees.Foo_jll!['1.0.0+0']);
    const clone = path.join(client, 'clones', 'Foo_jll');
    const toml = await git(['--git-dir', clone, 'show', `${tree}:Artifacts.toml`]);
    const parsed = parseToml(toml) as Record<string, Array<{ 'git-tree-sha1': string; arch: string; download: Array<{ url: string; sha256: string }> }>>;
    const urls = Object.values(parsed).flat().flatMap((e) => e.download.map((d) => d.url));
    expect(urls.length).toBe(4);
    for (const u of urls) expect(u.startsWith(`${mirror.url}/artifacts/`)).toBe(true);
    const linux = parsed.Foo!.find((e) => e.arch === 'x86_64')!;
    const expected = world.artifacts['Foo.v1.0.0.x86_64-linux-gnu']!;
    expect(linux['git-tree-sha1']).toBe(expected.treeSha1);
    for (const d of linux.download) {
      const res = await fetch(d.url);
      if (res.status !== 200) continue; // the upstream 404 URL maps to bytes nobody has
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(d.sha256);
      const out = path.join(client, 'unpacked-foo');
      mkdirSync(out, { recursive: true });
      writeFileSync(path.join(client, 'foo.tar.gz'), bytes);
      execFileSync('tar', ['-xzf', path.join(client, 'foo.tar.gz'), '-C', out]);
      expect(await gitWriteTree(out)).toBe(linux['git-tree-sha1']);
      return;
    }
    throw new Error('no download URL of the linux artifact was served by the mirror');
  });

  it('subdir packages are patched in their subtree', async () => {
    const versions = parseToml(readFileSync(path.join(registry, 'M/MonoA/Versions.toml'), 'utf8')) as Record<string, { 'git-tree-sha1': string }>;
    const tree = versions['1.0.0']!['git-tree-sha1'];
    expect(tree).not.toBe(world.trees.MonoA!['1.0.0']);
    const toml = await git(['--git-dir', path.join(client, 'clones', 'MonoA'), 'show', `${tree}:JuliaArtifacts.toml`]);
    expect(toml).toContain(`${mirror.url}/artifacts/`);
    expect(toml).not.toContain(world.artServer.url);
    // everything else in the subtree is byte-identical
    const ls = async (t: string) => (await git(['--git-dir', path.join(client, 'clones', 'MonoA'), 'ls-tree', '-r', t])).split('\n').filter((l) => !l.endsWith('JuliaArtifacts.toml'));
    expect(await ls(tree)).toEqual(await ls(world.trees.MonoA!['1.0.0']!));
  });
});
