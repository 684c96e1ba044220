// What a resync has to look at: the registry files that changed since the last synced upstream
// commit (one `git diff` in the registry cache), mapped to packages, and which ledger items are
// due for a retry. Everything else is already in place and is left alone, so the work of a
// resync is proportional to what changed upstream plus what is due.

import { git } from '../git/run.js';
import type { RegistryIndex } from '../registry/reader.js';
import type { Ledger, LedgerItem } from './ledger.js';

export interface ChangeSet {
  /** true when every package must be treated as changed (first sync, or the old commit is gone) */
  all: boolean;
  /** why `all` is set, for the log */
  reason?: string;
  /** uuids (lower case) of packages whose registry directory has a changed file */
  packages: Set<string>;
  /** number of changed paths in old..new */
  paths: number;
}

/** The package (uuid) owning a registry path, by the longest package directory that contains it. */
export function packageDirIndex(index: RegistryIndex): (file: string) => string | undefined {
  const dirs = new Map<string, string>();
  for (const [uuid, p] of index.packages) dirs.set(p.path.replace(/\/+$/, ''), uuid);
  return (file) => {
    for (let dir = file; dir.includes('/'); ) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      const uuid = dirs.get(dir);
      if (uuid) return uuid;
    }
    return undefined;
  };
}

/**
 * Packages whose registry files differ between `oldCommit` and `newCommit`. The diff is a tree
 * comparison, so it is right even when upstream rewrote history, as long as the old commit is
 * still in the cache; when it is not (state lost, cache recreated, objects pruned) nothing is
 * known and everything counts as changed.
 */
export async function changedPackages(gitDir: string, oldCommit: string | undefined, newCommit: string, index: RegistryIndex): Promise<ChangeSet> {
  if (!oldCommit) return { all: true, reason: 'no previous upstream commit', packages: new Set(), paths: 0 };
  if (oldCommit === newCommit) return { all: false, packages: new Set(), paths: 0 };
  const res = await git(['diff', '--name-only', '--no-renames', '-z', `${oldCommit}^{commit}`, `${newCommit}^{commit}`, '--'], {
    gitDir,
    allowExitCodes: [128],
  });
  if (res.code !== 0) {
    return { all: true, reason: `previous upstream commit ${oldCommit} is not in the registry cache (history rewritten upstream, or state lost)`, packages: new Set(), paths: 0 };
  }
  const owner = packageDirIndex(index);
  const packages = new Set<string>();
  const files = res.stdout.toString('utf8').split('\0').filter(Boolean);
  for (const f of files) {
    const uuid = owner(f);
    if (uuid) packages.add(uuid);
  }
  return { all: false, packages, paths: files.length };
}

/**
 * Backoff for the ledger: an item is retried once its nextRetry has passed (or always, with
 * `retryAll`). Items not retried are carried into the next ledger unchanged, so their attempt
 * counts and retry times stay honest.
 */
export interface RetryGate {
  /** true when no ledger item has this key, or the item is due */
  due(key: string): boolean;
  item(key: string): LedgerItem | undefined;
  /** keep this item as it is, even if it is due (its version was deferred for another item) */
  hold(key: string): void;
  /** ledger items this sync did not retry */
  carried(): LedgerItem[];
  /** number of items deferred to a later sync */
  deferredCount(): number;
}

export function isDue(item: LedgerItem, now: Date): boolean {
  return !item.nextRetry || Date.parse(item.nextRetry) <= now.getTime();
}

export function retryGate(prev: Ledger, now: Date, retryAll: boolean): RetryGate {
  const items = new Map(prev.items.map((i) => [i.key, i]));
  const held = new Set<string>();
  const due = (key: string) => {
    const i = items.get(key);
    return !i || retryAll || isDue(i, now);
  };
  const carriedKeys = () => [...items.keys()].filter((k) => held.has(k) || !due(k));
  return {
    due,
    item: (key) => items.get(key),
    hold: (key) => {
      if (items.has(key)) held.add(key);
    },
    carried: () => carriedKeys().map((k) => items.get(k)!),
    deferredCount: () => carriedKeys().length,
  };
}
