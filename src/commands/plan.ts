// `julia-airgap plan`: what a sync would do, changing nothing.

import type { CommandModule } from 'yargs';
import { plan, type PlanReport } from '../plan/index.js';
import { configSecrets } from '../sync/pipeline.js';
import { makeReporter } from '../sync/report.js';
import { configOrFail, fail, printJson, withCommon, type Common } from './common.js';

interface Args extends Common {
  sizes: boolean;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatPlanSummary(r: PlanReport): string {
  const from = { directory: 'read from the directory', 'state-cache': 'from the state dir cache', fetched: 'fetched into a temporary repo, now removed' }[r.registry.source];
  const at = r.registry.commit ? ` @ ${r.registry.commit.slice(0, 10)}${r.registry.branch ? ` (${r.registry.branch})` : ''}` : '';
  const lines = [
    `registry: ${r.registry.name} ${r.registry.url}${at}, ${from}`,
    `packages: ${n(r.packages)}; versions: ${n(r.versions)} (${n(r.yanked)} yanked)`,
    `repos: ${n(r.repos)} distinct, ${n(r.reposCached)} in the state cache, ${n(r.reposToFetch)} to fetch`,
    `platforms: ${r.platforms === 'all' ? 'all' : r.platforms.join(', ')}`,
  ];
  const a = r.artifacts;
  if (r.versionsCached === 0) {
    lines.push(`artifacts: unknown until ${n(r.reposToFetch)} repo${r.reposToFetch === 1 ? '' : 's'} are fetched (no selected version's tree is cached yet; \`sync\` fetches them)`);
  } else {
    const partial = r.versionsNotCached > 0 ? ` (counted over the ${n(r.versionsCached)} cached versions; ${n(r.versionsNotCached)} versions in ${n(r.reposToFetch)} repos are not cached yet)` : '';
    const size = a.bytes !== undefined ? `, ${formatBytes(a.bytes)}` : '';
    lines.push(`artifacts: ${n(a.total)} (${n(a.lazy)} lazy)${size}${partial}`);
    for (const p of a.byPlatform) {
      const b = p.bytes !== undefined ? `  ${formatBytes(p.bytes)}${p.unknownSizes ? ` + ${p.unknownSizes} of unknown size` : ''}` : '';
      lines.push(`  ${p.platform.padEnd(32)} ${String(p.artifacts).padStart(7)}${p.lazy ? ` (${p.lazy} lazy)` : ''}${b}`);
    }
    if (a.badArtifactFiles) lines.push(`  ${n(a.badArtifactFiles)} versions have a malformed artifact file (a sync leaves them out)`);
    const failed = (a.sizes ?? []).filter((s) => s.error);
    for (const s of failed.slice(0, 20)) lines.push(`size unknown: ${s.name} (${s.platform}): ${s.error}`);
    if (failed.length > 20) lines.push(`... and ${failed.length - 20} more sizes unknown (see --json)`);
  }
  for (const w of r.warnings.slice(0, 20)) lines.push(`warning: ${w}`);
  if (r.warnings.length > 20) lines.push(`... and ${r.warnings.length - 20} more warnings (see --json)`);
  lines.push('plan only: nothing was written to the state dir or published');
  return lines.join('\n') + '\n';
}

export const planCommand: CommandModule<object, Args> = {
  command: 'plan',
  describe: 'show what a sync would mirror (packages, versions, repos, artifacts per platform), changing nothing',
  builder: (y) =>
    withCommon(y)
      .option('sizes', { type: 'boolean', default: false, describe: 'download sizes: from the artifact cache, else a HEAD request per artifact' })
      .example('$0 plan --config airgap.toml', 'counts before the first sync')
      .example('$0 plan --sizes --json > plan.json', 'with download sizes, machine-readable') as never,
  handler: async (argv) => {
    const config = await configOrFail(argv.config);
    const reporter = makeReporter({ quiet: argv.quiet || argv.json, verbose: argv.verbose, secrets: configSecrets(config, process.env) });
    let report: PlanReport;
    try {
      report = await plan(config, { sizes: argv.sizes, reporter });
    } catch (err) {
      fail(err);
    } finally {
      reporter.close();
    }
    if (argv.json) printJson(report);
    else process.stdout.write(formatPlanSummary(report));
  },
};
