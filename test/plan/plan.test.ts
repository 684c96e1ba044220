// `plan` against the world fixture (a real upstream over HTTP): before a sync nothing is cached,
// so artifacts cannot be counted and the plan says so; after a sync the cached trees give
// artifact counts per platform, and --sizes gives the tarball sizes.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPlanSummary } from '../../src/commands/plan.js';
import { loadConfig, type Config } from '../../src/config.js';
import { plan, type PlanReport } from '../../src/plan/index.js';
import { sync } from '../../src/sync/pipeline.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, writeWorldConfig, type World } from '../fixtures/world.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const tmp = tempDir('julia-airgap-plan-test-');
const stateDir = path.join(tmp.dir, 'state');
let world: World;
let config: Config;

const planTemps = () => readdirSync(tmpdir()).filter((n) => n.startsWith('julia-airgap-plan-') && !n.startsWith('julia-airgap-plan-test-'));

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  const cfg = path.join(tmp.dir, 'airgap.toml');
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir: 'state' });
  config = await loadConfig(cfg);
}, 60_000);

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('plan on the world fixture', () => {
  let before: PlanReport;

  it('before any sync: selection and repos, artifacts unknown, nothing written', async () => {
    const tempsBefore = planTemps();
    before = await plan(config);
    expect(before.registry.source).toBe('fetched');
    expect(before.registry.name).toBe('Upstream');
    expect(before.registry.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(before.packages).toBe(6);
    expect(before.versions).toBe(11);
    expect(before.yanked).toBe(0);
    expect(before.repos).toBe(5);
    expect(before.reposCached).toBe(0);
    expect(before.reposToFetch).toBe(5);
    expect(before.versionsCached).toBe(0);
    expect(before.artifacts.total).toBe(0);
    expect(before.artifacts.byPlatform).toEqual([]);
    const mono = before.repoList.find((r) => r.url.endsWith('/Mono.jl.git'));
    expect(mono?.packages.sort()).toEqual(['MonoA', 'MonoB']);
    expect(formatPlanSummary(before)).toContain('artifacts: unknown until 5 repos are fetched');
    // Read-only: no state dir, and the temporary registry repo is gone.
    expect(existsSync(stateDir)).toBe(false);
    expect(planTemps()).toEqual(tempsBefore);
    // The package repos were not contacted (only the registry, which is a local path here).
    expect(world.artServer.totalHits()).toBe(0);
  });

  it('after a sync: artifacts per platform from the cached trees, state untouched', async () => {
    const report = await sync(config);
    expect(report.counts.repos).toBe(5);
    const stateFile = path.join(stateDir, 'state.json');
    const ledgerFile = path.join(stateDir, 'ledger.json');
    const stateText = readFileSync(stateFile, 'utf8');
    const ledgerText = readFileSync(ledgerFile, 'utf8');
    const stateMtime = statSync(stateFile).mtimeMs;
    const hits = world.artServer.totalHits();

    const after = await plan(config);
    expect(after.registry.source).toBe('state-cache');
    expect(after.registry.commit).toBe(before.registry.commit);
    expect(after.packages).toBe(6);
    expect(after.versions).toBe(11);
    expect(after.reposCached).toBe(5);
    // Example 0.4.0 is lost upstream: its tree is not cached, so its repo would be fetched again.
    expect(after.reposToFetch).toBe(1);
    expect(after.repoList.filter((r) => r.missingTrees > 0).map((r) => r.url)).toEqual([world.repoUrl('Example.jl')]);
    expect(after.versionsCached).toBe(10);
    expect(after.versionsNotCached).toBe(1);
    // Foo 1.0 and 1.1, FooLazy (lazy), Bar 1 and 2 for linux; MonoData for any platform.
    expect(after.artifacts.byPlatform).toEqual([
      { platform: 'any', artifacts: 1, lazy: 0 },
      { platform: 'x86_64-linux-gnu', artifacts: 5, lazy: 1 },
    ]);
    expect(after.artifacts.total).toBe(6);
    expect(after.artifacts.lazy).toBe(1);
    expect(after.artifacts.sizes).toBeUndefined();
    const text = formatPlanSummary(after);
    expect(text).toMatch(/x86_64-linux-gnu\s+5 \(1 lazy\)/);
    expect(text).toContain('1 versions in 1 repos are not cached yet');

    expect(readFileSync(stateFile, 'utf8')).toBe(stateText);
    expect(readFileSync(ledgerFile, 'utf8')).toBe(ledgerText);
    expect(statSync(stateFile).mtimeMs).toBe(stateMtime);
    // Without --sizes the plan downloads nothing.
    expect(world.artServer.totalHits()).toBe(hits);
  }, 120_000);

  it('--sizes: cached tarballs by their size on disk, others by HEAD; failures reported', async () => {
    const a = world.artifacts;
    const arm = a['Foo.v1.0.0.aarch64-linux-gnu']!;
    const win = a['Foo.v1.0.0.x86_64-w64-mingw32']!;
    // Platforms no sync downloaded: served now, so their size must come from the server.
    world.artServer.routes[arm.route] = { body: arm.bytes };
    world.artServer.routes[win.route] = { body: win.bytes };
    const all: Config = { ...config, select: { ...config.select, platforms: undefined } };

    const r = await plan(all, { sizes: true });
    expect(r.platforms).toBe('all');
    expect(r.artifacts.byPlatform.map((p) => [p.platform, p.artifacts])).toEqual([
      ['aarch64-linux-gnu', 1],
      ['any', 1],
      ['x86_64-linux-gnu', 5],
      ['x86_64-w64-mingw32', 1],
    ]);
    const byTree = new Map((r.artifacts.sizes ?? []).map((s) => [s.treeSha1, s]));
    expect(byTree.get(arm.treeSha1)).toMatchObject({ bytes: arm.bytes.length, from: 'head', url: `${world.artServer.url}${arm.route}` });
    expect(byTree.get(win.treeSha1)).toMatchObject({ bytes: win.bytes.length, from: 'head' });
    for (const name of ['Foo.v1.0.0.x86_64-linux-gnu', 'Foo.v1.1.0.x86_64-linux-gnu', 'Bar.v1.0.0.x86_64-linux-gnu', 'MonoData']) {
      expect(byTree.get(a[name]!.treeSha1), name).toMatchObject({ bytes: a[name]!.bytes.length, from: 'cache' });
    }
    // Never stored, and their only URL 404s: reported with the URL, not fatal.
    for (const name of ['Bar.v2.0.0.x86_64-linux-gnu', 'FooLazy.v1.1.0.x86_64-linux-gnu']) {
      const s = byTree.get(a[name]!.treeSha1)!;
      expect(s.bytes).toBeUndefined();
      expect(s.error).toContain(`${world.artServer.url}${a[name]!.route}: HTTP 404`);
    }
    const linux = r.artifacts.byPlatform.find((p) => p.platform === 'x86_64-linux-gnu')!;
    const linuxKnown = ['Foo.v1.0.0.x86_64-linux-gnu', 'Foo.v1.1.0.x86_64-linux-gnu', 'Bar.v1.0.0.x86_64-linux-gnu'].reduce((t, k) => t + a[k]!.bytes.length, 0);
    expect(linux.bytes).toBe(linuxKnown);
    expect(linux.unknownSizes).toBe(2);
    expect(r.artifacts.bytes).toBe(linuxKnown + arm.bytes.length + win.bytes.length + a.MonoData!.bytes.length);
    expect(formatPlanSummary(r)).toContain(`size unknown: Bar (x86_64-linux-gnu): ${world.artServer.url}${a['Bar.v2.0.0.x86_64-linux-gnu']!.route}: HTTP 404`);
  }, 60_000);

  // Asynchronous child: the world's servers run in this process and must keep answering.
  it('CLI: readable summary, --json, and --help with an example', async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
    const text = await run(['plan', '--config', config.file]);
    expect(text.stdout).toContain('packages: 6; versions: 11 (0 yanked)');
    expect(text.stdout).toContain('repos: 5 distinct, 5 in the state cache, 1 to fetch');
    expect(text.stdout).toMatch(/x86_64-linux-gnu\s+5 \(1 lazy\)/);
    const json = JSON.parse((await run(['plan', '--config', config.file, '--json'])).stdout) as PlanReport;
    expect(json.versions).toBe(11);
    expect(json.artifacts.total).toBe(6);
    const help = (await run(['plan', '--help'])).stdout;
    for (const opt of ['--config', '--sizes', '--json']) expect(help).toContain(opt);
    expect(help).toMatch(/Examples:\n\s+julia-airgap plan --config airgap.toml/);
  }, 60_000);
});
