// Upstream changes under a running mirror: one package repo has its history rewritten
// (force-pushed branch and tags, the pull-request ref gone), another is deleted outright. Every
// version published before stays installable from the mirror, and the report says what happened.

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { repoNameFor } from '../../src/git/url.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { checkForkFromClient, hostRefs, writeWorldConfig, type ForkCheck } from '../fixtures/cli.js';
import { makeUpstreamRepo, tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';

const tmp = tempDir('julia-airgap-gone-');
const stateDir = path.join(tmp.dir, 'state');
let world: World;
let mirror: RunningServer;
let config: Config;
let before: ForkCheck;
let after: SyncReport;

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  mkdirSync(path.join(stateDir, 'mirror', 'git'), { recursive: true });
  mkdirSync(path.join(stateDir, 'mirror', 'artifacts'), { recursive: true });
  mirror = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(stateDir, 'mirror', 'git'), artifactsRoot: path.join(stateDir, 'mirror', 'artifacts') });
  const cfg = path.join(tmp.dir, 'airgap.toml');
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir, mirrorUrl: mirror.url });
  config = await loadConfig(cfg);
  const first = await sync(config);
  expect(first.exitCode).toBe(3);
  before = await checkForkFromClient(mirror.url, path.join(tmp.dir, 'client-before'));
  expect(before.treesChecked).toBe(9);

  // Example.jl: history rewritten. Same tag names and branch, different commits and trees;
  // the PR ref that carried 0.3.0 is gone.
  const exampleDir = path.join(world.root, 'upstream-git', 'Example.jl.git');
  rmSync(exampleDir, { recursive: true, force: true });
  makeUpstreamRepo(exampleDir, {
    commits: [
      { id: 'n1', files: { 'Project.toml': 'name = "Example"\nversion = "0.1.0"\n', 'src/Example.jl': 'module Example # rewritten\nend\n' }, tags: ['v0.1.0'], parent: null },
      { id: 'n2', files: { 'Project.toml': 'name = "Example"\nversion = "0.2.0"\n', 'src/Example.jl': 'module Example # rewritten 2\nend\n' }, tags: ['v0.2.0'], refs: ['refs/heads/main'] },
    ],
  });
  // Bar_jll.jl: deleted upstream.
  rmSync(path.join(world.root, 'upstream-git', 'Bar_jll.jl.git'), { recursive: true, force: true });

  after = await sync(config, { full: true });
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await mirror?.close();
  tmp.cleanup();
});

describe('upstream rewritten or deleted after a sync', () => {
  it('keeps every published version installable from the mirror', async () => {
    expect(after.error).toBeUndefined();
    const now = await checkForkFromClient(mirror.url, path.join(tmp.dir, 'client-after'));
    expect(now.versions).toEqual(before.versions);
    expect(now.treesChecked).toBe(9);
    // Nothing was unpublished: the fork did not move.
    expect(after.fork?.commit).toBe(before.commit);
  });

  it('pins the old trees while the mirrored branch and tags follow upstream', async () => {
    const all = await hostRefs(path.join(stateDir, 'mirror', 'git'));
    const refs = all[`${repoNameFor(world.repoUrl('Example.jl'))}.git`]!;
    expect(refs['refs/tags/julia-airgap/Example/0.3.0']).toBeDefined();
    expect(refs['refs/tags/julia-airgap/Example/0.1.0']).toBeDefined();
    expect(refs['refs/heads/main']).toBeDefined();
  });

  it('says which repo is gone and that its published versions were kept', () => {
    const text = [...after.warnings, ...after.failures.map((f) => f.reason)].join('\n');
    const barUrl = world.repoUrl('Bar_jll.jl');
    const line = after.warnings.find((w) => w.includes(barUrl));
    expect(line, text).toBeDefined();
    expect(line).toMatch(/fetch failed/);
    expect(line).toMatch(/2 of 2 registered versions kept from earlier syncs/);
    // 2.0.0+0's tree is cached; it is still out for its missing artifact, not for the repo.
    const bar2 = after.failures.find((f) => f.key === `version:${UUIDS.Bar_jll}@2.0.0+0`);
    expect(bar2?.code).toBe('artifact-missing');
  });

  it('says which upstream refs were rewritten or deleted', () => {
    const exUrl = world.repoUrl('Example.jl');
    const line = after.warnings.find((w) => w.includes(exUrl) && /rewr/.test(w));
    expect(line, after.warnings.join('\n')).toBeDefined();
    for (const ref of ['refs/heads/main', 'refs/tags/v0.1.0', 'refs/tags/v0.2.0', 'refs/pull/1/head']) expect(line).toContain(ref);
  });
});
