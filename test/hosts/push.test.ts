// The `push` host (any server that creates a repo on first push) with the real sync pipeline:
// gitolite3 wild repos over a private sshd, and git http-backend behind nginx + fcgiwrap.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { makeHost } from '../../src/hosts/index.js';
import { sshParts } from '../../src/hosts/pushcreate.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';
import { checkFork, gitA, worldConfig } from './helpers.js';
import { BIN, startGitolite, startNginxGit, type Gitolite, type NginxGit } from './servers.js';

const tmp = tempDir('julia-airgap-push-');
let world: World;
beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
});
afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('push host configuration', () => {
  it('requires {name} in both templates and parses ssh push URLs', () => {
    const cfg = { kind: 'push' as const, url: 'http://git.internal/julia/{name}.git', pushUrl: 'git@host:julia/fixed' };
    expect(() => makeHost(cfg, 'airgap.toml')).toThrow(ConfigError);
    expect(() => makeHost(cfg, 'airgap.toml')).toThrow('[git.push_url]');
    expect(() => makeHost({ kind: 'push', url: 'http://git.internal/julia.git' }, 'airgap.toml')).toThrow('[git.url]');
    const host = makeHost({ ...cfg, pushUrl: 'gitolite3@git.internal:julia/{name}' }, 'airgap.toml');
    expect(host.pushTarget('General')).toEqual({ url: 'gitolite3@git.internal:julia/General', config: [] });
    expect(host.cloneUrl('General')).toBe('http://git.internal/julia/General.git');
    expect(sshParts('gitolite3@git.internal:julia/General')).toEqual({ dest: 'gitolite3@git.internal', repo: 'julia/General' });
    expect(sshParts('ssh://git@127.0.0.1:2222/julia/x.git')).toEqual({ dest: 'git@127.0.0.1', port: '2222', repo: 'julia/x' });
    expect(sshParts('https://git.internal/julia/x.git')).toBeUndefined();
  });
});

const haveGitolite = Boolean(BIN.sshd && BIN.gitolite && BIN.gitoliteShell);
if (!haveGitolite) console.warn('skipping gitolite tests: install gitolite3 and openssh-server (CI does)');

describe.skipIf(!haveGitolite)('push to gitolite3 wild repos over ssh', () => {
  let gl: Gitolite;
  let first: SyncReport;
  const savedSsh = process.env.GIT_SSH_COMMAND;
  let cfgPath = '';

  beforeAll(async () => {
    gl = await startGitolite(path.join(tmp.dir, 'gitolite'), { symbolicRef: true });
    // git (and the symbolic-ref call) reach sshd with the throwaway key, as a site's ssh config would
    process.env.GIT_SSH_COMMAND = gl.sshCommand;
    const config = await worldConfig(tmp.dir, world, ['kind = "push"', 'url = "http://git.internal/julia/{name}.git"', `push_url = "${gl.sshBase}/julia/{name}"`], 'state-gitolite');
    cfgPath = config.file;
    first = await sync(config);
  });
  afterAll(async () => {
    if (savedSsh === undefined) delete process.env.GIT_SSH_COMMAND;
    else process.env.GIT_SSH_COMMAND = savedSsh;
    await gl?.close();
  });

  it('creates the repos by pushing and sets HEAD with symbolic-ref', async () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.versionsKept).toBe(9);
    expect(first.warnings.join('\n')).not.toContain('HEAD');
    expect(await gitA(['--git-dir', path.join(gl.repos, 'julia', 'General.git'), 'symbolic-ref', 'HEAD'])).toBe('refs/heads/master');
  });

  it('every listed tree is reachable through gitolite', async () => {
    // a client inside maps the clone URLs onto ssh, as url.<base>.insteadOf does for libgit2 too
    const env = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${gl.sshBase}/julia/.insteadOf`, GIT_CONFIG_VALUE_0: 'http://git.internal/julia/' };
    const { registry, checked } = await checkFork(first.fork!.url, world, path.join(tmp.dir, 'client-gitolite'), { env });
    expect(checked).toBe(9);
    expect(readFileSync(path.join(registry, 'Registry.toml'), 'utf8')).toContain('repo = "http://git.internal/julia/General.git"');
  });

  it('a second sync pushes nothing', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const again = await sync(await loadConfig(cfgPath));
    expect(again.exitCode).toBe(3);
    expect(again.counts.reposPushed).toBe(0);
    expect(again.fork?.created).toBe(false);
  });
});

const haveNginx = Boolean(BIN.nginx && BIN.fcgiwrap);
if (!haveNginx) console.warn('skipping nginx push tests: install nginx-light and fcgiwrap (CI does)');

describe.skipIf(!haveNginx)('push over smart HTTP to http-backend behind nginx + fcgiwrap', () => {
  let ng: NginxGit;
  let first: SyncReport;

  beforeAll(async () => {
    ng = await startNginxGit(path.join(tmp.dir, 'nginx'));
    const config = await worldConfig(tmp.dir, world, ['kind = "push"', `url = "${ng.url}/julia/{name}.git"`], 'state-nginx');
    first = await sync(config);
  });
  afterAll(async () => {
    await ng?.close();
  });

  it('creates repos on first push and publishes; HEAD cannot be set over HTTP (one warning)', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3);
    expect(first.counts.versionsKept).toBe(9);
    expect(first.warnings.filter((w) => w.includes('HEAD (the default branch) cannot be set remotely'))).toHaveLength(1);
    expect(ng.log().some((l) => /^POST \/julia\/General\.git\/git-receive-pack 200$/.test(l))).toBe(true);
  });

  it('every listed tree is reachable over HTTP', async () => {
    const { checked } = await checkFork(first.fork!.url, world, path.join(tmp.dir, 'client-nginx'), { branch: 'master' });
    expect(checked).toBe(9);
  });
});
