// Odd refs upstream: tags with unicode names, deep branch names, a branch starting with `-`,
// and tags named exactly like our pins (`julia-airgap/<Package>/<version>`, and `-original`),
// pointing at other commits. The odd names are mirrored as they are; the pin look-alikes are
// refused with a warning and never overwrite a pin, so every listed tree stays pinned.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { repoNameFor } from '../../src/git/url.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { checkForkFromClient, git, hostRefs, writeWorldConfig } from '../fixtures/cli.js';
import { gitSync, tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';
import { filesOutside } from './variant.js';

const tmp = tempDir('julia-airgap-hostile-refs-');
const stateDir = path.join(tmp.dir, 'state');
let world: World;
let mirror: RunningServer;
let report: SyncReport;
let refs: Record<string, string>;
let hostDir: string;

const ODD = ['refs/tags/vé-ünïcödé-✓', 'refs/heads/a/b/c', 'refs/heads/-dash', 'refs/tags/日本語'];
const FAKE_PINS = ['refs/tags/julia-airgap/Example/0.1.0', 'refs/tags/julia-airgap/Example/0.2.0-original', 'refs/tags/julia-airgap/Other/9.9.9'];

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  const up = path.join(world.root, 'upstream-git', 'Example.jl.git');
  // All odd refs point at the 0.2.0 commit; the fake pins are aimed at the wrong versions.
  const main = gitSync(up, ['rev-parse', 'refs/heads/main']);
  for (const r of [...ODD, ...FAKE_PINS]) gitSync(up, ['update-ref', r, main]);
  mkdirSync(path.join(stateDir, 'mirror', 'git'), { recursive: true });
  mirror = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(stateDir, 'mirror', 'git') });
  const cfg = path.join(tmp.dir, 'airgap.toml');
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir, mirrorUrl: mirror.url });
  const before = filesOutside(tmp.dir, [stateDir]);
  report = await sync(await loadConfig(cfg));
  expect(filesOutside(tmp.dir, [stateDir])).toEqual(before);
  hostDir = path.join(stateDir, 'mirror', 'git', `${repoNameFor(world.repoUrl('Example.jl'))}.git`);
  refs = (await hostRefs(path.join(stateDir, 'mirror', 'git')))[path.basename(hostDir)]!;
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await mirror?.close();
  tmp.cleanup();
});

describe('odd upstream refs', () => {
  it('mirrors unicode, deep and dash-led ref names as they are', () => {
    expect(report.exitCode).toBe(3);
    for (const r of ODD) expect(refs[r], r).toBeDefined();
  });

  it('never lets an upstream tag overwrite a pin, and says so', async () => {
    for (const v of ['0.1.0', '0.2.0', '0.3.0']) {
      const pin = `refs/tags/julia-airgap/Example/${v}`;
      expect(refs[pin], pin).toBeDefined();
      expect(await git(['--git-dir', hostDir, 'rev-parse', `${pin}^{tree}`]), pin).toBe(world.trees.Example![v]);
    }
    // Example is not patched, so it has no -original pins; the fake one must not appear either.
    expect(refs['refs/tags/julia-airgap/Example/0.2.0-original']).toBeUndefined();
    expect(refs['refs/tags/julia-airgap/Other/9.9.9']).toBeUndefined();
    const warned = report.warnings.filter((w) => w.includes('collides with the pin namespace'));
    for (const r of FAKE_PINS) expect(warned.some((w) => w.includes(r)), r).toBe(true);
  });

  it('a client clone of the mirror gets every listed tree', async () => {
    const fork = await checkForkFromClient(mirror.url, path.join(tmp.dir, 'client'));
    expect(fork.treesChecked).toBe(9);
    expect(Object.keys(fork.versions.Example ?? {}).sort()).toEqual(['0.1.0', '0.2.0', '0.3.0']);
  });

  it('a second sync after upstream re-aims its fake pins still leaves our pins alone', async () => {
    const up = path.join(world.root, 'upstream-git', 'Example.jl.git');
    const first = gitSync(up, ['rev-list', '--max-parents=0', 'refs/heads/main']);
    gitSync(up, ['update-ref', 'refs/tags/julia-airgap/Example/0.2.0', first]);
    const again = await sync(await loadConfig(path.join(tmp.dir, 'airgap.toml')), { full: true });
    expect(again.exitCode).toBe(3);
    expect(await git(['--git-dir', hostDir, 'rev-parse', 'refs/tags/julia-airgap/Example/0.2.0^{tree}'])).toBe(world.trees.Example!['0.2.0']);
  });
});
