// The `http` store against a real nginx with the DAV module (PUT), and against a small loopback
// server that fails on purpose, for the retry paths nginx cannot be made to take.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactsConfig } from '../../src/config.js';
import { PublishError } from '../../src/errors.js';
import { httpStore } from '../../src/stores/http.js';
import { makeStore } from '../../src/stores/index.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { nginxHasDav, startDav, type DavServer } from './nginx-dav.js';

const tmp = tempDir('julia-airgap-http-store-');
const USER = 'uploader';
const PASSWORD = 'pw-9f3a7c1e55';
const BEARER = 'tok-b7e0c2d94aa1';
const data = randomBytes(300_000);
const sha256 = createHash('sha256').update(data).digest('hex');
const file = path.join(tmp.dir, 'artifact.tar.gz');
writeFileSync(file, data);
const key = { sha256, fileName: 'Foo.v1.0.0.x86_64-linux-gnu.tar.gz' };
const noWait = { retries: 2, retryBaseMs: 1, sleep: async () => undefined };

function cfg(over: Partial<ArtifactsConfig>): ArtifactsConfig {
  return { kind: 'http', url: 'http://127.0.0.1:1/unused', ...over };
}

const canRun = nginxHasDav();
if (!canRun) console.warn('skipping the nginx DAV tests: nginx with http_dav_module is not installed (CI installs nginx-light)');

describe.skipIf(!canRun)('http store on nginx (dav_methods PUT)', () => {
  let dav: DavServer;
  beforeAll(async () => {
    dav = await startDav(path.join(tmp.dir, 'nginx'), { user: USER, password: PASSWORD, bearer: BEARER });
  });
  afterAll(async () => {
    await dav?.close();
  });

  it('put makes the exact bytes readable at the public URL; has() then says yes; a second put sends no PUT', async () => {
    const store = makeStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav`, tokenEnv: 'DAV_TOKEN' }), 'airgap.toml', {
      env: { DAV_TOKEN: `${USER}:${PASSWORD}` }, ...noWait,
    });
    expect(await store.has(key)).toBe(false);
    await store.put(file, key, data.length);
    const url = store.publicUrl(key);
    expect(url).toBe(`${dav.url}/artifacts/${sha256}/${key.fileName}`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(sha256);
    expect(await store.has(key)).toBe(true);
    expect(await store.has(key, data.length)).toBe(true);
    expect(await store.has(key, data.length + 1)).toBe(false);
    const putsBefore = dav.puts().length;
    expect(putsBefore).toBe(1);
    expect(dav.puts()[0]).toMatch(new RegExp(`^PUT /dav/${sha256}/${key.fileName} 20[14] ${USER}$`));
    await store.put(file, key, data.length);
    expect(dav.puts().length).toBe(putsBefore);
    expect(store.urlScheme()).toBe(`${dav.url}/artifacts/<sha256>/<file>`);
  });

  it('a bearer token (no colon) is sent as Authorization: Bearer', async () => {
    const k = { sha256, fileName: 'bearer.tar.gz' };
    const store = httpStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav-bearer`, tokenEnv: 'T' }), 'airgap.toml', { env: { T: BEARER }, ...noWait });
    await store.put(file, k, data.length);
    expect(readFileSync(path.join(dav.www, sha256, k.fileName)).equals(data)).toBe(true);
  });

  it('credentials from a netrc file ($NETRC), matched by host', async () => {
    const netrc = path.join(tmp.dir, 'netrc');
    writeFileSync(netrc, `machine example.org login x password y\n\nmachine 127.0.0.1\n  login ${USER}\n  password ${PASSWORD}\n`);
    const k = { sha256, fileName: 'netrc.tar.gz' };
    const store = httpStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav`, netrc: true }), 'airgap.toml', { env: { NETRC: netrc }, ...noWait });
    await store.put(file, k, data.length);
    expect(dav.puts().at(-1)).toMatch(/ 20[14] uploader$/);
    expect(readFileSync(path.join(dav.www, sha256, k.fileName)).equals(data)).toBe(true);
  });

  it('an unauthenticated PUT is refused with a message naming the URL and status; nothing is stored; no request after the refusal', async () => {
    const k = { sha256, fileName: 'anon.tar.gz' };
    const anon = httpStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav` }), 'airgap.toml', noWait);
    const err = await anon.put(file, k, data.length).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as Error).message).toContain(`${dav.url}/dav/${sha256}/anon.tar.gz`);
    expect((err as Error).message).toContain('401');
    expect(() => readFileSync(path.join(dav.www, sha256, 'anon.tar.gz'))).toThrow();

    const wrong = httpStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav`, tokenEnv: 'T' }), 'airgap.toml', {
      env: { T: `${USER}:not-the-password-77` }, ...noWait,
    });
    const err2 = await wrong.put(file, k, data.length).catch((e: unknown) => e);
    expect((err2 as Error).message).toContain('401');
    expect((err2 as Error).message).toContain('$T');
    expect((err2 as Error).message).not.toContain('not-the-password-77');
    const seen = dav.log().length;
    await expect(wrong.put(file, { sha256, fileName: 'other.tar.gz' }, data.length)).rejects.toThrow(/401/);
    expect(dav.log().length).toBe(seen);
  });

  it('detects a wrong size after upload (the public URL serves other bytes)', async () => {
    const k = { sha256, fileName: 'short.tar.gz' };
    mkdirSync(path.join(dav.decoy, sha256), { recursive: true });
    writeFileSync(path.join(dav.decoy, sha256, k.fileName), 'abc');
    const store = httpStore(cfg({ url: `${dav.url}/decoy`, uploadUrl: `${dav.url}/dav-open` }), 'airgap.toml', noWait);
    // present but the wrong size is not "present"
    expect(await store.has(k, data.length)).toBe(false);
    await expect(store.put(file, k, data.length)).rejects.toThrow(`size 3 after upload, expected ${data.length}`);
    expect(dav.puts().at(-1)).toMatch(new RegExp(`^PUT /dav-open/${sha256}/short.tar.gz 20[14]`));
  });

  it('refuses a local file whose size differs from what the caller verified', async () => {
    const store = httpStore(cfg({ url: `${dav.url}/artifacts`, uploadUrl: `${dav.url}/dav-open` }), 'airgap.toml', noWait);
    await expect(store.put(file, { sha256, fileName: 'size.tar.gz' }, data.length + 5)).rejects.toThrow(`is ${data.length} bytes, expected ${data.length + 5}`);
  });
});

describe('http store: retries and status handling (loopback server)', () => {
  interface Seen {
    method: string;
    body: Buffer;
  }
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  const stored = new Map<string, Buffer>();
  // Answers per PUT attempt, in order; then 201.
  let plan: Array<'reset' | 503 | 429> = [];
  let headStatus: number | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      const p = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'HEAD') {
        seen.push({ method: 'HEAD', body: Buffer.alloc(0) });
        if (headStatus !== undefined) return void res.writeHead(headStatus).end();
        const b = stored.get(p.replace(/^\/(pub|up)/, ''));
        return void (b ? res.writeHead(200, { 'content-length': String(b.length) }).end() : res.writeHead(404).end());
      }
      const step = plan.shift();
      req.on('data', (c: Buffer) => {
        chunks.push(c);
        // Drop the connection part-way through the body: a network error for the client.
        if (step === 'reset' && Buffer.concat(chunks).length > 50_000 && !req.socket.destroyed) {
          seen.push({ method: 'PUT', body: Buffer.concat(chunks) });
          req.socket.destroy();
        }
      });
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: 'PUT', body });
        if (step === 503) return void res.writeHead(503).end('busy');
        if (step === 429) return void res.writeHead(429, { 'retry-after': '7' }).end('slow down');
        stored.set(p.replace(/^\/up/, ''), body);
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('retries a reset, a 503 and a 429 with a fresh stream each time, honouring Retry-After', async () => {
    plan = ['reset', 503, 429];
    seen.length = 0;
    const sleeps: number[] = [];
    const store = httpStore(cfg({ url: `${base}/pub`, uploadUrl: `${base}/up` }), 'airgap.toml', {
      retries: 3, retryBaseMs: 10, sleep: async (ms) => void sleeps.push(ms),
    });
    await store.put(file, key, data.length);
    const puts = seen.filter((s) => s.method === 'PUT');
    expect(puts.length).toBe(4);
    // every completed attempt carried the whole file from its first byte
    for (const p of puts.slice(1)) expect(p.body.equals(data)).toBe(true);
    expect(puts[0]!.body.length).toBeLessThan(data.length);
    expect(stored.get(`/${sha256}/${key.fileName}`)?.equals(data)).toBe(true);
    // backoff 10, 20, then the server's Retry-After of 7 s
    expect(sleeps).toEqual([10, 20, 7000]);
  });

  it('gives up after the bounded retries, naming the URL, the status and the attempts', async () => {
    plan = [503, 503, 503];
    const k = { sha256, fileName: 'never.tar.gz' };
    const store = httpStore(cfg({ url: `${base}/pub`, uploadUrl: `${base}/up` }), 'airgap.toml', { ...noWait });
    const err = await store.put(file, k, data.length).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as Error).message).toContain(`${base}/up/${sha256}/never.tar.gz`);
    expect((err as Error).message).toContain('HTTP 503 after 3 attempt(s)');
  });

  it('has(): a status other than 200/404 is an error naming the URL and status', async () => {
    headStatus = 500;
    try {
      const store = httpStore(cfg({ url: `${base}/pub`, uploadUrl: `${base}/up` }), 'airgap.toml', { ...noWait });
      const err = await store.has(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as Error).message).toContain(`${base}/pub/${sha256}/${key.fileName}`);
      expect((err as Error).message).toContain('HTTP 500');
    } finally {
      headStatus = undefined;
    }
  });

  it('config errors: token and netrc together, a token variable that is not set, a missing netrc entry', () => {
    expect(() => httpStore(cfg({ url: base, tokenEnv: 'T', netrc: true }), 'airgap.toml', { env: { T: 'x' } })).toThrow(/either token_env or netrc/);
    expect(() => httpStore(cfg({ url: base, tokenEnv: 'NOPE' }), 'airgap.toml', { env: {} })).toThrow(/NOPE is not set/);
    const netrc = path.join(tmp.dir, 'netrc-other');
    writeFileSync(netrc, 'machine example.org login a password b\n');
    expect(() => httpStore(cfg({ url: base, netrc: true }), 'airgap.toml', { env: { NETRC: netrc } })).toThrow(/no "machine 127.0.0.1"/);
  });
});

afterAll(() => tmp.cleanup());
