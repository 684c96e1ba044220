// `julia-airgap demo`: a sample upstream mirrored, served and verified on this machine, with
// no network; the first thing to run.

import type { CommandModule } from 'yargs';
import { demoInstructions, runDemo, type DemoResult } from '../demo/index.js';
import { makeReporter } from '../sync/report.js';
import { fail } from './common.js';
import { formatSyncSummary } from './sync.js';

interface Args {
  dir: string;
  force: boolean;
  keepServing: boolean;
  quiet: boolean;
  verbose: boolean;
}

function formatVerify(r: DemoResult): string {
  const v = r.verify;
  if (!v) return 'verify: skipped (the sync failed)\n';
  const c = v.counts;
  const lines = [`verify: ${v.ok ? 'ok' : 'FAILED'}: ${c.packages} packages, ${c.versions} versions, ${c.trees} trees, ${c.artifacts} artifacts checked from ${v.registryUrl}`];
  for (const f of v.failures) lines.push(`  ${f.kind}${f.package ? ` ${f.package}${f.version ? ` ${f.version}` : ''}` : ''}: ${f.message}`);
  return lines.join('\n') + '\n';
}

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'mirror a built-in sample upstream on 127.0.0.1, then verify it: see the tool work with no network',
  builder: (y) =>
    y
      .option('dir', { alias: 'd', type: 'string', default: 'julia-airgap-demo', describe: 'work dir for the sample upstream, the state dir and airgap.toml' })
      .option('force', { type: 'boolean', default: false, describe: 'use a non-empty --dir (a previous demo there is replaced; nothing else is deleted)' })
      .option('keep-serving', { type: 'boolean', default: false, describe: 'keep serving the mirror after the check, until Ctrl-C' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only warnings and errors while it runs' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'debug output' })
      .example('$0 demo', 'build, mirror and verify the sample in ./julia-airgap-demo')
      .example('$0 demo --dir /tmp/demo --keep-serving', 'and keep the mirror up to try `pkg> registry add` from Julia') as never,
  handler: async (argv) => {
    const reporter = makeReporter({ quiet: argv.quiet, verbose: argv.verbose });
    let r: DemoResult;
    try {
      r = await runDemo({ dir: argv.dir, force: argv.force, keepServing: argv.keepServing, reporter });
    } catch (err) {
      fail(err);
    } finally {
      reporter.close();
    }
    process.stderr.write(formatSyncSummary(r.sync) + formatVerify(r));
    process.stdout.write(`\n${demoInstructions(r, Boolean(r.server))}`);
    process.exitCode = r.exitCode;
    const server = r.server;
    if (server) {
      const stop = () => void server.close().then(() => process.exit(r.exitCode), () => process.exit(1));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  },
};
