#!/usr/bin/env node
// Arguments -> library calls, nothing else.

import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig, type Config } from './config.js';
import { AirgapError, errorMessage } from './errors.js';
import { configSecrets, sync, type SyncReport } from './sync/pipeline.js';
import { makeReporter } from './sync/report.js';
import { startServer } from './serve/server.js';

interface Common {
  config: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

function withCommon<T>(y: Argv<T>): Argv<T & Common> {
  return y
    .option('config', { alias: 'c', type: 'string', default: 'airgap.toml', describe: 'path to airgap.toml' })
    .option('json', { type: 'boolean', default: false, describe: 'print a machine-readable summary on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only warnings and errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'debug output' }) as Argv<T & Common>;
}

function fail(err: unknown): never {
  const msg = err instanceof AirgapError ? err.message : `internal error: ${errorMessage(err)}`;
  process.stderr.write(`julia-airgap: ${msg}\n`);
  process.exit(1);
}

function printSyncSummary(r: SyncReport): void {
  const c = r.counts;
  const lines = [
    `registry: ${r.fork ? `${r.fork.url} (${r.fork.branch} @ ${r.fork.commit.slice(0, 10)}${r.fork.created ? ', new commit' : ', unchanged'})` : 'not published'}`,
    `packages: ${c.packagesKept} of ${c.packagesSelected} selected; versions: ${c.versionsKept} of ${c.versionsRegistered} (${c.versionsPatched} patched, ${c.versionsIncomplete} left out, ${c.versionsLost} lost upstream)`,
    `repos: ${c.repos} (${c.reposFetched} fetched, ${c.reposPushed} pushed); artifacts: ${c.artifactsStored} of ${c.artifactsRequired} stored (${c.artifactsDownloaded} downloaded, ${c.artifactsFailed} failed)`,
  ];
  for (const w of r.warnings.slice(0, 50)) lines.push(`warning: ${w}`);
  if (r.warnings.length > 50) lines.push(`... and ${r.warnings.length - 50} more warnings (see --json)`);
  const blocking = r.failures.filter((f) => f.blocking && !f.gone);
  for (const f of blocking.slice(0, 50)) lines.push(`failed: ${f.key}: ${f.reason}`);
  if (blocking.length > 50) lines.push(`... and ${blocking.length - 50} more (see ledger.json in the state dir)`);
  if (r.error) lines.push(`error: ${r.error.message}`);
  const verdict = r.exitCode === 0 ? 'complete' : r.exitCode === 3 ? 'partial: published what was complete; failed items will be retried by the next sync' : 'failed: nothing new was published';
  lines.push(`sync ${verdict}`);
  process.stderr.write(lines.join('\n') + '\n');
}

async function runSync(argv: Common & { jobs?: number; full: boolean; rebaseUrls: boolean; wait: number }): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig(argv.config);
  } catch (err) {
    fail(err);
  }
  const reporter = makeReporter({ quiet: argv.quiet || argv.json, verbose: argv.verbose, secrets: configSecrets(config, process.env) });
  let report: SyncReport;
  try {
    report = await sync(config, { reporter, jobs: argv.jobs, full: argv.full, rebaseUrls: argv.rebaseUrls, waitLockMs: argv.wait * 1000 });
  } catch (err) {
    fail(err);
  } finally {
    reporter.close();
  }
  if (argv.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printSyncSummary(report);
  process.exitCode = report.exitCode;
}

async function runServe(argv: Common & { host: string; port: number; gitRoot?: string; artifactsRoot?: string }): Promise<void> {
  let gitRoot = argv.gitRoot;
  let artifactsRoot = argv.artifactsRoot;
  let registryRepo = 'General';
  if (!gitRoot || !artifactsRoot) {
    const config = await loadConfig(argv.config).catch(fail);
    if (config.git.kind !== 'dir' || config.artifacts.kind !== 'dir') {
      fail(new AirgapError('config', `serve only serves "dir" targets; this config publishes to ${config.git.kind}/${config.artifacts.kind}`));
    }
    gitRoot ??= config.git.path;
    artifactsRoot ??= config.artifacts.path;
    registryRepo = config.registry.repo;
  }
  const server = await startServer({
    host: argv.host, port: argv.port, gitRoot, artifactsRoot, registryRepo,
    log: argv.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
  }).catch(fail);
  process.stderr.write(`julia-airgap serve: listening on ${server.url}\n  git:       ${server.url}/git/  (from ${gitRoot})\n  artifacts: ${server.url}/artifacts/  (from ${artifactsRoot})\n  registry:  pkg> registry add ${server.url}/git/${registryRepo}.git\n`);
  const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('julia-airgap')
    .usage('$0 <command> [options]\n\nMirror a Julia registry, its package repositories and their artifacts into an air-gapped network.')
    .command(
      'sync',
      'mirror, patch, fork and publish (the scheduled job)',
      (y) =>
        withCommon(y)
          .option('jobs', { alias: 'j', type: 'number', describe: 'repos fetched/pushed at once (default: sync.jobs, 4)' })
          .option('full', { type: 'boolean', default: false, describe: 'refetch and republish every repo, not only changed ones' })
          .option('rebase-urls', { type: 'boolean', default: false, describe: 'accept a changed artifacts.url: re-patch and republish everything' })
          .option('wait', { type: 'number', default: 0, describe: 'seconds to wait for another run holding the lock' })
          .example('$0 sync --config airgap.toml', 'one sync; exit 0 complete, 3 partial (retried next run), 1 fatal'),
      (argv) => runSync(argv as never),
    )
    .command(
      'serve',
      'serve the dir targets: git smart HTTP at /git/, artifacts at /artifacts/',
      (y) =>
        withCommon(y)
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind (use 0.0.0.0 to serve the network)' })
          .option('port', { alias: 'p', type: 'number', default: 8080, describe: 'port to listen on' })
          .option('git-root', { type: 'string', describe: 'directory of bare repos (default: git.path from the config)' })
          .option('artifacts-root', { type: 'string', describe: 'directory of artifacts (default: artifacts.path from the config)' })
          .example('$0 serve --config airgap.toml --host 0.0.0.0 --port 8080', 'serve the mirror to the network'),
      (argv) => runServe(argv as never),
    )
    .demandCommand(1, 'name a command; see --help')
    .strict()
    .recommendCommands()
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err, y) => {
      if (err) fail(err);
      process.stderr.write(`${y.help() && ''}julia-airgap: ${msg}\nRun \`julia-airgap --help\` for the commands and their options.\n`);
      process.exit(2);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch(fail);
