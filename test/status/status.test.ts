// `status` on a real state dir (a sync of the world fixture): the text, the JSON, the
// Prometheus metrics file, and whether a sync is running (the lock with a live or dead pid).

import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { renderMetrics, writeMetricsFile } from '../../src/status/metrics.js';
import { formatStatus, readStatus } from '../../src/status/status.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';
import { fakeClock, writeConfig } from '../resync/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const tmp = tempDir('julia-airgap-status-');
const stateDir = path.join(tmp.dir, 'state');
const clock = fakeClock(Date.parse('2030-01-01T00:00:00Z'));
let world: World;
let config: Config;
let report: SyncReport;

/** Prometheus samples as "name{labels}" -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  config = await writeConfig(tmp.dir, world.registryDir);
  report = await sync(config, { now: clock.now });
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('status', () => {
  it('reports the last sync and the ledger grouped by kind', async () => {
    const s = await readStatus(stateDir);
    expect(s.running).toBe(false);
    expect(s.lastSync?.exitCode).toBe(3);
    expect(s.lastSync?.upstreamCommit).toBe(report.upstream?.commit);
    expect(s.lastSync?.forkCommit).toBe(report.fork?.commit);
    expect(s.lastSync?.finished).toBe(clock.now().toISOString());
    const groups = Object.fromEntries(s.ledger.groups.map((g) => [`${g.kind}/${g.gone}`, g.count]));
    // Bar_jll 2.0.0+0 (blocked by its artifact) and the lost Example 0.4.0; the 404 artifacts (Bar, FooLazy) are gone.
    expect(groups).toEqual({ 'version/false': 1, 'version/true': 1, 'artifact/true': 2 });

    const text = formatStatus(s, new Date(clock.get() + 2 * 3600_000));
    expect(text).toContain('sync running: no');
    expect(text).toContain(`exit 3 (partial`);
    expect(text).toContain(`upstream commit: ${report.upstream!.commit}`);
    expect(text).toContain(`fork commit:     ${report.fork!.commit}`);
    expect(text).toMatch(/finished 2030-01-01T00:00:00.000Z \(2h ago\)/);
    expect(text).toContain('ledger: 4 item(s) not in place');
    expect(text).toMatch(/Bar_jll 2\.0\.0\+0 — artifact-missing: /);
    expect(text).toMatch(/Example 0\.4\.0 — lost-upstream: /);
    expect(text).toMatch(/first seen 2030-01-01T00:00:00.000Z, 1 attempt\(s\), next retry 2030-01-01T00:15:00.000Z/);
  });

  it('says a sync is running when a live process holds the lock, and not when the holder is dead', async () => {
    const lock = path.join(stateDir, 'lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: '2030-01-01T00:00:00.000Z', command: 'sync' }) + '\n');
    try {
      const live = await readStatus(stateDir);
      expect(live.running).toBe(true);
      expect(formatStatus(live)).toContain(`sync running: yes — pid ${process.pid}`);
      expect(samples(renderMetrics(live)).get('julia_airgap_sync_running')).toBe(1);
      // A pid that has exited: spawn a short-lived child and wait for it to end.
      const child = spawn(process.execPath, ['-e', '0']);
      const dead = child.pid!;
      await new Promise((r) => child.on('exit', r));
      writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname(), started: '2030-01-01T00:00:00.000Z', command: 'sync' }) + '\n');
      const stale = await readStatus(stateDir);
      expect(stale.running).toBe(false);
      expect(formatStatus(stale)).toContain(`stale lock of dead pid ${dead}`);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('writes Prometheus metrics atomically with the counts of the last sync', async () => {
    const dir = path.join(tmp.dir, 'textfile');
    const file = path.join(dir, 'julia_airgap.prom');
    await writeMetricsFile(file, await readStatus(stateDir));
    expect(readdirSync(dir)).toEqual(['julia_airgap.prom']);
    const text = readFileSync(file, 'utf8');
    const m = samples(text);
    expect(m.get('julia_airgap_last_sync_timestamp_seconds')).toBe(Date.parse('2030-01-01T00:00:00Z') / 1000);
    expect(m.get('julia_airgap_last_sync_duration_seconds')).toBe(0);
    expect(m.get('julia_airgap_last_sync_exit_code')).toBe(3);
    expect(m.get('julia_airgap_packages_kept')).toBe(report.counts.packagesKept);
    expect(m.get('julia_airgap_versions_kept')).toBe(9);
    expect(m.get('julia_airgap_versions_incomplete')).toBe(report.counts.versionsIncomplete);
    expect(m.get('julia_airgap_artifacts_stored')).toBe(report.counts.artifactsStored);
    expect(m.get('julia_airgap_ledger_items{kind="version",gone="false"}')).toBe(1);
    expect(m.get('julia_airgap_ledger_items{kind="version",gone="true"}')).toBe(1);
    expect(m.get('julia_airgap_ledger_items{kind="artifact",gone="true"}')).toBe(2);
    expect(m.get('julia_airgap_ledger_items{kind="repo",gone="false"}')).toBe(0);
    expect(m.get('julia_airgap_quarantined_versions')).toBe(0);
    // every sample has HELP and TYPE
    for (const name of new Set([...m.keys()].map((k) => k.replace(/\{.*$/, '')))) {
      expect(text).toContain(`# TYPE ${name} gauge`);
      expect(text).toContain(`# HELP ${name} `);
    }
  });

  it('the CLI prints --json and writes --metrics-file', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it in pretest)`);
    const metrics = path.join(tmp.dir, 'cli.prom');
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--config', config.file, '--json', '--metrics-file', metrics], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const json = JSON.parse(stdout) as { running: boolean; lastSync: { exitCode: number; counts: Record<string, number> }; ledger: { items: Array<{ key: string; attempts: number }> } };
    expect(json.running).toBe(false);
    expect(json.lastSync.exitCode).toBe(3);
    expect(json.lastSync.counts.versionsKept).toBe(9);
    expect(json.ledger.items.find((i) => i.key === `version:${UUIDS.Bar_jll}@2.0.0+0`)?.attempts).toBe(1);
    expect(samples(readFileSync(metrics, 'utf8')).get('julia_airgap_last_sync_exit_code')).toBe(3);
    const text = await promisify(execFile)(process.execPath, [CLI, 'status', '--config', config.file], { encoding: 'utf8', timeout: 60_000 });
    expect(text.stdout).toContain('ledger: 4 item(s) not in place');
  });
});
