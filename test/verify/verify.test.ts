// `verify` against a real mirror: the world's upstream synced to `dir` targets, served by
// `julia-airgap serve`'s server, the upstream servers stopped. Each broken case works on its
// own `cp -a` copy of the published mirror. The fork's URLs (and the patched tree hashes)
// name the mirror's port, so each copy is served by its own startServer on that same port,
// one at a time.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { silentReporter } from '../../src/sync/report.js';
import { verify } from '../../src/verify/index.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, writeWorldConfig, type World } from '../fixtures/world.js';

const run = promisify(execFile);
const tmp = tempDir('julia-airgap-verify-');
const stateDir = path.join(tmp.dir, 'state');
const mirrorDir = path.join(stateDir, 'mirror');
const cfgFile = path.join(tmp.dir, 'airgap.toml');
const repoRoot = path.resolve(import.meta.dirname, '../..');
let world: World;
let config: Config;
let first: SyncReport;
let port = 0;
let served: { dir: string; server: RunningServer } | undefined;

// Asynchronous on purpose: the mirror server runs in this process.
async function git(args: string[], cwd?: string): Promise<string> {
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const { stdout } = await run('git', args, { cwd, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** Serves `dir` (a copy of state/mirror) on the mirror's port, replacing whatever served it before. */
async function serve(dir: string): Promise<string> {
  if (served?.dir === dir) return served.server.url;
  await served?.server.close();
  served = undefined;
  // The port was just released by this process; a few bounded retries cover a slow release.
  for (let attempt = 0; ; attempt++) {
    try {
      const server = await startServer({ host: '127.0.0.1', port, gitRoot: path.join(dir, 'git'), artifactsRoot: path.join(dir, 'artifacts') });
      served = { dir, server };
      return server.url;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const copies = new Map<string, Promise<string>>();
/** A fresh copy of the published mirror, broken by `mutate`; made once per name. */
function brokenCopy(name: string, mutate: (dir: string) => Promise<void>): Promise<string> {
  let p = copies.get(name);
  if (!p) {
    p = (async () => {
      const dir = path.join(tmp.dir, 'copies', name);
      mkdirSync(path.dirname(dir), { recursive: true });
      await run('cp', ['-a', mirrorDir, dir]);
      await mutate(dir);
      return dir;
    })();
    copies.set(name, p);
  }
  return p;
}

const artifactPath = (dir: string, key: string) => {
  const a = world.artifacts[key]!;
  return path.join(dir, 'artifacts', a.sha256, path.basename(a.route));
};

/** Commits an edit of the fork in a copy, the way a careless admin would: clone, change, push. */
async function editFork(copy: string, name: string, edit: (worktree: string) => void): Promise<void> {
  const wt = path.join(tmp.dir, 'edits', name);
  await git(['clone', '--quiet', path.join(copy, 'git', 'General.git'), wt]);
  edit(wt);
  await git(['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-am', name], wt);
  await git(['push', '--quiet', 'origin', 'HEAD'], wt);
}

const deletedBar = () => brokenCopy('deleted-artifact', async (dir) => rmSync(artifactPath(dir, 'Bar.v1.0.0.x86_64-linux-gnu')));

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'dist/src/cli.js'), ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  mkdirSync(path.join(mirrorDir, 'git'), { recursive: true });
  mkdirSync(path.join(mirrorDir, 'artifacts'), { recursive: true });
  const url = await serve(mirrorDir);
  port = served!.server.port;
  writeWorldConfig(cfgFile, { registry: world.registryDir, stateDir: 'state', mirrorUrl: url });
  config = await loadConfig(cfgFile);
  first = await sync(config);
  // From here on nothing upstream answers: verify must get by on the mirror alone.
  await world.close();
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await served?.server.close();
  tmp.cleanup();
});

/**
 * Bytes behind every distinct selected-platform URL the fork lists. Foo 1.0.0's two upstream
 * URLs have different file names, so two patched URLs; Foo 1.1.0's share one file name, so one.
 */
function expectedBytes(): number {
  const size = (k: string) => world.artifacts[k]!.bytes.length;
  return 2 * size('Foo.v1.0.0.x86_64-linux-gnu') + size('Foo.v1.1.0.x86_64-linux-gnu') + size('Bar.v1.0.0.x86_64-linux-gnu') + size('MonoData');
}

describe('verify on the good mirror', () => {
  it('the sync published a partial mirror (exit 3: Bar_jll 2.0.0+0 stays out)', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.versionsKept).toBe(9);
  });

  it('passes, with exact counts', async () => {
    const url = await serve(mirrorDir);
    const reporter = silentReporter();
    const r = await verify(config, { reporter });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.registryUrl).toBe(`${url}/git/General.git`);
    // 6 packages; 9 versions (Example 0.4.0 lost and Bar_jll 2.0.0+0 incomplete are not listed)
    // with 9 distinct trees; Artifacts.toml in Foo_jll x2, Bar_jll x1, MonoA's subtree x1;
    // linux artifacts Foo 1.0.0, Foo 1.1.0, FooLazy, Bar 1.0.0 and the platform-independent MonoData.
    expect(r.counts).toEqual({ packages: 6, versions: 9, trees: 9, artifactFiles: 4, artifacts: 5, bytes: expectedBytes() });
    // The lazy artifact upstream never had is reported, but a client survives it.
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('FooLazy');
    expect(r.warnings[0]).toContain('HTTP 404');
    expect(reporter.lines.some((l) => l.startsWith('done: artifacts:'))).toBe(true);
  });

  it('--quick passes too, counting the announced sizes', async () => {
    await serve(mirrorDir);
    const r = await verify(config, { quick: true, jobs: 2 });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.counts.bytes).toBe(expectedBytes());
  });

  it('keeps a given work dir, with the registry clone and without the package clones', async () => {
    await serve(mirrorDir);
    const work = path.join(tmp.dir, 'work');
    const r = await verify(config, { workDir: work, quick: true });
    expect(r.ok).toBe(true);
    const [sub, ...more] = readdirSync(work);
    expect(more).toEqual([]);
    expect(sub).toMatch(/^verify-/);
    expect(readdirSync(path.join(work, sub!)).sort()).toEqual(['registry.git', 'repos']);
    expect(readdirSync(path.join(work, sub!, 'repos'))).toEqual([]);
  });

  it('checks only the selected platforms unless told otherwise', async () => {
    await serve(mirrorDir);
    // aarch64 and Windows artifacts were never mirrored: asking for them must fail, naming them.
    const r = await verify(config, { quick: true, platforms: ['aarch64-linux-gnu'] });
    expect(r.ok).toBe(false);
    const arm = world.artifacts['Foo.v1.0.0.aarch64-linux-gnu']!;
    expect(r.failures.map((f) => [f.kind, f.package, f.version])).toContainEqual(['artifact', 'Foo_jll', '1.0.0+0']);
    expect(r.failures.find((f) => f.package === 'Foo_jll')!.url).toContain(`/artifacts/${arm.sha256}/`);
  });
});

describe('verify on broken copies of the mirror', () => {
  it('(a) a deleted artifact file: the failure names the artifact, its URL and its user', async () => {
    const url = await serve(await deletedBar());
    const bar = world.artifacts['Bar.v1.0.0.x86_64-linux-gnu']!;
    const r = await verify(config);
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect(f.kind).toBe('artifact');
    expect([f.package, f.version]).toEqual(['Bar_jll', '1.0.0+0']);
    expect(f.url).toBe(`${url}/artifacts/${bar.sha256}/Bar.v1.0.0.x86_64-linux-gnu.tar.gz`);
    expect(f.message).toContain('HTTP 404');
    expect(f.message).toContain('artifact Bar ');
  });

  it('(a) --quick catches the deleted artifact too', async () => {
    const url = await serve(await deletedBar());
    const bar = world.artifacts['Bar.v1.0.0.x86_64-linux-gnu']!;
    const r = await verify(config, { quick: true });
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => [f.kind, f.package, f.version, f.url])).toEqual([
      ['artifact', 'Bar_jll', '1.0.0+0', `${url}/artifacts/${bar.sha256}/Bar.v1.0.0.x86_64-linux-gnu.tar.gz`],
    ]);
  });

  it('(b) a corrupted artifact file (same size): a sha256 failure naming it', async () => {
    const dir = await brokenCopy('corrupt-artifact', async (d) => {
      const file = artifactPath(d, 'MonoData');
      const bytes = readFileSync(file);
      const mid = Math.floor(bytes.length / 2);
      for (let i = mid; i < mid + 16 && i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0xff;
      writeFileSync(file, bytes);
    });
    const url = await serve(dir);
    const mono = world.artifacts['MonoData']!;
    const r = await verify(config);
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect([f.kind, f.package, f.version]).toEqual(['artifact', 'MonoA', '1.0.0']);
    expect(f.url).toBe(`${url}/artifacts/${mono.sha256}/MonoData.tar.gz`);
    expect(f.message).toContain(`sha256 mismatch: expected ${mono.sha256}`);
    expect(f.message).toContain('MonoData');
  });

  it('(c) a deleted pin of a patched version: a tree failure naming Foo_jll 1.0.0+0 and its tree', async () => {
    const pin = 'refs/tags/julia-airgap/Foo_jll/1.0.0+0';
    let patchedTree = '';
    const dir = await brokenCopy('deleted-pin', async (d) => {
      const repos = readdirSync(path.join(d, 'git')).map((n) => path.join(d, 'git', n));
      const owners: string[] = [];
      for (const repo of repos) {
        const refs = await git(['--git-dir', repo, 'for-each-ref', '--format=%(refname)', pin]);
        if (refs === pin) owners.push(repo);
      }
      expect(owners).toHaveLength(1);
      patchedTree = await git(['--git-dir', owners[0]!, 'rev-parse', `${pin}^{tree}`]);
      await git(['--git-dir', owners[0]!, 'update-ref', '-d', pin]);
    });
    await serve(dir);
    // The object is still in the host's object store; only a ref reached it, as a client needs.
    expect(patchedTree).not.toBe(world.trees.Foo_jll!['1.0.0+0']);
    const r = await verify(config);
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect([f.kind, f.package, f.version]).toEqual(['tree', 'Foo_jll', '1.0.0+0']);
    expect(f.message).toContain(patchedTree);
    expect(f.message).toContain('not reachable');
    expect(r.counts.trees).toBe(8);
  });

  it('(d) Package.toml pointing at an unknown repo or outside the host: failures naming package and URL', async () => {
    let unknown = '';
    const outside = 'https://example.invalid/JuliaLang/Example.jl.git';
    const dir = await brokenCopy('foreign-repo', (d) =>
      editFork(d, 'foreign-repo', (wt) => {
        const usesFoo = path.join(wt, 'U/UsesFoo/Package.toml');
        const text = readFileSync(usesFoo, 'utf8');
        const current = /^repo = "(.*)"$/m.exec(text)![1]!;
        unknown = current.replace(/\/[^/]+\.git$/, '/no-such-repo.git');
        writeFileSync(usesFoo, text.replace(current, unknown));
        const example = path.join(wt, 'E/Example/Package.toml');
        writeFileSync(example, readFileSync(example, 'utf8').replace(/^repo = ".*"$/m, `repo = "${outside}"`));
      }),
    );
    await serve(dir);
    const r = await verify(config);
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => [f.kind, f.package, f.url])).toEqual([
      ['repo', 'Example', outside],
      ['repo', 'UsesFoo', unknown],
    ]);
    expect(r.failures[0]!.message).toContain('is not a repository under');
    expect(r.failures[1]!.message).toContain('cannot fetch');
    // the other four packages' versions are still all found
    expect(r.counts.trees).toBe(5);
  });

  it('(e) a version listing an unpatched tree: every upstream artifact URL is a failure, and none is contacted', async () => {
    const original = world.trees.Bar_jll!['1.0.0+0']!;
    const dir = await brokenCopy('unpatched-tree', (d) =>
      editFork(d, 'unpatched-tree', (wt) => {
        const file = path.join(wt, 'jll/B/Bar_jll/Versions.toml');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^git-tree-sha1 = ".*"$/m, `git-tree-sha1 = "${original}"`));
      }),
    );
    await serve(dir);
    const r = await verify(config);
    expect(r.ok).toBe(false);
    const upstreamUrl = `${world.artServer.url}${world.artifacts['Bar.v1.0.0.x86_64-linux-gnu']!.route}`;
    // Exactly this one failure: had verify tried the upstream URL (its server is stopped), an
    // 'artifact' failure for it would be listed too.
    expect(r.failures.map((f) => [f.kind, f.package, f.version, f.url])).toEqual([['artifact-url', 'Bar_jll', '1.0.0+0', upstreamUrl]]);
    expect(r.failures[0]!.message).toContain('Artifacts.toml artifact Bar (x86_64-linux-gnu)');
    expect(r.failures[0]!.message).toContain('outside the artifact mirror');
    // The original tree is still pinned on the host (for Manifests made outside), so it is found.
    expect(r.counts.trees).toBe(9);
  });

  it('a registry URL with nothing behind it is a registry failure naming the URL', async () => {
    const url = await serve(mirrorDir);
    const r = await verify(config, { registryUrl: `${url}/git/Nope.git` });
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => [f.kind, f.url])).toEqual([['registry', `${url}/git/Nope.git`]]);
    expect(r.failures[0]!.message).toContain('cannot clone');
    expect(r.counts.packages).toBe(0);
  });
});

describe('julia-airgap verify (CLI)', () => {
  it('builds first', () => {
    expect(existsSync(path.join(repoRoot, 'dist/src/commands/verify.js')), 'dist is missing verify: run `npm run build` (npm test does)').toBe(true);
  });

  it('--help describes the options with an example', async () => {
    const { code, stdout } = await runCli(['verify', '--help']);
    expect(code).toBe(0);
    for (const s of ['--quick', '--registry-url', '--jobs', '--json', '--config', 'verify --config airgap.toml']) expect(stdout).toContain(s);
  });

  it('exits 0 on the good mirror with a parseable --json report', async () => {
    await serve(mirrorDir);
    const { code, stdout } = await runCli(['verify', '--config', cfgFile, '--json']);
    const report = JSON.parse(stdout) as { ok: boolean; counts: { versions: number }; failures: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.counts.versions).toBe(9);
    expect(code).toBe(0);
  });

  it('exits 1 on a broken mirror, listing the failure', async () => {
    await serve(await deletedBar());
    const json = await runCli(['verify', '--config', cfgFile, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; failures: Array<{ kind: string; url: string }> };
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.kind)).toEqual(['artifact']);
    expect(report.failures[0]!.url).toContain('Bar.v1.0.0.x86_64-linux-gnu.tar.gz');
    const text = await runCli(['verify', '--config', cfgFile, '--quick']);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('failed [artifact]: artifact Bar');
    expect(text.stderr).toContain('verify FAILED: 1 problem(s)');
  });
});
