// What a killed git leaves behind. Lock files (`<ref>.lock`, `packed-refs.lock`), planted from outside
// in a published host repo, a cache repo and the registry cache. Old ones must not block the
// periodic job forever: the next run clears them and updates those refs. Young ones may belong
// to a git orphaned by a run killed seconds ago that is still finishing, and are left alone.
// Repos half made by a killed `git init` are completed, not taken for whole ones.

import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { repoNameFor } from '../../src/git/url.js';
import { sync } from '../../src/sync/pipeline.js';
import { git, writeWorldConfig } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';

const tmp = tempDir('julia-airgap-locks-');
const stateDir = path.join(tmp.dir, 'state');
let world: World;
let config: Config;

function plant(file: string, ageSeconds: number): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'left by a killed git\n');
  const t = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(file, t, t);
  return file;
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  const cfg = path.join(tmp.dir, 'airgap.toml');
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir, mirrorUrl: 'http://mirror.invalid:8080' });
  config = await loadConfig(cfg);
  expect((await sync(config)).exitCode).toBe(3);
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('stale git lock files', () => {
  it('old ones are cleared and the refs behind them updated', async () => {
    const example = repoNameFor(world.repoUrl('Example.jl'));
    const foo = repoNameFor(world.repoUrl('Foo_jll.jl'));
    const hostExample = path.join(stateDir, 'mirror', 'git', `${example}.git`);
    const locks = [
      plant(path.join(hostExample, 'refs', 'heads', 'main.lock'), 120),
      plant(path.join(stateDir, 'repos', `${example}.git`, 'refs', 'upstream', 'heads', 'main.lock'), 120),
      plant(path.join(stateDir, 'repos', `${foo}.git`, 'refs', 'tags', 'julia-airgap', 'Foo_jll', '1.0.0+0.lock'), 120),
      plant(path.join(stateDir, 'registry.git', 'packed-refs.lock'), 120),
    ];
    world.addExampleVersion();
    const r = await sync(config, { full: true });
    expect(r.error, r.error?.message).toBeUndefined();
    expect(r.exitCode).toBe(3);
    expect(r.warnings.filter((w) => /rejected|lock/i.test(w))).toEqual([]);
    expect(r.counts.versionsKept).toBe(10);
    const upstreamMain = await git(['--git-dir', path.join(world.root, 'upstream-git', 'Example.jl.git'), 'rev-parse', 'refs/heads/main']);
    expect(await git(['--git-dir', hostExample, 'rev-parse', 'refs/heads/main'])).toBe(upstreamMain);
    for (const l of locks) expect(existsSync(l), l).toBe(false);
  });

  it('a young one is left alone (its git may still be running), and cleared once old', async () => {
    const hostExample = path.join(stateDir, 'mirror', 'git', `${repoNameFor(world.repoUrl('Example.jl'))}.git`);
    const young = plant(path.join(hostExample, 'refs', 'heads', 'main.lock'), 0);
    await sync(config, { full: true });
    expect(existsSync(young)).toBe(true);
    const t = new Date(Date.now() - 120_000);
    utimesSync(young, t, t);
    const r = await sync(config, { full: true });
    expect(existsSync(young)).toBe(false);
    expect(r.warnings.filter((w) => /rejected/i.test(w))).toEqual([]);
  });

  it('repos half made by a killed `git init` (host and cache) are completed and filled', async () => {
    const example = repoNameFor(world.repoUrl('Example.jl'));
    const host = path.join(stateDir, 'mirror', 'git', `${example}.git`);
    const cache = path.join(stateDir, 'repos', `${example}.git`);
    for (const [dir, keep] of [[host, ['HEAD']], [cache, ['HEAD', 'objects']]] as Array<[string, string[]]>) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(path.join(dir, 'objects'), { recursive: true });
      writeFileSync(path.join(dir, 'HEAD'), 'ref: refs/heads/main\n');
      if (!keep.includes('objects')) rmSync(path.join(dir, 'objects'), { recursive: true });
    }
    const r = await sync(config, { full: true });
    expect(r.error, r.error?.message).toBeUndefined();
    expect(r.exitCode).toBe(3);
    expect(r.counts.versionsKept).toBe(10);
    for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.5.0']) {
      expect(await git(['--git-dir', host, 'rev-parse', `refs/tags/julia-airgap/Example/${v}^{tree}`]), v).toBe(world.trees.Example![v]);
    }
  });
});
