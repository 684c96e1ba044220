// `verify`: the mirror checked from a client's side, using nothing but the URLs in the fork.
// Clone the fork as `pkg> registry add` does, fetch each package repo as Pkg 1.13 installs
// from git, find every registered tree, check that every artifact URL stays inside the
// mirror, and download (or HEAD) every artifact of the selected platforms. Never the state
// dir's caches, never upstream: a check that peeks at the publisher's side proves nothing
// about what a client gets.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTriplet, platformLabel, type Platform } from '../artifacts/platform.js';
import type { Config } from '../config.js';
import { errorMessage, redactUrl } from '../errors.js';
import { objectTypes, openCatFile, type CatFile } from '../git/catfile.js';
import { gitText } from '../git/run.js';
import type { GitHost } from '../hosts/host.js';
import { makeHost } from '../hosts/index.js';
import { readPackage, readRegistryIndex, type PackageInfo, type RegistryIndex } from '../registry/reader.js';
import type { FileSource } from '../registry/source.js';
import { makeStore } from '../stores/index.js';
import { newScanMemo, requirementsOf, scanTree } from '../sync/artifacts.js';
import { mapLimit, silentReporter, type Reporter } from '../sync/report.js';
import { gitSource } from '../sync/upstream.js';
import { checkArtifact, clientDispatcher, type ArtifactTarget } from './artifact.js';
import { cloneShallowBare, fetchEveryRef, type ClientGitOptions } from './clone.js';
import { zeroCounts, type VerifyCounts, type VerifyFailure, type VerifyReport } from './report.js';
import { artifactUrlBase, foreignRepoReason, repoUrlShape, type RepoUrlShape } from './urls.js';

export type { VerifyCounts, VerifyFailure, VerifyReport } from './report.js';

export interface VerifyOptions {
  /** HEAD instead of GET for artifacts */
  quick?: boolean;
  /** default: the host's cloneUrl of config.registry.repo */
  registryUrl?: string;
  /** temp by default, removed afterwards; a given directory gets a fresh `verify-*` subdirectory that is kept */
  workDir?: string;
  /** repos fetched at once (default sync.jobs); artifacts checked at once (default sync.artifact_jobs) */
  jobs?: number;
  reporter?: Reporter;
  /** default config.select.platforms */
  platforms?: string[];
}

interface Ctx {
  config: Config;
  host: GitHost;
  shape: RepoUrlShape;
  artifactBase: string;
  platforms: Platform[] | undefined;
  git: ClientGitOptions;
  jobs: number;
  rep: Reporter;
  workDir: string;
  counts: VerifyCounts;
  failures: VerifyFailure[];
  warnings: string[];
  /** url + sha256 + tree -> what to download and who needs it */
  targets: Map<string, Target>;
  /** distinct artifacts (tree hash and sha256s), for the count */
  artifactKeys: Set<string>;
}

interface Target extends ArtifactTarget {
  name: string;
  platform: string;
  users: Array<{ pkg: string; version: string; lazy: boolean }>;
}

export async function verify(config: Config, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const host = makeHost(config.git, config.file);
  const store = makeStore(config.artifacts, config.file);
  const registryUrl = opts.registryUrl ?? host.cloneUrl(config.registry.repo);
  const platforms = (opts.platforms ?? config.select.platforms)?.map(parseTriplet);
  const rep = opts.reporter ?? silentReporter();
  let workDir: string;
  if (opts.workDir === undefined) {
    workDir = await mkdtemp(path.join(tmpdir(), 'julia-airgap-verify-'));
  } else {
    await mkdir(opts.workDir, { recursive: true });
    workDir = await mkdtemp(path.join(path.resolve(opts.workDir), 'verify-'));
  }
  const ctx: Ctx = {
    config, host, shape: repoUrlShape(host), artifactBase: artifactUrlBase(store), platforms,
    git: { timeoutMs: config.sync.timeoutSeconds * 1000 * 10 }, jobs: opts.jobs ?? config.sync.jobs, rep, workDir,
    counts: zeroCounts(), failures: [], warnings: [], targets: new Map(), artifactKeys: new Set(),
  };
  try {
    const fork = await openFork(ctx, registryUrl);
    if (fork) {
      try {
        const packages = await readPackages(ctx, fork.src, fork.index);
        await checkRepos(ctx, packages);
      } finally {
        await fork.cat.close();
      }
      await checkArtifacts(ctx, Boolean(opts.quick), opts.jobs ?? config.sync.artifactJobs);
    }
  } finally {
    if (opts.workDir === undefined) await rm(workDir, { recursive: true, force: true });
  }
  return { ok: ctx.failures.length === 0, registryUrl: redactUrl(registryUrl), counts: ctx.counts, failures: sortFailures(ctx.failures), warnings: ctx.warnings };
}

async function openFork(ctx: Ctx, url: string): Promise<{ cat: CatFile; src: FileSource; index: RegistryIndex } | undefined> {
  const shown = redactUrl(url);
  const gitDir = path.join(ctx.workDir, 'registry.git');
  const fail = (message: string) => {
    ctx.failures.push({ kind: 'registry', url: shown, message: `registry ${shown}: ${message}` });
    return undefined;
  };
  ctx.rep.log('info', `cloning the registry ${shown}`);
  try {
    await cloneShallowBare(url, gitDir, ctx.git);
  } catch (err) {
    return fail(`cannot clone it as \`pkg> registry add\` would: ${errorMessage(err)}`);
  }
  const commit = await gitText(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { gitDir, allowExitCodes: [1] });
  if (!commit) return fail('its default branch (HEAD) has no commit; clients would get an empty registry');
  const cat = openCatFile(gitDir);
  const src = gitSource(cat, commit, shown);
  let index: RegistryIndex;
  try {
    index = await readRegistryIndex(src);
  } catch (err) {
    await cat.close();
    return fail(errorMessage(err));
  }
  if (index.repo !== undefined) {
    const why = foreignRepoReason(index.repo, ctx.host, ctx.shape);
    if (why) fail(`Registry.toml repo ${redactUrl(index.repo)} ${why}`);
  }
  ctx.counts.packages = index.packages.size;
  ctx.rep.stageDone('registry', `${index.name} @ ${commit.slice(0, 10)}: ${index.packages.size} packages`);
  return { cat, src, index };
}

async function readPackages(ctx: Ctx, src: FileSource, index: RegistryIndex): Promise<PackageInfo[]> {
  const read = await mapLimit([...index.packages], 16, async ([uuid, entry]) => {
    try {
      return await readPackage(src, index, uuid);
    } catch (err) {
      ctx.failures.push({ kind: 'registry', package: entry.name, message: `${entry.name} [${uuid}]: ${errorMessage(err)}` });
      return undefined;
    }
  });
  const packages = read.filter((p): p is PackageInfo => p !== undefined);
  for (const p of packages) ctx.counts.versions += p.versions.size;
  return packages;
}

/** Groups packages by repo URL (a monorepo is fetched once); packages pointing outside the host fail here. */
function groupByRepo(ctx: Ctx, packages: PackageInfo[]): Map<string, PackageInfo[]> {
  const groups = new Map<string, PackageInfo[]>();
  for (const pkg of packages) {
    const why = foreignRepoReason(pkg.repo, ctx.host, ctx.shape);
    if (why) {
      const url = redactUrl(pkg.repo);
      ctx.failures.push({ kind: 'repo', package: pkg.name, url, message: `${pkg.name}: Package.toml repo ${url} ${why}` });
      continue;
    }
    const list = groups.get(pkg.repo);
    if (list) list.push(pkg);
    else groups.set(pkg.repo, [pkg]);
  }
  return groups;
}

async function checkRepos(ctx: Ctx, packages: PackageInfo[]): Promise<void> {
  const groups = [...groupByRepo(ctx, packages)];
  let done = 0;
  await mapLimit(groups, ctx.jobs, async ([url, pkgs], i) => {
    const dir = path.join(ctx.workDir, 'repos', `${i}.git`);
    try {
      await checkRepo(ctx, url, pkgs, dir);
    } finally {
      // Only the verdict is needed; a whole General's worth of clones would not fit.
      await rm(dir, { recursive: true, force: true });
    }
    ctx.rep.progress('verify repos', ++done, groups.length);
  });
  ctx.rep.stageDone('repos', `${groups.length} repos, ${ctx.counts.trees} trees found, ${ctx.counts.artifactFiles} artifact files read`);
}

async function checkRepo(ctx: Ctx, url: string, pkgs: PackageInfo[], dir: string): Promise<void> {
  const shown = redactUrl(url);
  try {
    await cloneShallowBare(url, dir, ctx.git);
    await fetchEveryRef(url, dir, ctx.git);
  } catch (err) {
    for (const pkg of pkgs) {
      ctx.failures.push({ kind: 'repo', package: pkg.name, url: shown, message: `${pkg.name}: cannot fetch ${shown} as Pkg would: ${errorMessage(err)}` });
    }
    return;
  }
  const trees = [...new Set(pkgs.flatMap((p) => [...p.versions.values()].map((v) => v.tree)))];
  const types = await objectTypes(dir, trees);
  ctx.counts.trees += trees.filter((t) => types.get(t) === 'tree').length;
  const cat = openCatFile(dir);
  const memo = newScanMemo();
  try {
    for (const pkg of pkgs) {
      for (const [version, { tree }] of pkg.versions) {
        const type = types.get(tree);
        if (type !== 'tree') {
          const what = type === undefined ? 'is not reachable from any ref' : `is a ${type}, not a tree`;
          ctx.failures.push({ kind: 'tree', package: pkg.name, version, url: shown, message: `${pkg.name} ${version}: tree ${tree} ${what} of ${shown}` });
          continue;
        }
        await checkArtifactFiles(ctx, cat, memo, pkg.name, version, tree);
      }
    }
  } finally {
    await cat.close();
  }
}

async function checkArtifactFiles(ctx: Ctx, cat: CatFile, memo: ReturnType<typeof newScanMemo>, pkg: string, version: string, tree: string): Promise<void> {
  const scanned = await scanTree(cat, tree, `${pkg}@${version}`, memo);
  if (scanned.error) {
    ctx.failures.push({ kind: 'artifacts-toml', package: pkg, version, message: `${pkg} ${version}: ${scanned.error}` });
    return;
  }
  ctx.counts.artifactFiles += scanned.files.length;
  // Every URL, all platforms and lazy ones too: sync rewrites them all, so one left pointing
  // outside is a client trying an address it cannot reach.
  const inside = new Set<string>();
  for (const f of scanned.files) {
    for (const e of f.entries) {
      for (const d of e.downloads) {
        if (d.url.startsWith(ctx.artifactBase)) {
          inside.add(d.url);
          continue;
        }
        const url = redactUrl(d.url);
        ctx.failures.push({
          kind: 'artifact-url', package: pkg, version, url,
          message: `${pkg} ${version}: ${f.path} artifact ${e.name} (${platformLabel(e.platform)}) downloads from ${url}, outside the artifact mirror ${ctx.artifactBase}`,
        });
      }
    }
  }
  for (const r of requirementsOf(scanned, ctx.platforms)) {
    ctx.artifactKeys.add(r.key);
    for (const d of r.downloads) {
      // Never contact an address the previous check already reported as outside.
      if (!inside.has(d.url)) continue;
      const key = `${d.url}\n${d.sha256}\n${r.treeSha1}`;
      let t = ctx.targets.get(key);
      if (!t) ctx.targets.set(key, (t = { url: d.url, sha256: d.sha256, treeSha1: r.treeSha1, name: r.name, platform: r.platform, users: [] }));
      t.users.push({ pkg, version, lazy: r.lazy });
    }
  }
}

async function checkArtifacts(ctx: Ctx, quick: boolean, jobs: number): Promise<void> {
  const { config } = ctx;
  const targets = [...ctx.targets.values()].sort((a, b) => a.url.localeCompare(b.url));
  ctx.counts.artifacts = ctx.artifactKeys.size;
  const dispatcher = clientDispatcher();
  let done = 0;
  await mapLimit(targets, jobs, async (t) => {
    const res = await checkArtifact(t, {
      quick, dispatcher, timeoutMs: config.sync.timeoutSeconds * 1000, maxBytes: config.sync.maxArtifactBytes, retries: config.sync.retries,
    });
    ctx.rep.progress(quick ? 'verify artifacts (HEAD)' : 'verify artifacts', ++done, targets.length);
    ctx.counts.bytes += res.bytes;
    if (res.ok) return;
    const url = redactUrl(t.url);
    const eager = t.users.filter((u) => !u.lazy);
    const users = (eager.length ? eager : t.users).map((u) => `${u.pkg} ${u.version}`);
    const message = `artifact ${t.name} (${t.platform}) ${t.treeSha1} at ${url}: ${res.error}; needed by ${users.join(', ')}`;
    if (eager.length === 0) {
      ctx.warnings.push(`lazy ${message}`);
      return;
    }
    ctx.failures.push({ kind: 'artifact', package: eager[0]!.pkg, version: eager[0]!.version, url, message });
  });
  ctx.rep.stageDone('artifacts', `${targets.length} URLs of ${ctx.counts.artifacts} artifacts ${quick ? 'answered HEAD' : 'downloaded and verified'}, ${ctx.counts.bytes} bytes`);
}

const KIND_ORDER: VerifyFailure['kind'][] = ['registry', 'repo', 'tree', 'artifacts-toml', 'artifact-url', 'artifact'];

/** Fetches finish in any order; the report should not. */
function sortFailures(failures: VerifyFailure[]): VerifyFailure[] {
  const key = (f: VerifyFailure) => [String(KIND_ORDER.indexOf(f.kind)), f.package ?? '', f.version ?? '', f.url ?? '', f.message];
  return [...failures].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}
