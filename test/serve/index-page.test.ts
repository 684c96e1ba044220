import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirgapError } from '../../src/errors.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { rawRequest, removeDir, tempDir } from './helpers.js';

let dir: string;
let gitRoot: string;
let server: RunningServer;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await tempDir('index');
  gitRoot = path.join(dir, 'git');
  for (const r of ['General.git', 'Example.jl.git', '<script>alert(1)</script>.git', 'Org/Nested.jl.git', '.hidden.git']) {
    await mkdir(path.join(gitRoot, r), { recursive: true });
  }
  server = await startServer({
    port: 0,
    gitRoot,
    artifactsRoot: dir,
    registryRepo: 'General',
    publicUrl: 'https://mirror.internal/',
    log: (l) => logLines.push(l),
  });
});

afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

describe('index page and health', () => {
  it('shows the client setup lines and the repo list, escaped', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('JULIA_PKG_SERVER=""');
    expect(html).toContain('pkg.julialang.org');
    expect(html).toContain('pkg&gt; registry rm General');
    expect(html).toContain('pkg&gt; registry add https://mirror.internal/git/General.git');
    expect(html).toContain('<code>Example.jl</code>');
    expect(html).toContain('<code>Org/Nested.jl</code>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
    expect(html).not.toContain('.hidden');
    expect(html).not.toMatch(/(src|href)=/);
  });

  it('defaults publicUrl to the bound address', async () => {
    const s = await startServer({ port: 0, gitRoot, registryRepo: 'General.git' });
    try {
      const html = await (await fetch(`${s.url}/`)).text();
      expect(html).toContain(`registry add ${s.url}/git/General.git`);
      expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    } finally {
      await s.close();
    }
  });

  it('answers /healthz with ok', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('404s everything else and 405s non-GET on the page', async () => {
    for (const p of ['/nope', '/git', '/index.html', '/healthz/x']) {
      expect((await rawRequest(server.url, p)).status, p).toBe(404);
    }
    expect((await rawRequest(server.url, '/', { method: 'POST' })).status).toBe(405);
  });

  it('logs one line per request without headers', async () => {
    logLines.length = 0;
    await rawRequest(server.url, '/healthz', { headers: { Authorization: 'Bearer sekrit' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatch(/^GET \/healthz 200 2 \d+ms$/);
    expect(logLines.join('\n')).not.toContain('sekrit');
  });

  it('rejects a bad port or a missing root with a typed error', async () => {
    await expect(startServer({ port: 70_000 })).rejects.toBeInstanceOf(AirgapError);
    await expect(startServer({ port: 0, gitRoot: path.join(dir, 'absent') })).rejects.toBeInstanceOf(AirgapError);
    await expect(startServer({ port: server.port })).rejects.toBeInstanceOf(AirgapError);
  });
});
