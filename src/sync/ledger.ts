// The failure ledger: a durable, human-readable record of every item that is not in place.
// The high-water mark (state.json's upstream commit) may move on, but an item in the ledger is
// retried by every later sync until it succeeds, so a failure never becomes a silent hole.

import { readJson, statePaths, writeJson } from './state.js';

export type LedgerKind = 'package' | 'repo' | 'version' | 'artifact' | 'publish';

export interface LedgerItem {
  /** Stable identity, e.g. `version:<uuid>@1.2.3`, `artifact:<sha256>`, `repo:<name>`. */
  key: string;
  kind: LedgerKind;
  package?: string;
  uuid?: string;
  version?: string;
  repo?: string;
  artifact?: string;
  sha256?: string;
  url?: string;
  /** Machine-readable cause: lost-upstream, fetch-failed, http-404, sha256-mismatch, ... */
  code: string;
  reason: string;
  /** Blocking items keep a version out of the fork; lazy artifacts are reported only. */
  blocking: boolean;
  /** True when retrying is pointless until upstream changes (lost tree, 404 on every URL). */
  gone: boolean;
  firstSeen: string;
  lastSeen: string;
  attempts: number;
  nextRetry?: string;
}

export interface Ledger {
  version: 1;
  updated?: string;
  items: LedgerItem[];
}

export type LedgerEntry = Omit<LedgerItem, 'firstSeen' | 'lastSeen' | 'attempts' | 'nextRetry'>;

export async function loadLedger(stateDir: string): Promise<Ledger> {
  return (await readJson<Ledger>(statePaths(stateDir).ledger)) ?? { version: 1, items: [] };
}

const HOUR = 3600_000;

/** Backoff for the next retry: gone items wait longer, since only an upstream change can fix them. */
export function nextRetryDelay(attempts: number, gone: boolean): number {
  const base = gone ? 24 * HOUR : HOUR / 4;
  return Math.min(base * 2 ** Math.max(0, attempts - 1), gone ? 30 * 24 * HOUR : 24 * HOUR);
}

/**
 * The ledger after a sync: exactly this sync's failures, keeping first-seen and attempt counts
 * of items that were already failing. Items that succeeded drop out. `carried` are ledger items
 * this sync deliberately did not retry (backoff): they stay as they were.
 */
export function mergeLedger(prev: Ledger, failures: LedgerEntry[], now: Date, carried: LedgerItem[] = []): Ledger {
  const old = new Map(prev.items.map((i) => [i.key, i]));
  const items = new Map<string, LedgerItem>();
  for (const c of carried) items.set(c.key, c);
  for (const f of failures) {
    const before = old.get(f.key);
    const attempts = (before?.attempts ?? 0) + 1;
    items.set(f.key, {
      ...f,
      firstSeen: before?.firstSeen ?? now.toISOString(),
      lastSeen: now.toISOString(),
      attempts,
      nextRetry: new Date(now.getTime() + nextRetryDelay(attempts, f.gone)).toISOString(),
    });
  }
  return { version: 1, updated: now.toISOString(), items: [...items.values()].sort((a, b) => a.key.localeCompare(b.key)) };
}

export async function saveLedger(stateDir: string, ledger: Ledger): Promise<void> {
  await writeJson(statePaths(stateDir).ledger, ledger);
}
