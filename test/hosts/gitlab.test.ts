// The real sync pipeline publishing the world fixture into a GitLab contract fake (real git over
// smart HTTP behind it, with GitLab's default-branch protection and hidden refs), then an
// independent check with plain git from the fake's clone URLs.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { GITLAB_HIDDEN_REFS, startFakeGitLab, type FakeGitLab } from '../fakes/gitlab.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';
import { allRefs, capturingReporter, checkFork, filesUnder, worldConfig } from './helpers.js';

const TOKEN = 'glpat-S3cr3tT0kenValue0987';
const ENV_NAME = 'JULIA_AIRGAP_TEST_GITLAB_TOKEN';
const tmp = tempDir('julia-airgap-gitlab-');
let world: World;
let gitlab: FakeGitLab;
let config: Config;
let first: SyncReport;
let firstLog: string;
const env = { ...process.env, [ENV_NAME]: TOKEN };

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  gitlab = await startFakeGitLab(path.join(tmp.dir, 'gitlab'), TOKEN);
  config = await worldConfig(tmp.dir, world, ['kind = "gitlab"', `url = "${gitlab.url}"`, 'group = "mirrors/julia/general"', `token_env = "${ENV_NAME}"`, 'visibility = "public"']);
  const cap = capturingReporter();
  first = await sync(config, { env, reporter: cap.reporter });
  firstLog = cap.text();
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  await gitlab?.close();
  tmp.cleanup();
});

describe('sync into GitLab', () => {
  it('creates every missing level of the nested group, then the projects', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.versionsKept).toBe(9);
    expect([...gitlab.groups.keys()].sort()).toEqual(['mirrors', 'mirrors/julia', 'mirrors/julia/general']);
    const sub = gitlab.groups.get('mirrors/julia/general')!;
    expect(sub.parent_id).toBe(gitlab.groups.get('mirrors/julia')!.id);
    expect(gitlab.projects.size).toBe(6);
    for (const p of gitlab.projects.values()) {
      expect(p.namespace.id).toBe(sub.id);
      expect(p.visibility).toBe('public');
    }
    const creates = gitlab.requests.filter((r) => r.method === 'POST' && r.path === '/projects');
    for (const c of creates) expect((c.body as { initialize_with_readme: boolean }).initialize_with_readme).toBe(false);
  });

  it('sets the default branch and lets the mirror force-push it despite the default protection', () => {
    const fork = gitlab.projects.get('mirrors/julia/general/general')!;
    expect(fork.default_branch).toBe('master');
    expect(fork.protected.get('master')?.allow_force_push).toBe(true);
    for (const p of gitlab.projects.values()) {
      for (const [branch, rule] of p.protected) expect(rule.allow_force_push, `${p.path} ${branch}`).toBe(true);
    }
    expect(gitlab.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/protected_branches/master?allow_force_push=true'))).toBe(true);
  });

  it('pushes no ref into a GitLab hidden namespace', async () => {
    const refs = await allRefs(gitlab.root);
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) for (const hidden of GITLAB_HIDDEN_REFS) expect(r).not.toContain(` ${hidden}`);
    for (const r of refs) expect(r).toMatch(/ refs\/(heads|tags)\//);
  });

  it('every listed tree is reachable by cloning from the forge with plain git', async () => {
    const { registry, checked } = await checkFork(first.fork!.url, world, path.join(tmp.dir, 'client'));
    expect(first.fork!.url).toBe(`${gitlab.url}/mirrors/julia/general/General.git`);
    expect(checked).toBe(9);
    expect(readFileSync(path.join(registry, 'U/UsesFoo/Package.toml'), 'utf8')).toContain(`${gitlab.url}/mirrors/julia/general/`);
  });

  it('a second sync makes no API writes and pushes nothing', async () => {
    const writes = gitlab.writes().length;
    const pushes = gitlab.receivePacks.length;
    const again = await sync(config, { env });
    expect(again.exitCode).toBe(3);
    expect(again.fork?.created).toBe(false);
    expect(gitlab.writes().length).toBe(writes);
    expect(gitlab.receivePacks.length).toBe(pushes);
  });

  it('the token never reaches logs, the report, the state dir or the fork', () => {
    expect(firstLog).toContain('registry');
    const basic = Buffer.from(`oauth2:${TOKEN}`).toString('base64');
    for (const secret of [TOKEN, basic]) {
      expect(firstLog).not.toContain(secret);
      expect(JSON.stringify(first)).not.toContain(secret);
      for (const f of [...filesUnder(config.stateDir), ...filesUnder(path.join(tmp.dir, 'client'))]) {
        expect(readFileSync(f).includes(Buffer.from(secret)), f).toBe(false);
      }
    }
  });

  it('a refused token stops the run after one API call', async () => {
    const before = gitlab.requests.length;
    const cfg = await worldConfig(tmp.dir, world, ['kind = "gitlab"', `url = "${gitlab.url}"`, 'group = "other"', `token_env = "${ENV_NAME}"`], 'state-401');
    const rep = await sync(cfg, { env: { ...process.env, [ENV_NAME]: 'glpat-wrong' } });
    expect(rep.exitCode).toBe(1);
    expect(rep.error?.message).toContain('gitlab group other: GET /groups/other: HTTP 401: 401 Unauthorized');
    expect(gitlab.requests.length - before).toBe(1);
  });
});
