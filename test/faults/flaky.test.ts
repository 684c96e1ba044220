// A flaky artifact upstream: the world's artifact port is taken over by a server that plays a
// script per route — connection resets mid-body, 5xx and 429 bursts, truncated bodies, headers
// or bodies slower than sync.timeout_seconds, Content-Length that lies either way — before (or
// instead of) serving the right bytes. Downloads retry and either end stored with verified bytes
// or in the ledger naming the URL; no wrong byte is ever stored under any name.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadLedger } from '../../src/sync/ledger.js';
import { sync } from '../../src/sync/pipeline.js';
import { artifactIntegrity, listFiles, writeWorldConfig } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';

type Act = 'ok' | 'reset' | '500' | '503' | '429' | 'truncate' | 'slowHeaders' | 'stall' | 'longLength' | 'shortLength';

const TIMEOUT_S = 1;
const tmp = tempDir('julia-airgap-flaky-');
let world: World;
let server: Server;
const hits: Record<string, number> = {};
/** route -> what the n-th request gets; past the end of the script, the right bytes */
const scripts: Record<string, Act[]> = {};
const bodies: Record<string, Buffer> = {};
const timers = new Set<NodeJS.Timeout>();

function later(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });
}

async function play(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  const n = (hits[p] = (hits[p] ?? 0) + 1);
  const body = bodies[p];
  if (!body) {
    res.writeHead(404).end('not found');
    return;
  }
  const act = scripts[p]?.[n - 1] ?? 'ok';
  const half = body.subarray(0, body.length >> 1);
  const ok = { 'content-type': 'application/octet-stream', 'content-length': String(body.length) };
  switch (act) {
    case 'ok':
      res.writeHead(200, ok).end(body);
      return;
    case '500':
    case '503':
      res.writeHead(Number(act)).end('busy');
      return;
    case '429':
      res.writeHead(429, { 'retry-after': '0' }).end('slow down');
      return;
    case 'reset':
      // headers and some bytes, then a TCP reset
      res.writeHead(200, ok);
      res.write(half, () => res.socket?.resetAndDestroy());
      return;
    case 'truncate':
      res.writeHead(200, ok);
      res.write(half, () => res.socket?.end());
      return;
    case 'slowHeaders':
      await later(TIMEOUT_S * 3000);
      if (!res.destroyed) res.writeHead(200, ok).end(body);
      return;
    case 'stall':
      res.writeHead(200, ok);
      res.write(half);
      await later(TIMEOUT_S * 3000);
      if (!res.destroyed) res.end(body.subarray(half.length));
      return;
    case 'longLength':
      // promises more than it sends, then closes
      res.writeHead(200, { ...ok, 'content-length': String(body.length + 100) });
      res.write(body, () => res.socket?.end());
      return;
    case 'shortLength':
      // a prefix of the right bytes under a Content-Length that says that is all
      res.writeHead(200, { ...ok, 'content-length': String(half.length) });
      res.end(half);
      return;
  }
}

function route(name: string): string {
  return world.artifacts[name]!.route;
}

async function runSync(name: string) {
  const stateDir = path.join(tmp.dir, name);
  const cfg = path.join(tmp.dir, `${name}.toml`);
  writeWorldConfig(cfg, { registry: world.registryDir, stateDir, mirrorUrl: 'http://mirror.invalid', sync: ['retries = 3', `timeout_seconds = ${TIMEOUT_S}`, 'artifact_jobs = 4'] });
  const report = await sync(await loadConfig(cfg));
  return { report, stateDir, ledger: await loadLedger(stateDir) };
}

function assertNoWrongBytes(stateDir: string): number {
  const { problems, checked } = artifactIntegrity(path.join(stateDir, 'artifacts'), path.join(stateDir, 'mirror', 'artifacts'));
  expect(problems).toEqual([]);
  expect(listFiles(path.join(stateDir, 'artifacts', 'tmp'))).toEqual([]);
  return checked;
}

function resetHits(): void {
  for (const k of Object.keys(hits)) delete hits[k];
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  const port = Number(new URL(world.artServer.url).port);
  // The world's wrong-bytes URL keeps serving its wrong bytes.
  for (const [p, r] of Object.entries(world.artServer.routes)) if (r.wrongBytes ?? r.body) bodies[p] = (r.wrongBytes ?? r.body)!;
  await world.artServer.close();
  server = createServer((req, res) => {
    play(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await world?.gitServer.close();
  tmp.cleanup();
});

describe('flaky artifact upstream', () => {
  it('recovers from every transient fault within the retry budget and stores only verified bytes', async () => {
    resetHits();
    scripts[route('Foo.v1.0.0.x86_64-linux-gnu')] = ['reset', '503', 'truncate'];
    scripts[route('Foo.v1.1.0.x86_64-linux-gnu')] = ['slowHeaders', 'longLength'];
    scripts[route('Bar.v1.0.0.x86_64-linux-gnu')] = ['stall', '500', '429'];
    scripts[route('MonoData')] = ['truncate', 'reset'];
    const { report, stateDir, ledger } = await runSync('transient');
    // The world's own failures only: Bar_jll 2.0.0+0 (404) and the lazy FooLazy (404).
    expect(report.exitCode).toBe(3);
    const failed = ledger.items.filter((i) => i.kind === 'artifact').map((i) => i.artifact).sort();
    expect(failed).toEqual(['Bar', 'FooLazy']);
    expect(report.counts.versionsKept).toBe(9);
    for (const [p, s] of Object.entries(scripts)) expect(hits[p], p).toBe(s.length + 1);
    // 4 artifacts cached, published under 5 names (Foo 1.0.0 has two URLs with the same bytes)
    expect(assertNoWrongBytes(stateDir)).toBe(9);
    for (const s of Object.values(scripts)) s.length = 0;
  });

  it('ends in the ledger, naming the URL and the fault, when the faults outlast the retries', async () => {
    resetHits();
    const stalled = route('Bar.v1.0.0.x86_64-linux-gnu');
    const short = route('MonoData');
    const resets = route('Foo.v1.1.0.x86_64-linux-gnu');
    scripts[stalled] = ['stall', 'stall', 'stall', 'stall'];
    scripts[short] = ['shortLength'];
    scripts[resets] = ['reset', 'reset', 'reset', 'reset'];
    const { report, stateDir, ledger } = await runSync('persistent');
    expect(report.exitCode).toBe(3);
    const byName = new Map(ledger.items.filter((i) => i.kind === 'artifact').map((i) => [`${i.artifact}:${i.sha256}`, i]));
    const bar1 = byName.get(`Bar:${world.artifacts['Bar.v1.0.0.x86_64-linux-gnu']!.sha256}`);
    expect(bar1?.code).toBe('timeout');
    expect(bar1?.reason).toContain(stalled);
    expect(bar1?.gone).toBe(false);
    const mono = byName.get(`MonoData:${world.artifacts.MonoData!.sha256}`);
    expect(mono?.code).toBe('sha256-mismatch');
    expect(mono?.reason).toContain(short);
    const foo11 = byName.get(`Foo:${world.artifacts['Foo.v1.1.0.x86_64-linux-gnu']!.sha256}`);
    // the wrong-bytes URL is tried first, then the resetting one, four times
    expect(foo11?.reason).toContain(resets);
    expect(hits[stalled]).toBe(4);
    expect(hits[short]).toBe(1); // wrong bytes are not retried from the same URL
    expect(hits[resets]).toBe(4);
    // Their versions stay out (and MonoB with its dependency MonoA); nothing of them is stored.
    const versions = ledger.items.filter((i) => i.kind === 'version' && i.code !== 'lost-upstream').map((i) => `${i.package}@${i.version}`).sort();
    expect(versions).toEqual(['Bar_jll@1.0.0+0', 'Bar_jll@2.0.0+0', 'Foo_jll@1.1.0+0', 'MonoA@1.0.0', 'MonoB@1.0.0']);
    for (const name of ['Bar.v1.0.0.x86_64-linux-gnu', 'MonoData', 'Foo.v1.1.0.x86_64-linux-gnu']) {
      const sha = world.artifacts[name]!.sha256;
      expect(listFiles(path.join(stateDir, 'artifacts')).filter((f) => f.endsWith(sha)), name).toEqual([]);
      expect(listFiles(path.join(stateDir, 'mirror', 'artifacts')).filter((f) => f.startsWith(sha)), name).toEqual([]);
    }
    assertNoWrongBytes(stateDir);

    // Upstream heals: the next sync retries the ledger's items and completes them.
    for (const s of Object.values(scripts)) s.length = 0;
    // Two days later, past any retry backoff the ledger may impose.
    const later2d = new Date(Date.now() + 2 * 86_400_000);
    const again = await sync(await loadConfig(path.join(tmp.dir, 'persistent.toml')), { now: () => later2d });
    expect(again.exitCode).toBe(3);
    expect(again.counts.versionsKept, JSON.stringify([again.counts, again.failures.map((f) => f.reason), again.warnings], null, 1)).toBe(9);
    const after = (await loadLedger(stateDir)).items.filter((i) => i.kind === 'version' && i.code !== 'lost-upstream').map((i) => i.key);
    expect(after).toEqual([`version:${UUIDS.Bar_jll}@2.0.0+0`]);
    expect(assertNoWrongBytes(stateDir)).toBe(9);
  });
});
