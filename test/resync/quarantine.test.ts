// select.quarantine: a version registered upstream less than the window ago is held back (not a
// failure, exit code unaffected), reported, and published by the first sync after the window.
// The fixture's commits are dated 1700000000; the clock and the new registry commit are set
// relative to that.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { loadState } from '../../src/sync/state.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';
import { DAY, fakeClock, git, HOUR, redate, writeConfig } from './helpers.js';

const FIXTURE_TIME = 1700000000_000;
const tmp = tempDir('julia-airgap-quarantine-');
const stateDir = path.join(tmp.dir, 'state');
const clock = fakeClock(FIXTURE_TIME + 10 * DAY);
const registered = FIXTURE_TIME + 20 * DAY;
let world: World;
let config: Config;
let first: SyncReport;

async function forkExampleVersions(): Promise<string> {
  return git(['--git-dir', path.join(stateDir, 'mirror', 'git', 'General.git'), 'show', 'refs/heads/master:E/Example/Versions.toml']);
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  config = await writeConfig(tmp.dir, world.registryDir, ['quarantine = "3d"']);
  first = await sync(config, { now: clock.now });
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('quarantine', () => {
  it('holds nothing registered before the window', () => {
    expect(first.error).toBeUndefined();
    expect(first.counts.versionsQuarantined).toBe(0);
    expect(first.quarantined).toEqual([]);
    expect(first.counts.versionsKept).toBe(9);
  });

  it('holds a just-registered version: reported, not published, not a failure', async () => {
    world.addExampleVersion();
    // Upstream registered 0.5.0 at `registered` (the fixture dates every commit 1700000000).
    const reg = world.registryDir;
    const head = await git(['--git-dir', reg, 'rev-parse', 'refs/heads/master']);
    await redate(reg, await git(['--git-dir', reg, 'rev-parse', `${head}^{tree}`]), await git(['--git-dir', reg, 'rev-parse', `${head}^`]), registered / 1000);
    clock.set(registered + HOUR);
    const r = await sync(config, { now: clock.now });
    expect(r.error).toBeUndefined();
    expect(r.counts.versionsQuarantined).toBe(1);
    expect(r.quarantined).toEqual([
      { package: 'Example', uuid: UUIDS.Example, version: '0.5.0', registered: new Date(registered).toISOString(), releases: new Date(registered + 3 * DAY).toISOString() },
    ]);
    // Same exit code as without it (Bar_jll 2.0.0+0 still fails); held versions are not ledger items.
    expect(r.exitCode).toBe(3);
    expect(r.failures.some((f) => f.version === '0.5.0')).toBe(false);
    expect(await forkExampleVersions()).not.toContain('0.5.0');
    expect((await loadState(stateDir)).quarantined?.map((q) => q.version)).toEqual(['0.5.0']);
  });

  it('still holds it just before the window ends', async () => {
    clock.set(registered + 3 * DAY - 60_000);
    const r = await sync(config, { now: clock.now });
    expect(r.counts.versionsQuarantined).toBe(1);
    expect(await forkExampleVersions()).not.toContain('0.5.0');
  });

  it('publishes it once the clock passes the window', async () => {
    clock.set(registered + 3 * DAY + 60_000);
    const r = await sync(config, { now: clock.now });
    expect(r.error).toBeUndefined();
    expect(r.counts.versionsQuarantined).toBe(0);
    expect(r.quarantined).toEqual([]);
    expect(await forkExampleVersions()).toContain('["0.5.0"]');
    expect((await loadState(stateDir)).quarantined).toEqual([]);
  });
});
