// `demo`: a newcomer sees the whole tool work with no network. A sample upstream (package
// repos, artifacts, registry) is built from templates/demo and served on 127.0.0.1; a second
// "inside" server serves the mirror's directories; `sync` mirrors the upstream into them, the
// upstream is stopped, and `verify` checks the mirror from a client's side.

import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { AirgapError } from '../errors.js';
import { startServer, type RunningServer } from '../serve/server.js';
import { sync, type SyncReport } from '../sync/pipeline.js';
import { silentReporter, type Reporter } from '../sync/report.js';
import { writeFileAtomic } from '../sync/state.js';
import { verify, type VerifyReport } from '../verify/index.js';
import { templatesDir } from './templates.js';
import { buildDemoUpstream, type DemoUpstream } from './upstream.js';

export interface DemoOptions {
  /** work dir (created); must be empty or absent unless `force` */
  dir: string;
  /** rebuild a previous demo's dir, or build in a non-empty dir (never deleting anything a demo did not make) */
  force?: boolean;
  /** leave the inside server running and return it (the caller closes it) */
  keepServing?: boolean;
  reporter?: Reporter;
}

export interface DemoResult {
  exitCode: 0 | 1;
  dir: string;
  configFile: string;
  upstream: DemoUpstream;
  /** URL the inside server listened on; the fork's repo and artifact URLs point here */
  insideUrl: string;
  registryUrl: string;
  /** the sample package whose closure is all of them (what the config selects) */
  rootPackage: string;
  sync: SyncReport;
  verify?: VerifyReport;
  /** only with keepServing */
  server?: RunningServer;
}

const MARKER = '.julia-airgap-demo';
const OWNED = ['upstream', 'state', 'airgap.toml', MARKER];
const PLATFORMS = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'x86_64-w64-mingw32', 'x86_64-apple-darwin'];

async function prepareDir(dir: string, force: boolean): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new AirgapError('usage', `${dir}: cannot read it: ${err.code ?? err.message}`);
  });
  if (entries.length > 0 && !force) {
    throw new AirgapError('usage', `${dir} is not empty; pass --force to build the demo in it anyway (only a previous demo's files are removed), or choose another --dir`);
  }
  if (entries.includes(MARKER)) {
    for (const name of OWNED) await rm(path.join(dir, name), { recursive: true, force: true });
  } else {
    const clash = OWNED.filter((n) => entries.includes(n));
    if (clash.length) throw new AirgapError('usage', `${dir} already has ${clash.join(', ')} from something other than a demo; choose another --dir`);
  }
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, MARKER), 'Made by `julia-airgap demo`; `demo --force` may delete upstream/, state/ and airgap.toml here.\n');
}

function demoConfigText(up: DemoUpstream, insideUrl: string, upstreamUrl: string, rootPackage: string): string {
  return `# Written by \`julia-airgap demo\`. The sample upstream was served at ${upstreamUrl} (stopped after
# the sync); the mirror lives in state/mirror and is served at ${insideUrl} by the demo, or by
# \`julia-airgap serve --config airgap.toml --port ${new URL(insideUrl).port}\`.
state_dir = "state"

[upstream]
registry = ${JSON.stringify(up.registryUrl)}

[select]
# ${rootPackage} depends on the other sample packages, so its closure is all of them.
packages = [${JSON.stringify(rootPackage)}]
platforms = [${PLATFORMS.map((p) => JSON.stringify(p)).join(', ')}]

[git]
url = "${insideUrl}/git"

[artifacts]
url = "${insideUrl}/artifacts"

[registry]
repo = ${JSON.stringify(up.registryName)}

[sync]
retries = 1
timeout_seconds = 30
`;
}

/** The package whose closure is every sample package: the one nothing else depends on. */
function rootPackage(up: DemoUpstream): string {
  const depended = new Set(up.packages.flatMap((p) => p.versions.flatMap((v) => Object.values(v.deps))));
  const roots = up.packages.filter((p) => !depended.has(p.uuid));
  if (roots.length !== 1) throw new AirgapError('template', `templates/demo: expected one package nothing depends on, found ${roots.map((p) => p.name).join(', ') || 'none'}`);
  return roots[0]!.name;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const rep = opts.reporter ?? silentReporter();
  const dir = path.resolve(opts.dir);
  await prepareDir(dir, Boolean(opts.force));
  const upstreamRoot = path.join(dir, 'upstream');
  await mkdir(path.join(upstreamRoot, 'git'), { recursive: true });
  await mkdir(path.join(upstreamRoot, 'artifacts'), { recursive: true });

  const servers: RunningServer[] = [];
  let keep: RunningServer | undefined;
  try {
    const upstreamServer = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(upstreamRoot, 'git'), artifactsRoot: path.join(upstreamRoot, 'artifacts') });
    servers.push(upstreamServer);
    rep.log('info', `building the sample upstream in ${upstreamRoot}, served at ${upstreamServer.url}`);
    const up = await buildDemoUpstream(path.join(templatesDir(), 'demo'), upstreamRoot, upstreamServer.url);

    // The inside server starts before the sync: its URL is written into the fork and into
    // every patched Artifacts.toml.
    const stateDir = path.join(dir, 'state');
    await mkdir(path.join(stateDir, 'mirror', 'git'), { recursive: true });
    await mkdir(path.join(stateDir, 'mirror', 'artifacts'), { recursive: true });
    const inside = await startServer({
      host: '127.0.0.1', port: 0, gitRoot: path.join(stateDir, 'mirror', 'git'), artifactsRoot: path.join(stateDir, 'mirror', 'artifacts'), registryRepo: up.registryName,
    });
    servers.push(inside);
    const configFile = path.join(dir, 'airgap.toml');
    const root = rootPackage(up);
    await writeFileAtomic(configFile, demoConfigText(up, inside.url, upstreamServer.url, root));
    const config: Config = await loadConfig(configFile);
    const registryUrl = `${config.git.url}/${config.registry.repo}.git`;

    rep.log('info', `sync: mirroring ${up.packages.length} packages from ${up.repos.length} repos and ${up.artifacts.length} artifacts`);
    const syncReport = await sync(config, { reporter: rep });
    // Everything from here on must come from the mirror alone.
    await upstreamServer.close();
    servers.splice(servers.indexOf(upstreamServer), 1);

    let verifyReport: VerifyReport | undefined;
    if (syncReport.exitCode !== 1) {
      rep.log('info', `verify: checking ${registryUrl} as a client would, with the upstream stopped`);
      verifyReport = await verify(config, { reporter: rep });
    }
    const exitCode = syncReport.exitCode === 0 && verifyReport?.ok === true ? 0 : 1;
    if (opts.keepServing) {
      keep = inside;
      servers.splice(servers.indexOf(inside), 1);
    }
    return { exitCode, dir, configFile, upstream: up, insideUrl: inside.url, registryUrl, rootPackage: root, sync: syncReport, verify: verifyReport, server: keep };
  } finally {
    for (const s of servers) await s.close().catch(() => undefined);
  }
}

/** What to tell the newcomer afterwards: the client setup and how to keep serving. */
export function demoInstructions(r: DemoResult, serving: boolean): string {
  const port = new URL(r.insideUrl).port;
  const rel = path.relative(process.cwd(), r.configFile);
  const shown = rel && !rel.startsWith('..') ? rel : r.configFile;
  const lines = [
    `The mirror is in ${path.join(r.dir, 'state', 'mirror')}; the fork ${r.registryUrl} lists ${r.upstream.packages.map((p) => p.name).join(', ')}.`,
    '',
    'To use it from Julia (on this machine):',
    '  export JULIA_PKG_SERVER=""',
    `  pkg> registry add ${r.registryUrl}`,
    `  pkg> add ${r.rootPackage}`,
    '',
    serving ? `Serving the mirror at ${r.insideUrl} until Ctrl-C.` : 'To serve the mirror again (the fork points at this port):',
    `  julia-airgap serve --config ${shown} --port ${port}`,
  ];
  if (serving) lines.splice(lines.length - 1, 1, `  (later: julia-airgap serve --config ${shown} --port ${port})`);
  return lines.join('\n') + '\n';
}
