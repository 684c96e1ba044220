// The real sync pipeline publishing the world fixture into a Gitea contract fake (real git over
// smart HTTP behind it), then an independent check with plain git from the fake's clone URLs.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { startFakeGitea, type FakeGitea } from '../fakes/gitea.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';
import { allRefs, capturingReporter, checkFork, filesUnder, gitA, worldConfig } from './helpers.js';

const TOKEN = 'gtea_5ecret_c0ffee_d00d_feed_0123456789';
const ENV_NAME = 'JULIA_AIRGAP_TEST_GITEA_TOKEN';
const tmp = tempDir('julia-airgap-gitea-');
let world: World;
let gitea: FakeGitea;
let config: Config;
let first: SyncReport;
let firstLog: string;
const env = { ...process.env, [ENV_NAME]: TOKEN };
const gitSection = (owner: string) => ['kind = "gitea"', `url = "${gitea.url}"`, `owner = "${owner}"`, `token_env = "${ENV_NAME}"`, 'visibility = "public"'];

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  gitea = await startFakeGitea(path.join(tmp.dir, 'gitea'), TOKEN);
  config = await worldConfig(tmp.dir, world, gitSection('julia'));
  const cap = capturingReporter();
  first = await sync(config, { env, reporter: cap.reporter });
  firstLog = cap.text();
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await gitea?.close();
  tmp.cleanup();
});

describe('sync into Gitea', () => {
  it('creates the organisation and one public repo per upstream repo plus the fork, through the API', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.versionsKept).toBe(9);
    expect(first.fork?.url).toBe(`${gitea.url}/julia/General.git`);
    expect(gitea.orgs.get('julia')?.visibility).toBe('public');
    const names = [...gitea.repos.values()].map((r) => r.name).sort();
    expect(names).toContain('General');
    expect(names.length).toBe(6); // Example, Mono, Foo_jll, Bar_jll, UsesFoo, General
    for (const r of gitea.repos.values()) expect(r.private).toBe(false);
    const creates = gitea.requests.filter((r) => r.method === 'POST' && r.path === '/orgs/julia/repos');
    expect(creates.length).toBe(6);
    for (const c of creates) expect((c.body as { auto_init: boolean }).auto_init).toBe(false);
  });

  it('sets the fork default branch to the registry branch', async () => {
    expect(gitea.repos.get('julia/general')?.default_branch).toBe('master');
    expect(await gitA(['--git-dir', path.join(gitea.root, 'julia', 'General.git'), 'symbolic-ref', 'HEAD'])).toBe('refs/heads/master');
  });

  it('pushes heads, tags and pins only: never refs/pull/* or refs/for/*', async () => {
    const refs = await allRefs(gitea.root);
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) expect(r).toMatch(/ refs\/(heads|tags)\//);
    expect(refs.some((r) => r.includes('refs/tags/julia-airgap/Example/0.3.0'))).toBe(true);
  });

  it('every listed tree is reachable by cloning from the forge with plain git', async () => {
    const { registry, checked } = await checkFork(first.fork!.url, world, path.join(tmp.dir, 'client'));
    expect(checked).toBe(9);
    const reg = readFileSync(path.join(registry, 'Registry.toml'), 'utf8');
    expect(reg).toContain(`repo = "${gitea.url}/julia/General.git"`);
    const example = readFileSync(path.join(registry, 'E/Example/Package.toml'), 'utf8');
    expect(example).toMatch(new RegExp(`repo = "${gitea.url}/julia/[^"]+\\.git"`));
  });

  it('a second sync makes no API writes and pushes nothing', async () => {
    const writes = gitea.writes().length;
    const pushes = gitea.receivePacks.length;
    const again = await sync(config, { env });
    expect(again.exitCode).toBe(3);
    expect(again.fork?.created).toBe(false);
    expect(gitea.writes().length).toBe(writes);
    expect(gitea.receivePacks.length).toBe(pushes);
  });

  it('the token never reaches logs, the report, the state dir or the fork', async () => {
    expect(firstLog).toContain('registry'); // the capture works
    expect(firstLog).not.toContain(TOKEN);
    expect(JSON.stringify(first)).not.toContain(TOKEN);
    const needle = Buffer.from(TOKEN);
    const b64 = Buffer.from(`x:${TOKEN}`).toString('base64').slice(4, 20);
    for (const f of [...filesUnder(config.stateDir), ...filesUnder(path.join(tmp.dir, 'client'))]) {
      const bytes = readFileSync(f);
      expect(bytes.includes(needle), f).toBe(false);
      expect(bytes.includes(Buffer.from(b64)), f).toBe(false);
    }
    // packed objects are compressed: ask git for every blob of the fork's history
    const forkRepo = path.join(gitea.root, 'julia', 'General.git');
    const history = await gitA(['--git-dir', forkRepo, 'log', '-p', '--all', '--format=%B']);
    expect(history).toContain(UUIDS.Example);
    expect(history).not.toContain(TOKEN);
    // and git never saw it on a command line: the fake only ever got it in headers
    for (const r of gitea.requests) expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});

describe('Gitea failures', () => {
  it('a refused token stops the run after one API call (exit 1, status named)', async () => {
    const before = gitea.requests.length;
    const pushes = gitea.receivePacks.length;
    gitea.script.unauthorized = true;
    try {
      const cfg = await worldConfig(tmp.dir, world, gitSection('julia-401'), 'state-401');
      const rep = await sync(cfg, { env: { ...process.env, [ENV_NAME]: 'wrong-token-value' } });
      expect(rep.exitCode).toBe(1);
      expect(rep.error?.code).toBe('auth');
      expect(rep.error?.message).toContain('HTTP 401');
      expect(rep.error?.message).toContain('token is required');
      expect(rep.error?.message).not.toContain('wrong-token-value');
      expect(gitea.requests.length - before).toBe(1);
      expect(gitea.receivePacks.length).toBe(pushes);
    } finally {
      gitea.script.unauthorized = false;
    }
  });

  it('an unset token variable is a config error naming git.token_env', async () => {
    const cfg = await worldConfig(tmp.dir, world, gitSection('julia-unset'), 'state-unset');
    const noToken = { ...process.env };
    delete noToken[ENV_NAME];
    const rep = await sync(cfg, { env: noToken });
    expect(rep.exitCode).toBe(1);
    expect(rep.error?.message).toContain('git.token_env');
    expect(rep.error?.message).toContain(ENV_NAME);
  });

  it('429 with Retry-After is waited out and retried, then the sync succeeds', async () => {
    const before = gitea.requests.length;
    // the config allows one retry (sync.retries = 1)
    gitea.script.rateLimited = 1;
    gitea.script.retryAfter = '1';
    const cfg = await worldConfig(tmp.dir, world, gitSection('julia-429'), 'state-429');
    const rep = await sync(cfg, { env });
    expect(rep.error).toBeUndefined();
    expect(rep.exitCode).toBe(3);
    const mine = gitea.requests.slice(before);
    expect(mine.filter((r) => r.status === 429).length).toBe(1);
    // the first call (the organisation lookup) was answered 429, then tried again
    expect(mine.slice(0, 2).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /orgs/julia-429 429', 'GET /orgs/julia-429 404']);
    expect(gitea.repos.get('julia-429/general')).toBeDefined();
  });

  it('a ref refused by a server-side rule is reported for its version; the rest is published', async () => {
    gitea.rejectRefs('^refs/tags/julia-airgap/Example/0\\.2\\.0$');
    const cfg = await worldConfig(tmp.dir, world, gitSection('julia-hook'), 'state-hook');
    const rep = await sync(cfg, { env });
    expect(rep.error).toBeUndefined();
    expect(rep.exitCode).toBe(3);
    const refused = rep.failures.find((f) => f.key === `version:${UUIDS.Example}@0.2.0`);
    expect(refused?.code).toBe('publish-rejected');
    expect(refused?.reason).toContain('gitea host rejected pin');
    const { versions } = await checkFork(rep.fork!.url, world, path.join(tmp.dir, 'client-hook'));
    expect(versions.Example).toEqual(['0.1.0', '0.3.0']);
    expect(versions.Foo_jll).toEqual(['1.0.0+0', '1.1.0+0']);
  });
});

