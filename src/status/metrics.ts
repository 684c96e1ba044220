// Prometheus text exposition of the status, for node_exporter's textfile collector. The file is
// replaced atomically (temp name without the .prom suffix in the same directory, then rename),
// so the collector never reads half a file.

import { writeFileAtomic } from '../sync/state.js';
import type { StatusReport } from './status.js';

const P = 'julia_airgap';

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(s: StatusReport): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${P}_${name} ${help}`, `# TYPE ${P}_${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',');
      lines.push(`${P}_${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  };
  const last = s.lastSync;
  const c = last?.counts ?? {};
  metric('sync_running', 'Whether a sync holds the lock now (1) or not (0).', [[{}, s.running ? 1 : 0]]);
  if (last) {
    metric('last_sync_timestamp_seconds', 'When the last sync finished (Unix time).', [[{}, Date.parse(last.finished) / 1000]]);
    metric('last_sync_duration_seconds', 'How long the last sync took.', [[{}, last.durationMs / 1000]]);
    metric('last_sync_exit_code', 'Exit code of the last sync: 0 complete, 3 partial (retried next run), 1 fatal.', [[{}, last.exitCode]]);
    metric('packages_kept', 'Packages in the published fork after the last sync.', [[{}, c.packagesKept ?? 0]]);
    metric('versions_kept', 'Versions in the published fork after the last sync.', [[{}, c.versionsKept ?? 0]]);
    metric('versions_incomplete', 'Selected versions left out of the fork by the last sync (retried).', [[{}, c.versionsIncomplete ?? 0]]);
    metric('artifacts_stored', 'Artifacts in place in the store after the last sync.', [[{}, c.artifactsStored ?? 0]]);
  }
  const groups: Array<[Record<string, string>, number]> = [];
  for (const kind of ['package', 'repo', 'version', 'artifact', 'publish']) {
    for (const gone of [false, true]) {
      const g = s.ledger.groups.find((x) => x.kind === kind && x.gone === gone);
      groups.push([{ kind, gone: String(gone) }, g?.count ?? 0]);
    }
  }
  metric('ledger_items', 'Items not in place, by kind; gone items need an upstream change.', groups);
  metric('quarantined_versions', 'Versions held back by select.quarantine at the last sync.', [[{}, s.quarantined.length]]);
  return lines.join('\n') + '\n';
}

export async function writeMetricsFile(file: string, s: StatusReport): Promise<void> {
  await writeFileAtomic(file, renderMetrics(s));
}
