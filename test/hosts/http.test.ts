// The forge API client against the Gitea contract fake: bounded retries, error mapping, one
// request when the token is refused; plus the pure helpers.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, PublishError } from '../../src/errors.js';
import { forgeMessage, makeForgeApi, retryAfterMs } from '../../src/hosts/http.js';
import { startFakeGitea, type FakeGitea } from '../fakes/gitea.js';
import { tempDir } from '../fixtures/gitrepo.js';

const TOKEN = 'tok_0123456789abcdef';
const tmp = tempDir('julia-airgap-http-');
let gitea: FakeGitea;
const api = (token = TOKEN, retries = 2) =>
  makeForgeApi({ kind: 'gitea', baseUrl: `${gitea.url}/api/v1`, authHeader: { name: 'authorization', value: `token ${token}` }, retries, baseDelayMs: 1 });

beforeAll(async () => {
  gitea = await startFakeGitea(path.join(tmp.dir, 'gitea'), TOKEN);
});
afterAll(async () => {
  await gitea?.close();
  tmp.cleanup();
});

describe('forge API client', () => {
  it('gives up on 429 after the bounded retries, naming the status and the forge message', async () => {
    const before = gitea.requests.length;
    gitea.script.rateLimited = 10;
    gitea.script.retryAfter = '0';
    try {
      const err = await api().call('GET', '/orgs/x', { what: 'organisation x', ok: [404] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as Error).message).toBe('gitea organisation x: GET /orgs/x: HTTP 429 (after 3 attempts): rate limit exceeded');
      expect(gitea.requests.length - before).toBe(3);
    } finally {
      gitea.script.rateLimited = 0;
    }
  });

  it('a refused token: one request, then every call fails without one', async () => {
    const before = gitea.requests.length;
    const client = api('bad-token-xyz');
    const calls = await Promise.allSettled([1, 2, 3, 4].map((i) => client.call('GET', `/repos/o/r${i}`, { what: `repository o/r${i}`, ok: [404] })));
    for (const c of calls) {
      expect(c.status).toBe('rejected');
      expect((c as PromiseRejectedResult).reason).toBeInstanceOf(AuthError);
    }
    expect(gitea.requests.length - before).toBe(1);
    const msg = ((calls[0] as PromiseRejectedResult).reason as Error).message;
    expect(msg).toContain('HTTP 401: token is required');
    expect(msg).toContain('repository o/r1');
    expect(msg).not.toContain('bad-token-xyz');
  });

  it('statuses the caller handles come back; others are errors naming the repo', async () => {
    const client = api();
    expect((await client.call('GET', '/repos/nobody/nothing', { what: 'repository nobody/nothing', ok: [404] })).status).toBe(404);
    await expect(client.call('GET', '/repos/nobody/nothing', { what: 'repository nobody/nothing' })).rejects.toThrow(
      "gitea repository nobody/nothing: GET /repos/nobody/nothing: HTTP 404: The target couldn't be found.",
    );
  });

  it('reads Retry-After as seconds or a date, and forge messages in their shapes', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(forgeMessage({ message: 'The repository with the same name already exists.' }, '')).toBe('The repository with the same name already exists.');
    expect(forgeMessage({ message: { path: ['has already been taken'], name: ['is too long', 'is bad'] } }, '')).toBe('path has already been taken; name is too long, is bad');
    expect(forgeMessage({ error: 'insufficient_scope' }, '')).toBe('insufficient_scope');
    expect(forgeMessage(undefined, '<html>Bad   Gateway</html>\n')).toBe('<html>Bad Gateway</html>');
  });
});
