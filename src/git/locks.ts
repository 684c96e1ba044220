// Stale git lock files. A git process killed mid-update leaves `<ref>.lock` (or
// `packed-refs.lock`, `config.lock`, …) behind, and every later update of that ref fails with
// "File exists" until the file is deleted: a killed run would block the periodic job for good.

import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const TOP_LEVEL = ['HEAD.lock', 'packed-refs.lock', 'config.lock', 'shallow.lock', 'index.lock'];

/**
 * A git child orphaned by a killed run may still be finishing its update for a few seconds;
 * its lock is younger than this and is left alone. Older ones belong to dead processes.
 */
export const STALE_LOCK_MS = 60_000;

/** Removes lock files older than `minAgeMs` from a bare repo we alone write; returns their paths. */
export async function removeStaleLocks(gitDir: string, minAgeMs = STALE_LOCK_MS): Promise<string[]> {
  const cutoff = Date.now() - minAgeMs;
  const found: string[] = TOP_LEVEL.map((n) => join(gitDir, n));
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (e.name.endsWith('.lock')) found.push(join(dir, e.name));
    }
  };
  await walk(join(gitDir, 'refs'));
  const removed: string[] = [];
  for (const f of found) {
    const st = await stat(f).catch(() => undefined);
    if (!st?.isFile() || st.mtimeMs > cutoff) continue;
    await unlink(f).then(() => removed.push(f), () => undefined);
  }
  return removed;
}
