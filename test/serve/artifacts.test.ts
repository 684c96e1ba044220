import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { rawRequest, removeDir, tempDir } from './helpers.js';

let dir: string;
let root: string;
let server: RunningServer;
const content = randomBytes(100_000);
const name = 'a'.repeat(40) + '.tar.gz';

beforeAll(async () => {
  dir = await tempDir('artifacts');
  root = path.join(dir, 'artifacts');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(root, name), content);
  await writeFile(path.join(root, 'sub', 'nested.bin'), 'nested');
  await writeFile(path.join(root, 'empty.bin'), '');
  await writeFile(path.join(root, '%2e'), 'literal percent-two-e');
  await writeFile(path.join(root, '.tmp-partial'), 'half written');
  await writeFile(path.join(dir, 'secret.txt'), 'outside the root');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'escape'));
  await symlink(dir, path.join(root, 'escape-dir'));
  await symlink('.tmp-partial', path.join(root, 'to-dotfile'));
  await symlink(name, path.join(root, 'alias.tar.gz'));
  server = await startServer({ port: 0, artifactsRoot: root });
});

afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

describe('artifact files', () => {
  it('serves a full GET with the immutable caching headers', async () => {
    const res = await fetch(`${server.url}/artifacts/${name}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    expect(res.headers.get('content-length')).toBe(String(content.length));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
  });

  it('serves nested paths, empty files, and symlinks that stay inside the root', async () => {
    const nested = await fetch(`${server.url}/artifacts/sub/nested.bin`);
    expect(nested.status).toBe(200);
    expect(await nested.text()).toBe('nested');
    const empty = await fetch(`${server.url}/artifacts/empty.bin`);
    expect(empty.status).toBe(200);
    expect(empty.headers.get('content-length')).toBe('0');
    expect((await empty.arrayBuffer()).byteLength).toBe(0);
    const alias = await fetch(`${server.url}/artifacts/alias.tar.gz`);
    expect(alias.status).toBe(200);
    expect(Buffer.from(await alias.arrayBuffer()).equals(content)).toBe(true);
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await rawRequest(server.url, `/artifacts/${name}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(content.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.body.length).toBe(0);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await fetch(`${server.url}/artifacts/${name}`, { method: 'HEAD' });
    const etag = first.headers.get('etag') ?? '';
    const res = await rawRequest(server.url, `/artifacts/${name}`, { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
  });

  const n = content.length;
  for (const [range, start, end] of [
    ['bytes=0-99', 0, 99],
    ['bytes=10-10', 10, 10],
    ['bytes=99000-', 99_000, n - 1],
    ['bytes=-500', n - 500, n - 1],
    ['bytes=-1000000', 0, n - 1],
    ['bytes=99990-200000', 99_990, n - 1],
  ] as const) {
    it(`serves Range ${range} as 206`, async () => {
      const res = await fetch(`${server.url}/artifacts/${name}`, { headers: { Range: range } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${n}`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(start, end + 1))).toBe(true);
    });
  }

  for (const range of [`bytes=${n}-`, `bytes=${n + 5}-${n + 10}`, 'bytes=-0']) {
    it(`answers unsatisfiable Range ${range} with 416`, async () => {
      const res = await fetch(`${server.url}/artifacts/${name}`, { headers: { Range: range } });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${n}`);
      await res.arrayBuffer();
    });
  }

  it('ignores multi-range, malformed and stale If-Range requests (full 200)', async () => {
    const cases: Array<Record<string, string>> = [
      { Range: 'bytes=0-1,5-6' },
      { Range: 'items=0-5' },
      { Range: 'bytes=9-3' },
      { Range: 'bytes=0-5', 'If-Range': '"stale"' },
    ];
    for (const headers of cases) {
      const res = await fetch(`${server.url}/artifacts/${name}`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(n);
    }
  });

  it('404s missing files and directories (no listings)', async () => {
    for (const p of ['/artifacts/missing.tar.gz', '/artifacts/sub', '/artifacts/sub/', '/artifacts/', '/artifacts']) {
      expect((await rawRequest(server.url, p)).status, p).toBe(404);
    }
  });

  it('refuses other methods with 405', async () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const res = await rawRequest(server.url, `/artifacts/${name}`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
  });

  it('never serves anything outside the root or any dot file', async () => {
    const attempts = [
      '/artifacts/../secret.txt',
      '/artifacts/../../etc/passwd',
      '/artifacts/sub/../../secret.txt',
      '/artifacts/%2e%2e/secret.txt',
      '/artifacts/%2E%2e/secret.txt',
      '/artifacts/%2E%2E%2Fsecret.txt',
      '/artifacts/sub%2F..%2F..%2Fsecret.txt',
      '/artifacts/..%5Csecret.txt',
      '/artifacts/..\\secret.txt',
      '/artifacts/%00',
      `/artifacts/${name}%00`,
      '/artifacts//etc/passwd',
      '/artifacts/%2Fetc%2Fpasswd',
      '//etc/passwd',
      '/artifacts/escape',
      '/artifacts/escape-dir/secret.txt',
      '/artifacts/.tmp-partial',
      '/artifacts/%2etmp-partial',
      '/artifacts/to-dotfile',
      '/artifacts/./' + name,
    ];
    for (const p of attempts) {
      const res = await rawRequest(server.url, p);
      expect([400, 404], p).toContain(res.status);
      expect(res.body.toString()).not.toContain('outside the root');
      expect(res.body.toString()).not.toContain('half written');
      expect(res.body.toString()).not.toContain('root:');
    }
  });

  it('treats double-encoded dots as a literal file name', async () => {
    const res = await rawRequest(server.url, '/artifacts/%252e');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('literal percent-two-e');
    expect((await rawRequest(server.url, '/artifacts/%252e%252e/secret.txt')).status).toBe(404);
  });
});
