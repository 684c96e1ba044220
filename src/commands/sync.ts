// `julia-airgap sync`: the scheduled job.

import type { CommandModule } from 'yargs';
import { configSecrets, sync, type SyncReport } from '../sync/pipeline.js';
import { makeReporter } from '../sync/report.js';
import { writeMetricsFile } from '../status/metrics.js';
import { readStatus } from '../status/status.js';
import { configOrFail, fail, printJson, withCommon, type Common } from './common.js';

interface Args extends Common {
  jobs?: number;
  full: boolean;
  retryNow: boolean;
  metricsFile?: string;
  rebaseUrls: boolean;
  wait: number;
}

export function formatSyncSummary(r: SyncReport): string {
  const c = r.counts;
  const lines = [
    `registry: ${r.fork ? `${r.fork.url} (${r.fork.branch} @ ${r.fork.commit.slice(0, 10)}${r.fork.created ? ', new commit' : ', unchanged'})` : 'not published'}`,
    `packages: ${c.packagesKept} of ${c.packagesSelected} selected; versions: ${c.versionsKept} of ${c.versionsRegistered} (${c.versionsPatched} patched, ${c.versionsIncomplete} left out, ${c.versionsLost} lost upstream)`,
    `repos: ${c.repos} (${c.reposFetched} fetched, ${c.reposPushed} pushed); artifacts: ${c.artifactsStored} of ${c.artifactsRequired} stored (${c.artifactsDownloaded} downloaded, ${c.artifactsFailed} failed)`,
  ];
  if (c.versionsRetained) lines.push(`kept as published: ${c.versionsRetained} version(s) upstream no longer lists or this run could not redo`);
  if (c.versionsDeferred) lines.push(`not retried yet: ${c.versionsDeferred} version(s) whose ledger retry is not due (see \`julia-airgap status\`)`);
  for (const q of (r.quarantined ?? []).slice(0, 50)) lines.push(`quarantine: ${q.package} ${q.version} (registered ${q.registered}) waits until ${q.releases}`);
  for (const w of r.warnings.slice(0, 50)) lines.push(`warning: ${w}`);
  if (r.warnings.length > 50) lines.push(`... and ${r.warnings.length - 50} more warnings (see --json)`);
  const blocking = r.failures.filter((f) => f.blocking && !f.gone);
  for (const f of blocking.slice(0, 50)) lines.push(`failed: ${f.key}: ${f.reason}`);
  if (blocking.length > 50) lines.push(`... and ${blocking.length - 50} more (see ledger.json in the state dir)`);
  if (r.error) lines.push(`error: ${r.error.message}`);
  const verdict =
    r.exitCode === 0 ? 'complete' : r.exitCode === 3 ? 'partial: published what was complete; failed items will be retried by the next sync' : 'failed: nothing new was published';
  lines.push(`sync ${verdict}`);
  return lines.join('\n') + '\n';
}

export const syncCommand: CommandModule<object, Args> = {
  command: 'sync',
  describe: 'mirror, patch, fork and publish (the scheduled job)',
  builder: (y) =>
    withCommon(y)
      .option('jobs', { alias: 'j', type: 'number', describe: 'repos fetched/pushed at once (default: sync.jobs, 4)' })
      .option('full', { type: 'boolean', default: false, describe: 'refetch and republish every repo, not only changed ones' })
      .option('retry-now', { type: 'boolean', default: false, describe: 'retry every ledger item now, ignoring its backoff (no full refetch)' })
      .option('metrics-file', { type: 'string', describe: 'write Prometheus metrics to this file after the sync (atomically; node_exporter textfile collector)' })
      .option('rebase-urls', { type: 'boolean', default: false, describe: 'accept a changed artifacts.url: re-patch and republish everything' })
      .option('wait', { type: 'number', default: 0, describe: 'seconds to wait for another run holding the lock' })
      .example('$0 sync --config airgap.toml', 'one sync; exit 0 complete, 3 partial (retried next run), 1 fatal')
      .example('$0 sync --json > report.json', 'machine-readable summary on stdout') as never,
  handler: async (argv) => {
    const config = await configOrFail(argv.config);
    const reporter = makeReporter({ quiet: argv.quiet || argv.json, verbose: argv.verbose, secrets: configSecrets(config, process.env) });
    let report: SyncReport;
    try {
      report = await sync(config, { reporter, jobs: argv.jobs, full: argv.full, retryNow: argv.retryNow, rebaseUrls: argv.rebaseUrls, waitLockMs: argv.wait * 1000 });
    } catch (err) {
      fail(err);
    } finally {
      reporter.close();
    }
    if (argv.metricsFile) {
      // Monitoring must not turn a good sync into a failed one: a metrics write error is a warning.
      await readStatus(config.stateDir)
        .then((s) => writeMetricsFile(argv.metricsFile!, s))
        .catch((err: unknown) => process.stderr.write(`julia-airgap: warning: could not write ${argv.metricsFile}: ${err instanceof Error ? err.message : String(err)}\n`));
    }
    if (argv.json) printJson(report);
    else process.stderr.write(formatSyncSummary(report));
    process.exitCode = report.exitCode;
  },
};
