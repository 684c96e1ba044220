// Crash safety: the built CLI is killed with SIGKILL (with every process it started, as a power
// cut would) at points detected from outside — a git fetch held open by a proxy in front of the
// upstream git server, an artifact download stalled by the server, a repo push and the registry
// push held by a pre-receive hook in the target repo. After each kill, a client of the served
// mirror sees nothing half-written; the next run takes over the dead run's lock and ends with
// exactly what an uninterrupted run (separate state dir) publishes.

import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { repoNameFor } from '../../src/git/url.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { sync } from '../../src/sync/pipeline.js';
import {
  artifactIntegrity, checkForkFromClient, descendants, git, hostRefs, killTree, listFiles, pidAlive, runCli, startCli, waitFor, writeWorldConfig, type ForkCheck,
} from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';

const tmp = tempDir('julia-airgap-crash-');
const mirrorGit = path.join(tmp.dir, 'mirror', 'git');
const mirrorArt = path.join(tmp.dir, 'mirror', 'artifacts');
let world: World;
let mirror: RunningServer;
let realGit: RunningServer;
let proxy: Server;
let reference: { refs: Record<string, Record<string, string>>; fork: ForkCheck };

/** Requests for git-upload-pack are held here while `hold` is on: a fetch that never ends. */
const gate = { hold: false, held: [] as ServerResponse[] };

/** Puts a holding proxy on the world's git port, in front of a fresh git server on the same repos. */
async function interposeProxy(): Promise<void> {
  const port = Number(new URL(world.gitServer.url).port);
  await world.gitServer.close();
  realGit = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(world.root, 'upstream-git') });
  const target = new URL(realGit.url);
  proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (gate.hold && req.url?.includes('git-upload-pack')) {
      gate.held.push(res);
      return;
    }
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(port, '127.0.0.1', resolve);
  });
}

function releaseGate(): void {
  gate.hold = false;
  for (const r of gate.held.splice(0)) r.destroy();
}

/** A bare repo made like the dir host makes it, whose pre-receive hook waits for a release file. */
async function blockingRepo(name: string, marks: string): Promise<void> {
  const dir = path.join(mirrorGit, `${name}.git`);
  await git(['init', '--bare', '--quiet', '--initial-branch=main', dir]);
  await git(['--git-dir', dir, 'config', 'http.receivepack', 'false']);
  await git(['--git-dir', dir, 'config', 'core.logAllRefUpdates', 'false']);
  writeFileSync(path.join(dir, 'git-daemon-export-ok'), '');
  mkdirSync(marks, { recursive: true });
  const hook = path.join(dir, 'hooks', 'pre-receive');
  // Bounded: even if the test forgot to release it, the hook gives up after ~60 s.
  writeFileSync(hook, `#!/bin/sh\ncat >/dev/null\ntouch '${marks}/entered'\ni=0\nwhile [ ! -e '${marks}/release' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nexit 0\n`, { mode: 0o755 });
}

function removeHook(name: string): void {
  rmSync(path.join(mirrorGit, `${name}.git`, 'hooks', 'pre-receive'), { force: true });
}

function scenarioConfig(name: string): { cfg: string; stateDir: string } {
  const stateDir = path.join(tmp.dir, name);
  const cfg = path.join(tmp.dir, `${name}.toml`);
  writeWorldConfig(cfg, {
    registry: world.registryDir, stateDir, mirrorUrl: mirror.url,
    git: [`path = ${JSON.stringify(mirrorGit)}`], artifacts: [`path = ${JSON.stringify(mirrorArt)}`],
    sync: ['retries = 1', 'timeout_seconds = 20'],
  });
  return { cfg, stateDir };
}

/** Empties the served mirror so each scenario starts from nothing, like a new installation. */
function resetMirror(): void {
  rmSync(path.join(tmp.dir, 'mirror'), { recursive: true, force: true });
  mkdirSync(mirrorGit, { recursive: true });
  mkdirSync(mirrorArt, { recursive: true });
}

/** What a client of the mirror must never see after a crash, checked from outside. */
async function assertNothingHalfVisible(label: string): Promise<void> {
  const integrity = artifactIntegrity(path.join(tmp.dir, 'unused-cache'), mirrorArt);
  expect(integrity.problems, label).toEqual([]);
  for (const f of listFiles(mirrorArt)) {
    if (!path.basename(f).startsWith('.')) continue;
    const res = await fetch(`${mirror.url}/artifacts/${f}`);
    await res.arrayBuffer();
    expect(res.status, `${label}: temp file ${f} is served`).toBe(404);
  }
  const fork = await checkForkFromClient(mirror.url, path.join(tmp.dir, `client-${label}`));
  if (fork.commit) expect(fork.treesChecked, label).toBeGreaterThan(0);
}

/** The dead run's lock is still there, naming the dead pid: the next run has to take it over. */
function assertStaleLock(stateDir: string, pid: number): void {
  expect(pidAlive(pid)).toBe(false);
  const lock = JSON.parse(readFileSync(path.join(stateDir, 'lock'), 'utf8')) as { pid: number };
  expect(lock.pid).toBe(pid);
}

/**
 * The next scheduled run comes minutes later. Git locks the kill left behind are then old, and
 * the run clears them; younger ones might belong to a git still finishing, and are left alone.
 */
function ageGitLocks(dirs: string[]): number {
  const then = new Date(Date.now() - 5 * 60_000);
  let n = 0;
  for (const d of dirs) {
    for (const f of listFiles(d)) {
      if (!f.endsWith('.lock') || f.includes('/objects/')) continue;
      utimesSync(path.join(d, f), then, then);
      n++;
    }
  }
  return n;
}

async function recoverAndCompare(label: string, cfg: string, stateDir: string): Promise<void> {
  ageGitLocks([mirrorGit, stateDir]);
  const res = await runCli(['sync', '--config', cfg], { cwd: tmp.dir });
  expect(res.stderr, label).not.toMatch(/holds the lock/);
  // Bar_jll 2.0.0+0's only artifact URL 404s in the world, so a complete run is a partial sync.
  expect(res.code, `${label}\n${res.stderr}`).toBe(3);
  expect(existsSync(path.join(stateDir, 'lock')), 'lock released').toBe(false);
  expect(await hostRefs(mirrorGit)).toEqual(reference.refs);
  const fork = await checkForkFromClient(mirror.url, path.join(tmp.dir, `client-${label}-after`));
  expect(fork.tree).toBe(reference.fork.tree);
  expect(fork.versions).toEqual(reference.fork.versions);
  // Nothing the dead run left behind lingers once a run has completed.
  expect([...listFiles(mirrorGit), ...listFiles(stateDir)].filter((f) => f.endsWith('.lock') && !f.includes('/objects/'))).toEqual([]);
  expect(listFiles(path.join(stateDir, 'artifacts', 'tmp')), 'in-flight downloads of the dead run').toEqual([]);
  const temps = [...listFiles(mirrorArt), ...listFiles(stateDir)].filter((f) => /(^|\/)\.tmp(-|\/)/.test(f));
  expect(temps, 'temp files').toEqual([]);
  expect(artifactIntegrity(path.join(stateDir, 'artifacts'), mirrorArt).problems).toEqual([]);
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  await interposeProxy();
  resetMirror();
  mirror = await startServer({ host: '127.0.0.1', port: 0, gitRoot: mirrorGit, artifactsRoot: mirrorArt });
  // The reference: an uninterrupted run with its own state dir and its own targets.
  const refCfg = path.join(tmp.dir, 'ref.toml');
  writeWorldConfig(refCfg, { registry: world.registryDir, stateDir: path.join(tmp.dir, 'ref'), mirrorUrl: mirror.url, sync: ['retries = 1', 'timeout_seconds = 20'] });
  const r = await sync(await loadConfig(refCfg));
  expect(r.exitCode).toBe(3);
  const refGit = path.join(tmp.dir, 'ref', 'mirror', 'git');
  const refServer = await startServer({ host: '127.0.0.1', port: 0, gitRoot: refGit });
  try {
    // Served under the same URLs as the scenario mirror would be, to read it as a client does.
    reference = { refs: await hostRefs(refGit), fork: await checkForkFromClient(refServer.url, path.join(tmp.dir, 'client-ref'), { publishedAs: mirror.url }) };
  } finally {
    await refServer.close();
  }
  expect(reference.fork.treesChecked).toBe(9);
  expect(Object.keys(reference.refs).length).toBe(6);
});

afterAll(async () => {
  releaseGate();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy?.closeAllConnections();
  await realGit?.close();
  await world?.artServer.close();
  await mirror?.close();
  tmp.cleanup();
});

describe('kill -9 mid-sync, then resync', () => {
  it('during a git fetch of a package repo', async () => {
    resetMirror();
    const { cfg, stateDir } = scenarioConfig('s-fetch');
    gate.hold = true;
    const run = startCli(['sync', '--config', cfg], { cwd: tmp.dir });
    try {
      await waitFor('a held upload-pack request', () => gate.held.length > 0 || run.child.exitCode !== null);
      expect(run.child.exitCode, run.output().stderr).toBeNull();
      killTree(run.pid);
    } finally {
      releaseGate();
    }
    await run.done;
    assertStaleLock(stateDir, run.pid);
    // Killed before anything was published.
    expect(await hostRefs(mirrorGit)).toEqual({});
    await assertNothingHalfVisible('fetch');
    await recoverAndCompare('fetch', cfg, stateDir);
  });

  it('during an artifact download', async () => {
    resetMirror();
    const { cfg, stateDir } = scenarioConfig('s-artifact');
    const route = world.artServer.routes[world.artifacts['Bar.v1.0.0.x86_64-linux-gnu']!.route]!;
    route.stallMs = 60_000;
    const run = startCli(['sync', '--config', cfg], { cwd: tmp.dir });
    try {
      await waitFor('a download in state/artifacts/tmp', () => listFiles(path.join(stateDir, 'artifacts', 'tmp')).length > 0 || run.child.exitCode !== null);
      expect(run.child.exitCode, run.output().stderr).toBeNull();
      killTree(run.pid);
    } finally {
      delete route.stallMs;
    }
    await run.done;
    assertStaleLock(stateDir, run.pid);
    expect(listFiles(path.join(stateDir, 'artifacts', 'tmp')).length).toBeGreaterThan(0);
    await assertNothingHalfVisible('artifact');
    await recoverAndCompare('artifact', cfg, stateDir);
  });

  it('between writing pins and publishing them', async () => {
    resetMirror();
    const { cfg, stateDir } = scenarioConfig('s-pins');
    const name = repoNameFor(world.repoUrl('Foo_jll.jl'));
    const marks = path.join(tmp.dir, 'marks-pins');
    await blockingRepo(name, marks);
    const run = startCli(['sync', '--config', cfg], { cwd: tmp.dir });
    try {
      await waitFor('the Foo_jll push to reach pre-receive', () => existsSync(path.join(marks, 'entered')) || run.child.exitCode !== null);
      expect(run.child.exitCode, run.output().stderr).toBeNull();
      // The pins exist in the cache, the host has none of them yet.
      const cachePins = await git(['--git-dir', path.join(stateDir, 'repos', `${name}.git`), 'for-each-ref', '--format=%(refname)', 'refs/tags/julia-airgap/']);
      expect(cachePins).toContain('refs/tags/julia-airgap/Foo_jll/1.0.0+0');
      killTree(run.pid);
    } finally {
      writeFileSync(path.join(marks, 'release'), '');
    }
    await run.done;
    removeHook(name);
    assertStaleLock(stateDir, run.pid);
    expect((await hostRefs(mirrorGit))[`${name}.git`]).toEqual({});
    await assertNothingHalfVisible('pins');
    await recoverAndCompare('pins', cfg, stateDir);
  });

  it('during the registry push, after the local fork branch moved', async () => {
    resetMirror();
    const { cfg, stateDir } = scenarioConfig('s-fork');
    const marks = path.join(tmp.dir, 'marks-fork');
    await blockingRepo('General', marks);
    const run = startCli(['sync', '--config', cfg], { cwd: tmp.dir });
    try {
      await waitFor('the registry push to reach pre-receive', () => existsSync(path.join(marks, 'entered')) || run.child.exitCode !== null);
      expect(run.child.exitCode, run.output().stderr).toBeNull();
      const local = await git(['--git-dir', path.join(stateDir, 'registry.git'), 'rev-parse', 'refs/heads/master^{tree}']);
      expect(local).toBe(reference.fork.tree);
      killTree(run.pid);
    } finally {
      writeFileSync(path.join(marks, 'release'), '');
    }
    await run.done;
    removeHook('General');
    assertStaleLock(stateDir, run.pid);
    // Every package repo is published, the fork is not: clients still see no registry.
    const refs = await hostRefs(mirrorGit);
    expect(refs['General.git']).toEqual({});
    expect(Object.keys(refs).length).toBe(6);
    await assertNothingHalfVisible('fork');
    expect((await checkForkFromClient(mirror.url, path.join(tmp.dir, 'client-fork-mid'))).commit).toBeUndefined();
    await recoverAndCompare('fork', cfg, stateDir);
  });

  it('only the CLI process killed (as the OOM killer does) mid registry push; its orphaned git finishes the push', async () => {
    resetMirror();
    const { cfg, stateDir } = scenarioConfig('s-orphan');
    const marks = path.join(tmp.dir, 'marks-orphan');
    // This time the tool creates General.git itself; git copies the hook in from a template
    // directory named in the environment, and the hook holds only pushes to General.git.
    const template = path.join(tmp.dir, 'template-orphan');
    mkdirSync(path.join(template, 'hooks'), { recursive: true });
    mkdirSync(marks, { recursive: true });
    writeFileSync(
      path.join(template, 'hooks', 'pre-receive'),
      `#!/bin/sh\ncat >/dev/null\ncase "$PWD" in */General.git) ;; *) exit 0 ;; esac\ntouch '${marks}/entered'\ni=0\nwhile [ ! -e '${marks}/release' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nexit 0\n`,
      { mode: 0o755 },
    );
    const run = startCli(['sync', '--config', cfg], { cwd: tmp.dir, env: { GIT_TEMPLATE_DIR: template } });
    let orphans: number[] = [];
    try {
      await waitFor('the registry push to reach pre-receive', () => existsSync(path.join(marks, 'entered')) || run.child.exitCode !== null);
      expect(run.child.exitCode, run.output().stderr).toBeNull();
      orphans = descendants(run.pid);
      expect(orphans.length).toBeGreaterThan(0);
      process.kill(run.pid, 'SIGKILL');
      await run.done;
    } finally {
      writeFileSync(path.join(marks, 'release'), '');
    }
    // The push goes on without its parent; wait (bounded) until every orphan is gone.
    await waitFor('the orphaned git processes to exit', () => orphans.every((p) => !pidAlive(p)), { timeoutMs: 30_000, intervalMs: 20 });
    removeHook('General');
    assertStaleLock(stateDir, run.pid);
    // Whether the orphan completed the push or not, a client sees a whole fork or none.
    await assertNothingHalfVisible('orphan');
    await recoverAndCompare('orphan', cfg, stateDir);
  });
});
