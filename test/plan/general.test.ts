// `plan` over the whole of General 2024-04-04 (../shared/data), extracted as a plain directory:
// the counts come from the directory alone, with no network. Proxies point at a closed loopback
// port and every socket connect in this process is watched, so any attempt would show.

import { GENERAL_TARBALL, HAVE_GENERAL, generalDir } from '../fixtures/general.js';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { plan } from '../../src/plan/index.js';

const DATA = GENERAL_TARBALL;
const HAVE_DATA = HAVE_GENERAL;
const PROXY_VARS = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY'] as const;

it.skipIf(HAVE_DATA)(`plan on General skipped: ${DATA} is absent (a clone without ../shared/data)`, () => {});

/** A loopback port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe.skipIf(!HAVE_DATA)('plan on General 2024-04-04 (select.all)', () => {
  let tmp: string;
  let registry: string;
  let port: number;
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'airgap-plan-general-'));
    registry = await generalDir();
    port = await closedPort();
    const proxy = `http://127.0.0.1:${port}`;
    for (const k of PROXY_VARS) {
      savedEnv[k] = process.env[k];
      process.env[k] = proxy;
    }
  }, 120_000);

  afterAll(async () => {
    for (const k of PROXY_VARS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('reports 10,728 packages and 103,514 versions without touching the network', async () => {
    const stateDir = join(tmp, 'state');
    const config = resolveConfig({ state_dir: stateDir, upstream: { registry }, select: { all: true } }, join(tmp, 'airgap.toml'));
    const connect = vi.spyOn(Socket.prototype, 'connect');
    try {
      // The watch sees a connect attempt (here to the closed proxy port) ...
      await new Promise<void>((resolve) => new Socket().once('error', () => resolve()).connect(port, '127.0.0.1'));
      expect(connect).toHaveBeenCalledTimes(1);
      connect.mockClear();
      // ... and the plan makes none.
      const r = await plan(config, { env: process.env });
      expect(r.registry.source).toBe('directory');
      expect(r.registry.name).toBe('General');
      expect(r.packages).toBe(10_728);
      expect(r.versions).toBe(103_514);
      expect(r.yanked).toBe(255);
      expect(r.repos).toBe(r.repoList.length);
      expect(r.repos).toBeGreaterThan(9_000);
      expect(r.reposCached).toBe(0);
      expect(r.reposToFetch).toBe(r.repos);
      expect(r.versionsCached).toBe(0);
      expect(r.artifacts.total).toBe(0);
      expect(connect).not.toHaveBeenCalled();
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      connect.mockRestore();
    }
  }, 120_000);
});
