import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockError } from '../../src/errors.js';
import { mergeLedger, nextRetryDelay, type LedgerEntry } from '../../src/sync/ledger.js';
import { acquireLock, loadState, saveState, writeFileAtomic } from '../../src/sync/state.js';
import { tempDir } from '../fixtures/gitrepo.js';

const tmp = tempDir('julia-airgap-state-');
afterAll(() => tmp.cleanup());

describe('lock', () => {
  it('a second holder is refused with a message naming the first', async () => {
    const dir = path.join(tmp.dir, 'l1');
    const lock = await acquireLock(dir, 'sync');
    const err = await acquireLock(dir, 'sync').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LockError);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect((err as Error).message).toContain('--wait');
    await lock.release();
    const again = await acquireLock(dir, 'sync');
    await again.release();
  });

  it('waits for the holder when asked to', async () => {
    const dir = path.join(tmp.dir, 'l2');
    const lock = await acquireLock(dir, 'sync');
    setTimeout(() => void lock.release(), 300);
    const second = await acquireLock(dir, 'sync', 10_000);
    expect(JSON.parse(readFileSync(second.file, 'utf8')).pid).toBe(process.pid);
    await second.release();
  });

  it('takes over the lock of a dead process', async () => {
    const dir = path.join(tmp.dir, 'l3');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    await acquireLock(dir, 'x').then((l) => l.release());
    writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: deadPid, host: hostname(), started: 'then', command: 'sync' }));
    const lock = await acquireLock(dir, 'sync');
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(path.join(dir, 'lock'))).toBe(false);
  });

  it('does not take over a live process on another host name', async () => {
    const dir = path.join(tmp.dir, 'l4');
    await acquireLock(dir, 'x').then((l) => l.release());
    writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: 1, host: 'some-other-host', started: 'then', command: 'sync' }));
    await expect(acquireLock(dir, 'sync')).rejects.toThrow(/some-other-host/);
  });
});

describe('atomic state', () => {
  it('writes leave no temp files and round-trip', async () => {
    const dir = path.join(tmp.dir, 's1');
    const s = await loadState(dir);
    expect(s.version).toBe(1);
    s.upstream = { url: 'u', branch: 'master', commit: 'c'.repeat(40) };
    await saveState(dir, s);
    expect((await loadState(dir)).upstream?.commit).toBe('c'.repeat(40));
    await writeFileAtomic(path.join(dir, 'x.txt'), 'hello');
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('a corrupt state file is an error naming it, not a silent reset', async () => {
    const dir = path.join(tmp.dir, 's2');
    await writeFileAtomic(path.join(dir, 'state.json'), '{ not json');
    await expect(loadState(dir)).rejects.toThrow(/state\.json/);
  });
});

describe('ledger', () => {
  const entry = (key: string, gone = false): LedgerEntry => ({ key, kind: 'artifact', code: 'http-404', reason: 'r', blocking: true, gone });

  it('keeps first seen, counts attempts, and drops what succeeded', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const t2 = new Date('2026-01-02T00:00:00Z');
    const l1 = mergeLedger({ version: 1, items: [] }, [entry('a'), entry('b')], t1);
    const l2 = mergeLedger(l1, [entry('a')], t2);
    expect(l2.items.map((i) => i.key)).toEqual(['a']);
    expect(l2.items[0]!.firstSeen).toBe(t1.toISOString());
    expect(l2.items[0]!.lastSeen).toBe(t2.toISOString());
    expect(l2.items[0]!.attempts).toBe(2);
  });

  it('backs off, and longer for gone items', () => {
    expect(nextRetryDelay(2, false)).toBeGreaterThan(nextRetryDelay(1, false));
    expect(nextRetryDelay(1, true)).toBeGreaterThan(nextRetryDelay(1, false));
    expect(nextRetryDelay(50, false)).toBe(24 * 3600_000);
  });
});

describe('atomic writes on a broken target', () => {
  it('names the file and keeps the previous version when the directory cannot be written', async () => {
    const dir = path.join(tmp.dir, 'broken');
    await writeFileAtomic(path.join(dir, 'state.json'), '{"version":1}');
    // a file where a directory should be: every write below it fails, whatever the user (root too)
    writeFileSync(path.join(dir, 'blocker'), 'x');
    const err = await writeFileAtomic(path.join(dir, 'blocker', 'x.json'), 'y').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(path.join(dir, 'blocker', 'x.json'));
    expect(err?.message).toMatch(/cannot write \((ENOTDIR|EEXIST)\)/);
    expect(readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe('{"version":1}');
  });
});
