import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchArtifact } from '../../src/artifacts/fetch.js';
import { proxyDispatcher } from '../../src/artifacts/proxy.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { startServer } from '../fixtures/httpserver.js';
import { makeArtifactTarball } from '../fixtures/tarballs.js';

const tmp = tempDir('julia-airgap-proxy-');
afterAll(() => tmp.cleanup());

/** A minimal forward proxy (absolute-URI requests and CONNECT tunnels, as squid does), recording what passes. */
async function startProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  // undici tunnels through CONNECT even for http:// targets
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url ?? ''}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('artifact downloads through a proxy', () => {
  it('no proxy variables: no proxy dispatcher', () => {
    expect(proxyDispatcher({})).toBeUndefined();
  });

  it('http_proxy routes artifact downloads through the proxy, bytes verified', async () => {
    const t = await makeArtifactTarball(path.join(tmp.dir, 'a'));
    const origin = await startServer({ '/a.tar.gz': t.bytes });
    const proxy = await startProxy();
    const dispatcher = proxyDispatcher({ http_proxy: proxy.url })!;
    try {
      const res = await fetchArtifact([{ url: `${origin.url}/a.tar.gz`, sha256: t.sha256 }], t.treeSha1, path.join(tmp.dir, 'cache'), { dispatcher, retries: 0 });
      expect(res.ok).toBe(true);
      expect(res.sha256).toBe(t.sha256);
      expect(proxy.seen).toEqual([`CONNECT ${origin.url.replace('http://', '')}`]);
      expect(origin.hits['/a.tar.gz']).toBe(1);
    } finally {
      await dispatcher.close();
      await proxy.close();
      await origin.close();
    }
  });

  it('no_proxy hosts go direct', async () => {
    const t = await makeArtifactTarball(path.join(tmp.dir, 'b'));
    const origin = await startServer({ '/b.tar.gz': t.bytes });
    const proxy = await startProxy();
    const dispatcher = proxyDispatcher({ http_proxy: proxy.url, no_proxy: '127.0.0.1' })!;
    try {
      const res = await fetchArtifact([{ url: `${origin.url}/b.tar.gz`, sha256: t.sha256 }], t.treeSha1, path.join(tmp.dir, 'cache2'), { dispatcher, retries: 0 });
      expect(res.ok).toBe(true);
      expect(proxy.seen).toEqual([]);
    } finally {
      await dispatcher.close();
      await proxy.close();
      await origin.close();
    }
  });
});
