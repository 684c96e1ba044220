// The `gitea` and `gitlab` stores against contract fakes of the forges' generic package APIs
// (test/fakes/packages.ts; neither forge can run here).

import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactsConfig } from '../../src/config.js';
import { ConfigError, PublishError } from '../../src/errors.js';
import { fetchAndStore, type Requirement } from '../../src/sync/artifacts.js';
import { giteaStore } from '../../src/stores/gitea.js';
import { gitlabStore } from '../../src/stores/gitlab.js';
import { makeStore } from '../../src/stores/index.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { startGiteaPackages, startGitlabPackages, type FakePackages } from '../fakes/packages.js';

const tmp = tempDir('julia-airgap-forge-store-');
afterAll(() => tmp.cleanup());
const TOKEN = 'gt-5d1c0ffee0ddba11';
const data = randomBytes(120_000);
const sha256 = createHash('sha256').update(data).digest('hex');
const file = path.join(tmp.dir, 'a.tar.gz');
writeFileSync(file, data);
const key = { sha256, fileName: 'Foo.v1.0.0.x86_64-linux-gnu.tar.gz' };
const fast = { retries: 3, retryBaseMs: 1 };

function cfg(kind: 'gitea' | 'gitlab', over: Partial<ArtifactsConfig>): ArtifactsConfig {
  return { kind, url: 'http://127.0.0.1:1', tokenEnv: 'FORGE_TOKEN', ...over };
}
const env = { FORGE_TOKEN: TOKEN };

function expectNoToken(err: unknown): void {
  expect(String((err as Error).message)).not.toContain(TOKEN);
  expect(JSON.stringify(err)).not.toContain(TOKEN);
}

describe('gitea store (contract fake of the generic package registry)', () => {
  let fake: FakePackages;
  beforeEach(async () => {
    fake = await startGiteaPackages({ owner: 'julia', token: TOKEN });
  });
  afterEach(async () => fake.close());

  const store = (over: Partial<ArtifactsConfig> = {}, extra = {}) =>
    giteaStore(cfg('gitea', { url: fake.url, owner: 'julia', ...over }), 'airgap.toml', { env, ...fast, ...extra });

  it('put uploads to /api/packages/{owner}/generic/{name}/{sha256}/{file} with "token" auth; the public URL serves it anonymously', async () => {
    const s = store();
    expect(await s.has(key)).toBe(false);
    await s.put(file, key, data.length);
    const puts = fake.puts();
    expect(puts.map((p) => [p.path, p.status, p.authed, p.credential])).toEqual([
      [`/api/packages/julia/generic/julia-artifacts/${sha256}/${key.fileName}`, 201, true, `token ${TOKEN}`],
    ]);
    expect(s.publicUrl(key)).toBe(`${fake.url}/api/packages/julia/generic/julia-artifacts/${sha256}/${key.fileName}`);
    expect(s.urlScheme()).toBe(`${fake.url}/api/packages/julia/generic/julia-artifacts/<sha256>/<file>`);
    const res = await fetch(s.publicUrl(key));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect(await s.has(key, data.length)).toBe(true);
  });

  it('the public URL uses url while uploads go to api_url; the token goes only to api_url', async () => {
    const s = store({ url: 'https://gitea.internal', apiUrl: fake.url });
    await s.put(file, key, data.length);
    expect(s.publicUrl(key)).toBe(`https://gitea.internal/api/packages/julia/generic/julia-artifacts/${sha256}/${key.fileName}`);
    expect(fake.puts()).toHaveLength(1);
  });

  it('a second sync-level publish makes no PUT (fetchAndStore sees has() and skips)', async () => {
    const s = store();
    await s.put(file, key, data.length);
    const req: Requirement = {
      key: 'k', name: 'Foo', treeSha1: '0'.repeat(40), lazy: false, platform: 'x86_64-linux-gnu',
      downloads: [{ url: `https://upstream.example/${key.fileName}`, sha256 }],
    };
    const o = await fetchAndStore(req, { cacheDir: path.join(tmp.dir, 'cache-unused'), store: s, retries: 0, timeoutMs: 1000, maxBytes: 1 << 30, allowPrivateAddresses: false });
    expect(o.ok).toBe(true);
    expect(o.uploaded).toBe(false);
    expect(fake.puts()).toHaveLength(1);
  });

  it('409 (uploaded by someone else between the look and the PUT) is success once a GET shows the same size', async () => {
    fake.files.set(`julia-artifacts/${sha256}/${key.fileName}`, [data]);
    fake.script.staleReads = 1;
    await store().put(file, key, data.length);
    expect(fake.puts().map((p) => p.status)).toEqual([409]);
    const methods = fake.requests.map((r) => `${r.method} ${r.status}`);
    expect(methods).toEqual(['GET 404', 'PUT 409', 'GET 206']);
  });

  it('409 over a file of another size: a clear error (Gitea cannot overwrite)', async () => {
    fake.files.set(`julia-artifacts/${sha256}/${key.fileName}`, [Buffer.from('xyz')]);
    fake.script.staleReads = 1;
    await expect(store().put(file, key, data.length)).rejects.toThrow(/holds 3 bytes, expected 120000; Gitea cannot overwrite/);
    // without the race the look finds it first and no PUT is made
    await expect(store().put(file, key, data.length)).rejects.toThrow(/Gitea cannot overwrite/);
    expect(fake.puts()).toHaveLength(1);
  });

  it('older Gitea: a 400 naming a duplicate is treated like 409', async () => {
    await fake.close();
    fake = await startGiteaPackages({ owner: 'julia', token: TOKEN, legacy400: true });
    fake.files.set(`julia-artifacts/${sha256}/${key.fileName}`, [data]);
    fake.script.staleReads = 1;
    await store().put(file, key, data.length);
    expect(fake.puts().map((p) => p.status)).toEqual([400]);
  });

  it('401 stops: the message names status and URL, not the token; later calls make no request', async () => {
    const s = giteaStore(cfg('gitea', { url: fake.url, owner: 'julia' }), 'airgap.toml', { env: { FORGE_TOKEN: 'wrong-token-123' }, ...fast });
    const err = await s.put(file, key, data.length).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    const msg = (err as Error).message;
    expect(msg).toContain('401');
    expect(msg).toContain(`${fake.url}/api/packages/julia/generic/julia-artifacts/${sha256}/${key.fileName}`);
    expect(msg).toContain('$FORGE_TOKEN');
    expect(msg).not.toContain('wrong-token-123');
    const n = fake.requests.length;
    await expect(s.has({ sha256, fileName: 'x.tar.gz' })).rejects.toThrow(/401/);
    await expect(s.put(file, { sha256, fileName: 'y.tar.gz' }, data.length)).rejects.toThrow(/401/);
    expect(fake.requests.length).toBe(n);
  });

  it('429 with Retry-After is waited out, then the upload succeeds', async () => {
    const sleeps: number[] = [];
    fake.script.rateLimited = 2;
    fake.script.retryAfter = '3';
    const s = store({}, { sleep: async (ms: number) => void sleeps.push(ms) });
    await s.put(file, key, data.length);
    expect(sleeps).toEqual([3000, 3000]);
    expect(fake.files.get(`julia-artifacts/${sha256}/${key.fileName}`)?.[0]?.equals(data)).toBe(true);
  });

  it('a 5xx on PUT is retried with the whole body again', async () => {
    fake.script.serverErrors = 1;
    await store().put(file, key, data.length);
    const puts = fake.puts();
    expect(puts.map((p) => [p.status, p.bodyBytes])).toEqual([[503, data.length], [201, data.length]]);
  });

  it('config: owner and token are required; package_name is checked', () => {
    expect(() => giteaStore(cfg('gitea', { url: fake.url }), 'airgap.toml', { env })).toThrow(ConfigError);
    expect(() => giteaStore(cfg('gitea', { url: fake.url, owner: 'julia', tokenEnv: undefined }), 'airgap.toml', { env })).toThrow(/token_env/);
    expect(() => giteaStore(cfg('gitea', { url: fake.url, owner: 'julia', packageName: 'a/b' }), 'airgap.toml', { env })).toThrow(/package_name/);
    expect(() => giteaStore(cfg('gitea', { url: fake.url, owner: 'julia', packageName: '..' }), 'airgap.toml', { env })).toThrow(/package_name/);
    expect(makeStore(cfg('gitea', { url: fake.url, owner: 'julia' }), 'airgap.toml', { env }).kind).toBe('gitea');
  });

  it('an unsafe file name is refused before any request', async () => {
    const s = store();
    await expect(s.put(file, { sha256, fileName: '../x' }, data.length)).rejects.toThrow(/unsafe artifact file name/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('gitlab store (contract fake of generic packages)', () => {
  let fake: FakePackages;
  beforeEach(async () => {
    fake = await startGitlabPackages({ projectId: 42, projectPath: 'infra/julia-mirror', token: TOKEN });
  });
  afterEach(async () => fake.close());

  const store = (over: Partial<ArtifactsConfig> = {}, extra = {}) =>
    gitlabStore(cfg('gitlab', { url: fake.url, project: 'infra/julia-mirror', ...over }), 'airgap.toml', { env, ...fast, ...extra });

  it('put uploads with PRIVATE-TOKEN to the url-encoded project path; the public URL serves it', async () => {
    const s = store();
    await s.put(file, key, data.length);
    const prefix = `/api/v4/projects/infra%2Fjulia-mirror/packages/generic/julia-artifacts/${sha256}/${key.fileName}`;
    expect(fake.puts().map((p) => [p.path, p.status, p.credential])).toEqual([[prefix, 201, TOKEN]]);
    expect(s.publicUrl(key)).toBe(`${fake.url}${prefix}`);
    const res = await fetch(s.publicUrl(key));
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect(s.urlScheme()).toBe(`${fake.url}/api/v4/projects/infra%2Fjulia-mirror/packages/generic/julia-artifacts/<sha256>/<file>`);
  });

  it('a numeric project id works too', async () => {
    const s = store({ project: '42' });
    await s.put(file, key, data.length);
    expect(fake.puts()[0]!.path).toContain('/api/v4/projects/42/packages/generic/');
  });

  it('checks before upload: GitLab would accept a duplicate, so a present file gets no PUT', async () => {
    const s = store();
    await s.put(file, key, data.length);
    await s.put(file, key, data.length);
    await store().put(file, key, data.length);
    expect(fake.puts()).toHaveLength(1);
    expect(fake.files.get(`julia-artifacts/${sha256}/${key.fileName}`)).toHaveLength(1);
    // the check is a GET on the download URL
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3);
  });

  it('a wrong-sized existing file is replaced by uploading again (the newest wins)', async () => {
    fake.files.set(`julia-artifacts/${sha256}/${key.fileName}`, [Buffer.from('short')]);
    await store().put(file, key, data.length);
    expect(fake.puts()).toHaveLength(1);
    expect(await store().has(key, data.length)).toBe(true);
  });

  it('with duplicates disallowed, a "Duplicate package" 400 is success when what is there is ours', async () => {
    await fake.close();
    fake = await startGitlabPackages({ projectId: 42, projectPath: 'infra/julia-mirror', token: TOKEN, rejectDuplicates: true });
    fake.files.set(`julia-artifacts/${sha256}/${key.fileName}`, [Buffer.from('short')]);
    await expect(store().put(file, key, data.length)).rejects.toThrow(/size 5 after upload, expected 120000/);
    expect(fake.puts().map((p) => p.status)).toEqual([400]);
  });

  it('refuses a file over the 5 GiB limit up front, with no request', async () => {
    const big = path.join(tmp.dir, 'big.tar.gz');
    writeFileSync(big, '');
    await truncate(big, 5 * 1024 ** 3 + 1);
    await expect(store().put(big, key, 5 * 1024 ** 3 + 1)).rejects.toThrow(/5368709121 bytes is over GitLab's generic package limit of 5368709120/);
    expect(fake.requests).toHaveLength(0);
  });

  it('a server-side "File is too large" 400 gets a clear message', async () => {
    await fake.close();
    fake = await startGitlabPackages({ projectId: 42, projectPath: 'infra/julia-mirror', token: TOKEN, maxBytes: 1000 });
    await expect(store().put(file, key, data.length)).rejects.toThrow(/refused 120000 bytes as too large: raise the plan limit generic_packages_max_file_size/);
  });

  it('401 stops at once (GitLab bans addresses after repeated failures), without leaking the token', async () => {
    const s = gitlabStore(cfg('gitlab', { url: fake.url, project: 'infra/julia-mirror' }), 'airgap.toml', { env: { FORGE_TOKEN: 'bad-glpat-999' }, ...fast });
    const err = await s.has(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as Error).message).toMatch(/401/);
    expect((err as Error).message).toContain(`${fake.url}/api/v4/projects/infra%2Fjulia-mirror/packages/generic/julia-artifacts/${sha256}/${key.fileName}`);
    expect((err as Error).message).not.toContain('bad-glpat-999');
    expectNoToken(err);
    await expect(s.put(file, key, data.length)).rejects.toThrow(/401/);
    expect(fake.requests).toHaveLength(1);
  });

  it('429 honours Retry-After', async () => {
    const sleeps: number[] = [];
    fake.script.rateLimited = 1;
    fake.script.retryAfter = '2';
    await store({}, { sleep: async (ms: number) => void sleeps.push(ms) }).put(file, key, data.length);
    expect(sleeps).toEqual([2000]);
    expect(fake.puts()).toHaveLength(1);
  });

  it('bounded: a 429 that never ends is an error after the retries, naming the status', async () => {
    fake.script.rateLimited = 100;
    const s = store({}, { sleep: async () => undefined, retries: 2 });
    await expect(s.has(key)).rejects.toThrow(/HTTP 429/);
    expect(fake.requests).toHaveLength(3);
  });

  it('config: project is required and checked', () => {
    expect(() => gitlabStore(cfg('gitlab', { url: fake.url }), 'airgap.toml', { env })).toThrow(/artifacts.project/);
    expect(() => gitlabStore(cfg('gitlab', { url: fake.url, project: '../x' }), 'airgap.toml', { env })).toThrow(/artifacts.project/);
    expect(() => gitlabStore(cfg('gitlab', { url: fake.url, project: 'a', owner: 'b' }), 'airgap.toml', { env })).toThrow(/artifacts.owner/);
  });
});
