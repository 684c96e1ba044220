import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedArtifactPath, fetchArtifact, type FetchOptions } from '../../src/artifacts/fetch.js';
import { InputError } from '../../src/errors.js';
import { startServer, type TestServer } from '../fixtures/httpserver.js';
import { makeArtifactTarball, packEntries, type BuiltTarball } from '../fixtures/tarballs.js';
import { createHash } from 'node:crypto';

let work: string;
let art: BuiltTarball;
let other: BuiltTarball;
let server: TestServer;
const fast: FetchOptions = { retries: 3, retryBaseMs: 10, timeoutMs: 2000 };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fetch-'));
  art = await makeArtifactTarball(await mkdtemp(join(work, 'a-')));
  other = await makeArtifactTarball(await mkdtemp(join(work, 'b-')), { files: { 'x.txt': 'other' } });
  server = await startServer({});
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
/** A fresh route path per test so hit counts never mix. */
function route(r: Parameters<typeof startServer>[0] extends Record<string, infer R> | undefined ? R : never): string {
  const p = `/r${++n}/art.tar.gz`;
  server.routes[p] = Buffer.isBuffer(r) ? { body: r } : r;
  return p;
}
async function newCache(): Promise<string> {
  return mkdtemp(join(work, 'cache-'));
}
/** Every file under dir, relative. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

describe('fetchArtifact', () => {
  it('404 then a good URL: ok, both attempts recorded, stored content-addressed', async () => {
    const cache = await newCache();
    const good = route({ body: art.bytes });
    const r = await fetchArtifact(
      [
        { url: `${server.url}/missing/art.tar.gz`, sha256: art.sha256 },
        { url: server.url + good, sha256: art.sha256 },
      ],
      art.treeSha1,
      cache,
      fast,
    );
    expect(r.ok).toBe(true);
    expect(r.attempts.map((a) => [a.ok, a.status, a.kind])).toEqual([
      [false, 404, 'http'],
      [true, 200, undefined],
    ]);
    expect(server.hits['/missing/art.tar.gz']).toBe(1); // 4xx is not retried
    expect(r.file).toBe(cachedArtifactPath(cache, art.sha256));
    expect(r.file).toBe(join(cache, art.sha256.slice(0, 2), art.sha256));
    expect(r.size).toBe(art.bytes.length);
    expect(await readFile(r.file!)).toEqual(art.bytes);
    expect(await listFiles(cache)).toEqual([join(art.sha256.slice(0, 2), art.sha256)]);

    // Second call: served from the cache, no request at all.
    const before = server.totalHits();
    const again = await fetchArtifact([{ url: server.url + good, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(again.ok).toBe(true);
    expect(again.attempts).toEqual([]);
    expect(again.file).toBe(r.file);
    expect(server.totalHits()).toBe(before);
  });

  it('wrong bytes are rejected as a sha256 mismatch and the next URL is used', async () => {
    const cache = await newCache();
    const wrong = route({ body: art.bytes, wrongBytes: other.bytes });
    const good = route(art.bytes);
    const r = await fetchArtifact(
      [
        { url: server.url + wrong, sha256: art.sha256 },
        { url: server.url + good, sha256: art.sha256 },
      ],
      art.treeSha1,
      cache,
      fast,
    );
    expect(r.ok).toBe(true);
    expect(r.attempts[0]).toMatchObject({ ok: false, kind: 'sha256' });
    expect(server.hits[wrong]).toBe(1);
    expect(r.url).toBe(server.url + good);
  });

  it('right sha256 but wrong tree hash is rejected', async () => {
    const cache = await newCache();
    const p = route(art.bytes);
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], other.treeSha1, cache, fast);
    expect(r.ok).toBe(false);
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]).toMatchObject({ kind: 'tree' });
    expect(await listFiles(cache)).toEqual([]);
  });

  it('all URLs bad: ok=false, nothing stored, no temp files left', async () => {
    const cache = await newCache();
    const r = await fetchArtifact(
      [
        { url: server.url + route({ status: 403 }), sha256: art.sha256 },
        { url: server.url + route({ body: art.bytes, wrongBytes: Buffer.from('garbage') }), sha256: art.sha256 },
        { url: server.url + route({ body: art.bytes, truncate: true }), sha256: art.sha256 },
        { url: server.url + route({ status: 500 }), sha256: art.sha256 },
      ],
      art.treeSha1,
      cache,
      { ...fast, retries: 1 },
    );
    expect(r.ok).toBe(false);
    expect(r.file).toBeUndefined();
    expect(r.attempts.map((a) => a.kind)).toEqual(['http', 'sha256', 'size', 'size', 'http', 'http']);
    expect(await listFiles(cache)).toEqual([]);
  });

  it('5xx twice then OK: retried with backoff and stored', async () => {
    const cache = await newCache();
    const p = route({ body: art.bytes, failFirst: 2, failStatus: 503 });
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(true);
    expect(server.hits[p]).toBe(3);
    expect(r.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
  });

  it('429 honours Retry-After', async () => {
    const cache = await newCache();
    const p = route({ body: art.bytes, failFirst: 1, failStatus: 429, retryAfter: '1' });
    const t0 = Date.now();
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('truncated body with a correct Content-Length is never stored', async () => {
    const cache = await newCache();
    const p = route({ body: art.bytes, truncate: true });
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, { ...fast, retries: 2 });
    expect(r.ok).toBe(false);
    expect(server.hits[p]).toBe(3); // truncation is treated as transient
    expect(r.attempts[0]).toMatchObject({ kind: 'size' });
    expect(r.attempts[0]!.error).toMatch(/truncated/);
    expect(await listFiles(cache)).toEqual([]);
  });

  it('a redirect loop fails without retries', async () => {
    const cache = await newCache();
    const p = `/loop${++n}`;
    server.routes[p] = { redirectTo: p };
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(false);
    expect(r.attempts).toHaveLength(1);
  });

  it('follows redirects', async () => {
    const cache = await newCache();
    const target = route(art.bytes);
    const p = route({ redirectTo: target });
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(true);
    expect(server.hits[target]).toBe(1);
  });

  it('a stalled body times out and is retried', async () => {
    const cache = await newCache();
    const p = route({ body: art.bytes, stallMs: 1500 });
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, { ...fast, timeoutMs: 200, retries: 1 });
    expect(r.ok).toBe(false);
    expect(r.attempts.map((a) => a.kind)).toEqual(['timeout', 'timeout']);
    expect(await listFiles(cache)).toEqual([]);
  });

  it('slow headers within the timeout are fine', async () => {
    const cache = await newCache();
    const p = route({ body: art.bytes, delayMs: 100 });
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(true);
  });

  it('a hostile tarball with the right sha256 is refused as tar', async () => {
    const cache = await newCache();
    const bytes = await packEntries([{ name: 'evil', type: 'symlink', linkname: '/etc/passwd' }]);
    const s = createHash('sha256').update(bytes).digest('hex');
    const r = await fetchArtifact([{ url: server.url + route(bytes), sha256: s }], art.treeSha1, cache, fast);
    expect(r.ok).toBe(false);
    expect(r.attempts[0]).toMatchObject({ kind: 'tar' });
    expect(r.attempts[0]!.error).toContain('evil');
    expect(await listFiles(cache)).toEqual([]);
  });

  it('maxBytes and maxUnpackedBytes', async () => {
    const cache = await newCache();
    const r1 = await fetchArtifact([{ url: server.url + route(art.bytes), sha256: art.sha256 }], art.treeSha1, cache, { ...fast, maxBytes: 100 });
    expect(r1.attempts[0]).toMatchObject({ kind: 'size' });
    const bomb = await packEntries([{ name: 'zeros', content: Buffer.alloc(4 * 1024 * 1024) }]);
    const s = createHash('sha256').update(bomb).digest('hex');
    const r2 = await fetchArtifact([{ url: server.url + route(bomb), sha256: s }], art.treeSha1, cache, { ...fast, maxUnpackedBytes: 1024 * 1024 });
    expect(r2.attempts[0]).toMatchObject({ kind: 'size' });
    expect(await listFiles(cache)).toEqual([]);
  });

  it('credentials never appear in attempts', async () => {
    const cache = await newCache();
    const u = new URL(server.url + '/nothing-here');
    u.username = 'alice';
    u.password = 's3cret';
    u.searchParams.set('token', 'tok123');
    const r = await fetchArtifact([{ url: u.toString(), sha256: art.sha256 }], art.treeSha1, cache, fast);
    expect(JSON.stringify(r)).not.toMatch(/s3cret|tok123|alice/);
  });

  it('refuses non-http URLs and bad hashes with InputError', async () => {
    const cache = await newCache();
    await expect(fetchArtifact([{ url: 'file:///etc/passwd', sha256: art.sha256 }], art.treeSha1, cache)).rejects.toBeInstanceOf(InputError);
    await expect(fetchArtifact([{ url: 'ftp://x/y', sha256: art.sha256 }], art.treeSha1, cache)).rejects.toBeInstanceOf(InputError);
    await expect(fetchArtifact([{ url: 'https://x/y', sha256: 'nope' }], art.treeSha1, cache)).rejects.toBeInstanceOf(InputError);
    await expect(fetchArtifact([{ url: 'https://x/y', sha256: art.sha256 }], 'nope', cache)).rejects.toBeInstanceOf(InputError);
  });

  it('allowPrivateAddresses=false refuses loopback without retrying', async () => {
    const cache = await newCache();
    const p = route(art.bytes);
    const r = await fetchArtifact([{ url: server.url + p, sha256: art.sha256 }], art.treeSha1, cache, { ...fast, allowPrivateAddresses: false });
    expect(r.ok).toBe(false);
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]!.error).toMatch(/private or local/);
    expect(server.hits[p]).toBeUndefined();
  });

  it('onProgress sees every byte', async () => {
    const cache = await newCache();
    let total = 0;
    const r = await fetchArtifact([{ url: server.url + route(art.bytes), sha256: art.sha256 }], art.treeSha1, cache, {
      ...fast,
      onProgress: (b) => (total += b),
    });
    expect(r.ok).toBe(true);
    expect(total).toBe(art.bytes.length);
  });
});
