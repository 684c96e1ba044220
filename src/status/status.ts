// `status`: what the last sync did, what is still missing (the ledger), and whether a sync is
// running now. Read-only: it never takes the lock, so it works while a sync runs.

import { loadLedger, type LedgerItem, type LedgerKind } from '../sync/ledger.js';
import { loadState, lockHolder, type LockHolder, type State, type SyncSummary } from '../sync/state.js';

export interface LedgerGroup {
  kind: LedgerKind;
  gone: boolean;
  count: number;
}

export interface StatusReport {
  stateDir: string;
  /** the lock's holder; `alive: false` means a crashed run whose lock the next sync takes over */
  lock?: LockHolder;
  /** true when a live process holds the lock (or one on another host we cannot check) */
  running: boolean;
  lastSync?: SyncSummary;
  lastFullSync?: string;
  upstream?: State['upstream'];
  fork?: State['fork'];
  quarantined: NonNullable<State['quarantined']>;
  ledger: { updated?: string; items: LedgerItem[]; groups: LedgerGroup[] };
}

export async function readStatus(stateDir: string): Promise<StatusReport> {
  const [state, ledger, lock] = await Promise.all([loadState(stateDir), loadLedger(stateDir), lockHolder(stateDir)]);
  const groups = new Map<string, LedgerGroup>();
  for (const i of ledger.items) {
    const k = `${i.kind}\0${i.gone}`;
    const g = groups.get(k) ?? { kind: i.kind, gone: i.gone, count: 0 };
    g.count++;
    groups.set(k, g);
  }
  return {
    stateDir,
    lock,
    running: lock !== undefined && lock.alive !== false,
    lastSync: state.lastSync,
    lastFullSync: state.lastFullSync,
    upstream: state.upstream,
    fork: state.fork,
    quarantined: state.quarantined ?? [],
    ledger: {
      updated: ledger.updated,
      items: ledger.items,
      groups: [...groups.values()].sort((a, b) => a.kind.localeCompare(b.kind) || Number(a.gone) - Number(b.gone)),
    },
  };
}

const EXIT_MEANING: Record<number, string> = {
  0: 'complete',
  3: 'partial: what was complete is published; the ledger items are retried',
  1: 'failed: nothing new was published',
};

function ago(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const abs = Math.abs(ms);
  const span = abs < 120_000 ? `${Math.round(abs / 1000)}s` : abs < 7_200_000 ? `${Math.round(abs / 60_000)}m` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)}h` : `${Math.round(abs / 86_400_000)}d`;
  return `${iso} (${ms >= 0 ? `${span} ago` : `in ${span}`})`;
}

function what(i: LedgerItem): string {
  if (i.kind === 'version') return `${i.package ?? i.uuid} ${i.version}`;
  if (i.kind === 'artifact') return `artifact ${i.artifact ?? ''} ${i.sha256 ? i.sha256.slice(0, 12) : ''}`.trim();
  if (i.kind === 'repo') return `repo ${i.repo ?? ''}`;
  if (i.kind === 'package') return `package ${i.package ?? ''} [${i.uuid ?? ''}]`;
  return i.key;
}

/** The human form of `status`. */
export function formatStatus(s: StatusReport, now: Date = new Date()): string {
  const out: string[] = [`state dir: ${s.stateDir}`];
  if (s.lock && s.lock.alive !== false) out.push(`sync running: yes — pid ${s.lock.pid} on ${s.lock.host} (${s.lock.command}), since ${ago(s.lock.started, now)}`);
  else if (s.lock) out.push(`sync running: no (stale lock of dead pid ${s.lock.pid} from ${s.lock.started}; the next sync takes it over)`);
  else out.push('sync running: no');
  const l = s.lastSync;
  if (!l) {
    out.push('last sync: never');
  } else {
    const c = l.counts;
    out.push(
      `last sync: finished ${ago(l.finished, now)}, took ${(l.durationMs / 1000).toFixed(1)}s, exit ${l.exitCode} (${EXIT_MEANING[l.exitCode] ?? 'unknown'})`,
      `  upstream commit: ${l.upstreamCommit ?? '-'}`,
      `  fork commit:     ${l.forkCommit ?? '-'}`,
      `  packages ${c.packagesKept ?? 0} kept of ${c.packagesSelected ?? 0}; versions ${c.versionsKept ?? 0} kept, ${c.versionsIncomplete ?? 0} incomplete, ${c.versionsLost ?? 0} lost upstream, ${c.versionsQuarantined ?? 0} in quarantine`,
      `  repos ${c.reposFetched ?? 0} fetched, ${c.reposPushed ?? 0} pushed of ${c.repos ?? 0}; artifacts ${c.artifactsStored ?? 0} stored, ${c.artifactsDownloaded ?? 0} downloaded, ${c.artifactsFailed ?? 0} failed`,
    );
  }
  out.push(`last full refresh: ${s.lastFullSync ? ago(s.lastFullSync, now) : 'never'}`);
  if (s.quarantined.length) {
    out.push(`in quarantine (${s.quarantined.length}):`);
    for (const q of s.quarantined) out.push(`  ${q.package} ${q.version}: registered ${q.registered}, published by the first sync after ${q.releases}`);
  }
  if (s.ledger.items.length === 0) {
    out.push('ledger: empty — everything asked for is in place');
  } else {
    out.push(`ledger: ${s.ledger.items.length} item(s) not in place (updated ${s.ledger.updated ?? '-'})`);
    for (const g of s.ledger.groups) {
      out.push(`  ${g.kind}${g.gone ? ' (gone: only an upstream change can fix these; retried rarely)' : ''}: ${g.count}`);
      for (const i of s.ledger.items.filter((x) => x.kind === g.kind && x.gone === g.gone)) {
        out.push(
          `    ${what(i)}${i.blocking ? '' : ' [not blocking]'} — ${i.code}: ${i.reason}`,
          `      first seen ${i.firstSeen}, ${i.attempts} attempt(s), next retry ${i.nextRetry ? ago(i.nextRetry, now) : '-'}`,
        );
      }
    }
  }
  return out.join('\n') + '\n';
}
