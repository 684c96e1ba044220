// `julia-airgap status`: the last sync, the ledger, and whether a sync is running — for people
// (text) and monitoring (--json, --metrics-file).

import type { CommandModule } from 'yargs';
import { formatStatus, readStatus } from '../status/status.js';
import { writeMetricsFile } from '../status/metrics.js';
import { configOrFail, fail, printJson, withCommon, type Common } from './common.js';

interface Args extends Common {
  metricsFile?: string;
}

export const statusCommand: CommandModule<object, Args> = {
  command: 'status',
  describe: 'show the last sync, the failure ledger and whether a sync is running',
  builder: (y) =>
    withCommon(y)
      .option('metrics-file', { type: 'string', describe: 'also write Prometheus metrics to this file (atomically; for node_exporter\'s textfile collector)' })
      .example('$0 status --config airgap.toml', 'what the last sync did and what is still missing')
      .example('$0 status --json', 'the same, machine-readable') as never,
  handler: async (argv) => {
    const config = await configOrFail(argv.config);
    try {
      const s = await readStatus(config.stateDir);
      if (argv.metricsFile) await writeMetricsFile(argv.metricsFile, s);
      if (argv.json) printJson(s);
      else process.stdout.write(formatStatus(s));
    } catch (err) {
      fail(err);
    }
  },
};
