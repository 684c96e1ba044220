// Incremental resync on the world fixture: work proportional to what changed upstream, the
// ledger's backoff with a fake clock, a fixed upstream route picked up when its retry is due,
// and versions upstream removes staying in the fork.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { loadLedger, type LedgerItem } from '../../src/sync/ledger.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { loadState } from '../../src/sync/state.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';
import { commitRegistryFile, fakeClock, git, HOUR, writeConfig } from './helpers.js';

const tmp = tempDir('julia-airgap-resync-');
const stateDir = path.join(tmp.dir, 'state');
const clock = fakeClock(Date.parse('2030-01-01T00:00:00Z'));
let world: World;
let config: Config;
let first: SyncReport;

const BAR2 = `version:${UUIDS.Bar_jll}@2.0.0+0`;
const barRoute = () => world.artifacts['Bar.v2.0.0.x86_64-linux-gnu']!.route;

async function ledgerItems(): Promise<Map<string, LedgerItem>> {
  return new Map((await loadLedger(stateDir)).items.map((i) => [i.key, i]));
}

async function barArtifactItem(): Promise<LedgerItem | undefined> {
  return [...(await ledgerItems()).values()].find((i) => i.kind === 'artifact' && i.artifact === 'Bar');
}

/** The fork's Versions.toml of a package as published on the dir host. */
async function forkVersions(dir: string): Promise<string> {
  return git(['--git-dir', path.join(stateDir, 'mirror', 'git', 'General.git'), 'show', `refs/heads/master:${dir}/Versions.toml`]);
}

/** One sync, returning the report and the upstream git requests and artifact hits it caused. */
async function resync(opts: { full?: boolean; retryNow?: boolean } = {}) {
  const logBefore = world.gitLog.length;
  const hitsBefore = world.artServer.totalHits();
  const report = await sync(config, { now: clock.now, ...opts });
  return { report, gitRequests: world.gitLog.slice(logBefore), artifactHits: world.artServer.totalHits() - hitsBefore };
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  config = await writeConfig(tmp.dir, world.registryDir);
  first = await sync(config, { now: clock.now });
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('incremental resync', () => {
  it('the first sync fetches every repo and records the upstream commit', async () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.reposFetched).toBe(first.counts.repos);
    expect(first.counts.repos).toBe(5);
    const state = await loadState(stateDir);
    expect(state.upstream?.commit).toBe(await git(['--git-dir', world.registryDir, 'rev-parse', 'refs/heads/master']));
    expect(state.published?.[UUIDS.Example]).toBeDefined();
    const items = await ledgerItems();
    expect(items.get(BAR2)?.attempts).toBe(1);
    expect((await barArtifactItem())?.gone).toBe(true);
  });

  it('a resync with no upstream change fetches no repo and downloads no artifact', async () => {
    clock.advance(60_000);
    const before = await ledgerItems();
    const { report, gitRequests, artifactHits } = await resync();
    expect(report.error).toBeUndefined();
    expect(report.counts.packagesChanged).toBe(0);
    expect(report.counts.reposFetched).toBe(0);
    expect(gitRequests).toEqual([]);
    expect(artifactHits).toBe(0);
    expect(report.counts.artifactsDownloaded).toBe(0);
    // Bar_jll 2.0.0+0 and the lost Example 0.4.0 are not due: carried unchanged, still out, still exit 3.
    expect(report.exitCode).toBe(3);
    expect(report.counts.versionsDeferred).toBe(2);
    const after = await ledgerItems();
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [k, i] of after) expect(i, k).toEqual(before.get(k));
    expect(await forkVersions('jll/B/Bar_jll')).not.toContain('2.0.0+0');
  });

  it('a new upstream version refetches exactly its repo and publishes it', async () => {
    world.addExampleVersion();
    clock.advance(60_000);
    const { report, gitRequests, artifactHits } = await resync();
    expect(report.error).toBeUndefined();
    expect(report.counts.packagesChanged).toBe(1);
    expect(report.counts.reposFetched).toBe(1);
    expect(gitRequests.length).toBeGreaterThan(0);
    for (const line of gitRequests) expect(line).toContain('/git/Example.jl.git/');
    // Example has no artifacts: nothing is asked of the artifact server.
    expect(artifactHits).toBe(0);
    expect(report.fork?.created).toBe(true);
    expect(await forkVersions('E/Example')).toContain('["0.5.0"]');
    expect((await loadState(stateDir)).upstream?.commit).toBe(await git(['--git-dir', world.registryDir, 'rev-parse', 'refs/heads/master']));
  });

  it('a failed artifact is retried when due, with attempts counted', async () => {
    const item = (await ledgerItems()).get(BAR2)!;
    const art = (await barArtifactItem())!;
    // Both the version item and its (gone, so slower) artifact item must be due.
    clock.set(Math.max(Date.parse(item.nextRetry!), Date.parse(art.nextRetry!)) + 1000);
    const hits = world.artServer.hits[barRoute()] ?? 0;
    const { report } = await resync();
    expect(report.exitCode).toBe(3);
    expect(world.artServer.hits[barRoute()] ?? 0).toBeGreaterThan(hits);
    const after = await ledgerItems();
    expect(after.get(BAR2)?.attempts).toBe(2);
    expect(after.get(BAR2)?.firstSeen).toBe(item.firstSeen);
    expect((await barArtifactItem())?.attempts).toBe(2);
    // The lost Example 0.4.0 was due as well: its repo, and only its repo, was refetched.
    expect(report.counts.reposFetched).toBe(1);
  });

  it('is not retried while its nextRetry is in the future', async () => {
    clock.advance(HOUR);
    const before = await ledgerItems();
    // The version item itself is due again, but the artifact it needs (gone: 404) waits longer,
    // and the version waits for it rather than failing again on a known-dead URL.
    expect(Date.parse(before.get(BAR2)!.nextRetry!)).toBeLessThan(clock.get());
    expect(Date.parse((await barArtifactItem())!.nextRetry!)).toBeGreaterThan(clock.get());
    const hits = world.artServer.hits[barRoute()] ?? 0;
    const { report, gitRequests } = await resync();
    expect(world.artServer.hits[barRoute()] ?? 0).toBe(hits);
    expect(gitRequests).toEqual([]);
    expect((await ledgerItems()).get(BAR2)).toEqual(before.get(BAR2));
    expect(report.exitCode).toBe(3);
    expect(await forkVersions('jll/B/Bar_jll')).not.toContain('2.0.0+0');
  });

  it('--retry-now retries it anyway without refetching repos', async () => {
    clock.advance(60_000);
    const hits = world.artServer.hits[barRoute()] ?? 0;
    const { report } = await resync({ retryNow: true });
    expect(world.artServer.hits[barRoute()] ?? 0).toBeGreaterThan(hits);
    expect((await ledgerItems()).get(BAR2)?.attempts).toBe(3);
    // only the repo whose lost tree is in the ledger is refetched for its retry
    expect(report.counts.reposFetched).toBe(1);
  });

  it('--full refetches every repo', async () => {
    clock.advance(60_000);
    const { report, gitRequests } = await resync({ full: true });
    expect(report.counts.reposFetched).toBe(report.counts.repos);
    for (const repo of ['Example', 'Mono', 'Foo_jll', 'Bar_jll', 'UsesFoo']) {
      expect(gitRequests.some((l) => l.includes(`/git/${repo}.jl.git/`)), repo).toBe(true);
    }
    expect((await ledgerItems()).get(BAR2)?.attempts).toBe(4);
  });

  it('once upstream serves the artifact and the retry is due, the version is published and leaves the ledger', async () => {
    const bar = world.artifacts['Bar.v2.0.0.x86_64-linux-gnu']!;
    world.artServer.routes[bar.route] = { body: bar.bytes };
    const item = (await ledgerItems()).get(BAR2)!;
    const art = (await barArtifactItem())!;
    clock.set(Math.max(Date.parse(item.nextRetry!), Date.parse(art.nextRetry!)) + 1000);
    const { report } = await resync();
    expect(report.error).toBeUndefined();
    const after = await ledgerItems();
    expect(after.has(BAR2)).toBe(false);
    expect(await barArtifactItem()).toBeUndefined();
    expect(await forkVersions('jll/B/Bar_jll')).toContain('["2.0.0+0"]');
    // What is left is gone (the lost tree) or not blocking (the lazy artifact): exit 0.
    expect([...after.values()].every((i) => i.gone || !i.blocking)).toBe(true);
    expect(report.exitCode).toBe(0);
  });

  it('a version upstream removes stays in the fork as published; a yanked one stays, marked yanked', async () => {
    const before = await forkVersions('E/Example');
    const tree01 = /\["0\.1\.0"\]\ngit-tree-sha1 = "([0-9a-f]{40})"/.exec(before)?.[1];
    expect(tree01).toBeDefined();
    await commitRegistryFile(
      world.registryDir,
      'E/Example/Versions.toml',
      (t) => t.replace(/\["0\.1\.0"\]\ngit-tree-sha1 = "[0-9a-f]{40}"\n\n?/, '').replace(/(\["0\.2\.0"\]\ngit-tree-sha1 = "[0-9a-f]{40}"\n)/, '$1yanked = true\n'),
      Math.floor(clock.get() / 1000),
    );
    const upstreamText = await git(['--git-dir', world.registryDir, 'show', 'refs/heads/master:E/Example/Versions.toml']);
    expect(upstreamText).not.toContain('0.1.0');
    clock.advance(60_000);
    const { report } = await resync();
    expect(report.error).toBeUndefined();
    expect(report.counts.versionsRetained).toBe(1);
    const after = await forkVersions('E/Example');
    expect(after).toContain(`["0.1.0"]\ngit-tree-sha1 = "${tree01}"`);
    expect(after).toMatch(/\["0\.2\.0"\]\ngit-tree-sha1 = "[0-9a-f]{40}"\nyanked = true/);
    expect(after).toContain('["0.5.0"]');
  });
  it('a package upstream removes from Registry.toml stays in the fork, its files byte for byte', async () => {
    const forkRepo = path.join(stateDir, 'mirror', 'git', 'General.git');
    const show = (p: string) => git(['--git-dir', forkRepo, 'show', `refs/heads/master:${p}`]);
    const beforeVersions = await show('M/MonoA/Versions.toml');
    const beforePackage = await show('M/MonoA/Package.toml');
    await commitRegistryFile(world.registryDir, 'Registry.toml', (t) => t.replace(/^.*name = "MonoA".*\n/m, ''), Math.floor(clock.get() / 1000));
    expect(await git(['--git-dir', world.registryDir, 'show', 'refs/heads/master:Registry.toml'])).not.toContain('MonoA');
    clock.advance(60_000);
    const { report } = await resync();
    expect(report.error).toBeUndefined();
    // carried over exactly, so clients see no change at all
    expect(report.fork?.created).toBe(false);
    expect(report.warnings.join('\n')).toContain(`MonoA [${UUIDS.MonoA}] is no longer in the upstream registry`);
    const registry = await show('Registry.toml');
    expect(registry).toContain(`${UUIDS.MonoA} = { name = "MonoA", path = "M/MonoA" }`);
    expect(await show('M/MonoA/Versions.toml')).toBe(beforeVersions);
    expect(await show('M/MonoA/Package.toml')).toBe(beforePackage);
    // MonoB, which depends on it, is still listed too
    expect(registry).toContain('name = "MonoB"');
  });
  it('a published package whose upstream files turn malformed is kept as published, and so are its dependents', async () => {
    const forkRepo = path.join(stateDir, 'mirror', 'git', 'General.git');
    const show = (p: string) => git(['--git-dir', forkRepo, 'show', `refs/heads/master:${p}`]);
    const beforeVersions = await show('E/Example/Versions.toml');
    const beforeUses = await show('U/UsesFoo/Versions.toml');
    await commitRegistryFile(world.registryDir, 'E/Example/Versions.toml', (t) => t.replace('git-tree-sha1', 'git-tree-sha1 = "broken"\nx'), Math.floor(clock.get() / 1000));
    clock.advance(60_000);
    const { report } = await resync();
    expect(report.error).toBeUndefined();
    expect(report.warnings.join('\n')).toContain('E/Example/Versions.toml');
    expect(report.warnings.join('\n')).toContain(`Example [${UUIDS.Example}] has malformed registry files upstream; kept in the fork as published`);
    expect(report.failures.find((f) => f.key === `package:${UUIDS.Example}`)?.code).toBe('bad-registry-file');
    expect(await show('E/Example/Versions.toml')).toBe(beforeVersions);
    expect(await show('Registry.toml')).toContain('name = "Example"');
    expect(await show('U/UsesFoo/Versions.toml')).toBe(beforeUses);
  });
});
