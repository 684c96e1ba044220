// `plan`: what a sync would do, changing nothing. It reads the registry and the state dir's
// caches (never writing to either, nor to the git host or artifact store) and reports the
// selection, its repos, which repos are cached, and the artifacts per platform of the
// versions whose trees are already cached; with `sizes`, their download sizes.

import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { parseTriplet, type Platform } from '../artifacts/platform.js';
import type { Config } from '../config.js';
import { objectTypes, openCatFile } from '../git/catfile.js';
import { newScanMemo, requirementsOf, scanTree, type Requirement } from '../sync/artifacts.js';
import { mapLimit, silentReporter, type Reporter } from '../sync/report.js';
import { groupRepos, neededTrees, type RepoGroup } from '../sync/repos.js';
import { statePaths } from '../sync/state.js';
import { selectFromConfig } from '../sync/upstream.js';
import { artifactSizes, type ArtifactSize } from './sizes.js';
import { openPlanRegistry, type RegistrySourceKind } from './registry.js';

export interface PlanOptions {
  /** look up download sizes (cache, then HEAD requests) */
  sizes?: boolean;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  dispatcher?: Dispatcher;
  /** HEAD requests at once (default: 2 × sync.artifact_jobs) */
  sizeJobs?: number;
}

export interface PlanRepo {
  name: string;
  url: string;
  packages: string[];
  /** a bare cache of this repo exists in the state dir */
  cached: boolean;
  /** registered trees the cache does not hold (all of them when not cached) */
  missingTrees: number;
}

export interface PlatformCount {
  platform: string;
  artifacts: number;
  lazy: number;
  /** with sizes: bytes of the artifacts whose size is known */
  bytes?: number;
  /** with sizes: artifacts whose size could not be found */
  unknownSizes?: number;
}

export interface PlanReport {
  registry: { url: string; source: RegistrySourceKind; name: string; uuid: string; branch?: string; commit?: string };
  packages: number;
  versions: number;
  yanked: number;
  repos: number;
  reposCached: number;
  /** repos that must be fetched before every selected version's artifacts can be counted */
  reposToFetch: number;
  /** versions whose tree is in the state cache: their artifacts are counted */
  versionsCached: number;
  versionsNotCached: number;
  /** selected platforms, or "all" */
  platforms: string[] | 'all';
  artifacts: {
    /** distinct artifacts the selected platforms need, over the cached versions */
    total: number;
    lazy: number;
    byPlatform: PlatformCount[];
    /** versions whose artifact file is malformed (a sync leaves them out) */
    badArtifactFiles: number;
    /** with sizes */
    bytes?: number;
    sizes?: ArtifactSize[];
  };
  repoList: PlanRepo[];
  warnings: string[];
}

async function isBareRepo(dir: string): Promise<boolean> {
  try {
    await access(path.join(dir, 'HEAD'));
    await access(path.join(dir, 'objects'));
    return true;
  } catch {
    return false;
  }
}

interface RepoLook {
  group: RepoGroup;
  cached: boolean;
  present: Set<string>;
}

async function lookAtRepo(group: RepoGroup): Promise<RepoLook> {
  if (!(await isBareRepo(group.cacheDir))) return { group, cached: false, present: new Set() };
  const trees = neededTrees(group);
  const types = await objectTypes(group.cacheDir, trees);
  return { group, cached: true, present: new Set(trees.filter((t) => types.get(t) === 'tree')) };
}

export async function plan(config: Config, opts: PlanOptions = {}): Promise<PlanReport> {
  const env = opts.env ?? process.env;
  const rep = opts.reporter ?? silentReporter();
  const platforms: Platform[] | undefined = config.select.platforms?.map(parseTriplet);
  const warnings: string[] = [];

  const reg = await openPlanRegistry(config, env);
  try {
    const selection = await selectFromConfig(config, reg.src, reg.index);
    let versions = 0;
    let yanked = 0;
    for (const p of selection.packages.values()) {
      versions += p.versions.size;
      for (const v of p.versions.values()) if (v.yanked) yanked++;
      warnings.push(...(p.warnings ?? []));
    }
    for (const n of selection.notInRegistry) warnings.push(`${n.name} [${n.uuid}] from ${n.from} is not in the upstream registry; a sync skips it`);
    for (const b of selection.broken) warnings.push(`${b.name} [${b.uuid}]: ${b.error}; a sync leaves it out`);
    rep.stageDone('select', `${selection.packages.size} packages, ${versions} versions`);

    const groups = groupRepos(selection.packages.values(), statePaths(config.stateDir).reposDir);
    let looked = 0;
    const looks = await mapLimit(groups, config.sync.jobs, async (g) => {
      const l = await lookAtRepo(g);
      rep.progress('repo cache', ++looked, groups.length);
      return l;
    });

    const reqs = new Map<string, Requirement>();
    const memo = newScanMemo();
    let versionsCached = 0;
    let badArtifactFiles = 0;
    for (const l of looks) {
      if (l.present.size === 0) continue;
      const cat = openCatFile(l.group.cacheDir);
      try {
        for (const pkg of l.group.packages) {
          for (const [version, info] of pkg.versions) {
            if (!l.present.has(info.tree)) continue;
            versionsCached++;
            const scanned = await scanTree(cat, info.tree, `${pkg.name}@${version}`, memo);
            if (scanned.error) {
              badArtifactFiles++;
              warnings.push(`${pkg.name} ${version}: ${scanned.error}`);
              continue;
            }
            for (const r of requirementsOf(scanned, platforms)) {
              const prev = reqs.get(r.key);
              // Eager anywhere means eager: Pkg installs it at add time.
              if (!prev || (prev.lazy && !r.lazy)) reqs.set(r.key, r);
            }
          }
        }
      } finally {
        await cat.close();
      }
    }

    const reqList = [...reqs.values()].sort((a, b) => a.key.localeCompare(b.key));
    const byPlatform = new Map<string, PlatformCount>();
    for (const r of reqList) {
      const c = byPlatform.get(r.platform) ?? { platform: r.platform, artifacts: 0, lazy: 0 };
      c.artifacts++;
      if (r.lazy) c.lazy++;
      byPlatform.set(r.platform, c);
    }
    let sizes: ArtifactSize[] | undefined;
    let bytes: number | undefined;
    if (opts.sizes) {
      sizes = await artifactSizes(reqList, {
        cacheDir: statePaths(config.stateDir).artifactCache,
        jobs: opts.sizeJobs ?? config.sync.artifactJobs * 2,
        timeoutMs: config.sync.timeoutSeconds * 1000,
        allowPrivateAddresses: config.upstream.allowPrivateAddresses,
        dispatcher: opts.dispatcher,
      });
      bytes = 0;
      for (const c of byPlatform.values()) {
        c.bytes = 0;
        c.unknownSizes = 0;
      }
      for (const s of sizes) {
        const c = byPlatform.get(s.platform)!;
        if (s.bytes === undefined) c.unknownSizes!++;
        else {
          c.bytes! += s.bytes;
          bytes += s.bytes;
        }
      }
    }

    const repoList = looks.map((l) => ({
      name: l.group.name,
      url: l.group.url,
      packages: l.group.packages.map((p) => p.name),
      cached: l.cached,
      missingTrees: neededTrees(l.group).filter((t) => !l.present.has(t)).length,
    }));
    return {
      registry: { url: reg.url, source: reg.kind, name: reg.index.name, uuid: reg.index.uuid, branch: reg.branch, commit: reg.commit },
      packages: selection.packages.size,
      versions,
      yanked,
      repos: groups.length,
      reposCached: repoList.filter((r) => r.cached).length,
      reposToFetch: repoList.filter((r) => r.missingTrees > 0).length,
      versionsCached,
      versionsNotCached: versions - versionsCached,
      platforms: config.select.platforms ?? 'all',
      artifacts: {
        total: reqList.length,
        lazy: reqList.filter((r) => r.lazy).length,
        byPlatform: [...byPlatform.values()].sort((a, b) => a.platform.localeCompare(b.platform)),
        badArtifactFiles,
        bytes,
        sizes,
      },
      repoList,
      warnings,
    };
  } finally {
    await reg.close();
  }
}

export type { ArtifactSize } from './sizes.js';
