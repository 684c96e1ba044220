// `julia-airgap verify`: the client's-side check of a published mirror.

import type { CommandModule } from 'yargs';
import { configSecrets } from '../sync/pipeline.js';
import { makeReporter } from '../sync/report.js';
import { verify, type VerifyReport } from '../verify/index.js';
import { configOrFail, fail, printJson, withCommon, type Common } from './common.js';

interface Args extends Common {
  quick: boolean;
  registryUrl?: string;
  jobs?: number;
}

export function formatVerifyReport(r: VerifyReport): string {
  const c = r.counts;
  const lines = [
    `registry: ${r.registryUrl}`,
    `packages: ${c.packages}; versions: ${c.versions}; trees found: ${c.trees}; artifact files: ${c.artifactFiles}; artifacts: ${c.artifacts} (${c.bytes} bytes)`,
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const f of r.failures) lines.push(`failed [${f.kind}]: ${f.message}`);
  lines.push(r.ok ? 'verify ok: a client inside can install everything the fork lists' : `verify FAILED: ${r.failures.length} problem(s)`);
  return lines.join('\n') + '\n';
}

export const verifyCommand: CommandModule<object, Args> = {
  command: 'verify',
  describe: "check the published mirror from a client's side, using only the URLs in the fork",
  builder: (y) =>
    withCommon(y)
      .option('quick', { type: 'boolean', default: false, describe: 'HEAD each artifact (200 and a Content-Length) instead of downloading and hashing it' })
      .option('registry-url', { type: 'string', describe: 'clone the fork from this URL (default: the git host URL of registry.repo)' })
      .option('jobs', { alias: 'j', type: 'number', describe: 'repos fetched and artifacts checked at once (default: sync.jobs / sync.artifact_jobs)' })
      .example('$0 verify --config airgap.toml', 'clone the fork, fetch every repo as Pkg does, download and hash every artifact; exit 0 only if all is well')
      .example('$0 verify --quick --json > verify.json', 'HEAD the artifacts instead, machine-readable report on stdout')
      .epilog(
        'Runs like a client inside the air gap: clones the fork (shallow, like `pkg> registry add`), fetches each package repo the way ' +
          'Pkg 1.13 does (shallow clone, then every ref unshallowed), finds every tree Versions.toml lists, checks that every artifact URL ' +
          'points into the artifact mirror, and downloads the artifacts of the selected platforms, checking sha256 and git-tree-sha1. ' +
          'It never reads the state dir or contacts upstream. Exit 0 when everything is in place, 1 otherwise, listing each problem.',
      ) as never,
  handler: async (argv) => {
    const config = await configOrFail(argv.config);
    const reporter = makeReporter({ quiet: argv.quiet || argv.json, verbose: argv.verbose, secrets: configSecrets(config, process.env) });
    let report: VerifyReport;
    try {
      report = await verify(config, { quick: argv.quick, registryUrl: argv.registryUrl, jobs: argv.jobs, reporter });
    } catch (err) {
      fail(err);
    } finally {
      reporter.close();
    }
    if (argv.json) printJson(report);
    else process.stderr.write(formatVerifyReport(report));
    process.exitCode = report.ok ? 0 : 1;
  },
};
