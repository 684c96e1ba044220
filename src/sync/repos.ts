// Stage 2: one bare cache repo per distinct upstream repo, fetched with every advertised ref,
// then one batched cat-file check of every registered tree the selection needs from it.

import { createHash } from 'node:crypto';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { objectTypes } from '../git/catfile.js';
import { ensureBareRepo, fetchUpstream } from '../git/mirror.js';
import type { GitConfigPair } from '../git/run.js';
import { hasEmbeddedCredentials, normalizeRepoUrl, redactRepoUrl, repoNameFor, validateRemoteUrl } from '../git/url.js';
import type { PackageInfo } from '../registry/reader.js';

export interface RepoGroup {
  /** normalised upstream URL: the identity of the repo */
  key: string;
  /** the URL as the registry spells it (first package seen) */
  url: string;
  /** internal repo name on the git host */
  name: string;
  cacheDir: string;
  packages: PackageInfo[];
}

export function groupRepos(packages: Iterable<PackageInfo>, reposDir: string): RepoGroup[] {
  const groups = new Map<string, RepoGroup>();
  for (const pkg of [...packages].sort((a, b) => a.name.localeCompare(b.name))) {
    // A URL with a secret in it is refused before any fetch: keep only its redacted form, so the
    // secret reaches no message, ledger, state.json or host repo description.
    const repo = hasEmbeddedCredentials(pkg.repo) ? redactRepoUrl(pkg.repo) : pkg.repo;
    const key = normalizeRepoUrl(repo);
    let g = groups.get(key);
    if (!g) {
      const name = repoNameFor(repo);
      g = { key, url: repo, name, cacheDir: path.join(reposDir, `${name}.git`), packages: [] };
      groups.set(key, g);
    }
    g.packages.push(pkg);
  }
  // Names are lower-cased; two URLs differing only in case on a case-sensitive host would share
  // one. Suffix every colliding name with a hash of its own URL so neither overwrites the other.
  const byName = new Map<string, RepoGroup[]>();
  for (const g of groups.values()) byName.set(g.name, [...(byName.get(g.name) ?? []), g]);
  for (const list of byName.values()) {
    if (list.length < 2) continue;
    for (const g of list) {
      g.name = `${g.name}---${createHash('sha256').update(g.key).digest('hex').slice(0, 10)}`;
      g.cacheDir = path.join(reposDir, `${g.name}.git`);
    }
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface RepoStatus {
  group: RepoGroup;
  fetched: boolean;
  /** set when the fetch failed (network, auth, repo gone); trees already cached still count */
  fetchError?: string;
  /** upstream refs this fetch found deleted or force-pushed */
  rewritten?: string[];
  /** upstream's default branch, when known */
  head?: string;
  /** registered trees present in the cache */
  present: Set<string>;
}

export function neededTrees(group: RepoGroup): string[] {
  const trees = new Set<string>();
  for (const pkg of group.packages) for (const v of pkg.versions.values()) trees.add(v.tree);
  return [...trees];
}

/**
 * Fetches the repo when `force` says so (a full run, a package whose registry files changed, a
 * due retry), when it was never fetched, or when a registered tree is missing from the cache
 * for an unknown reason. Trees in `knownMissing` (already in the ledger and not yet due) do not
 * trigger a fetch: that is the backoff for trees lost upstream. Otherwise the cache already holds
 * everything Pkg needs and the fetch is skipped, which keeps a resync proportional to what changed.
 */
export async function syncRepo(
  group: RepoGroup,
  opts: { force: boolean; knownMissing?: ReadonlySet<string>; knownHead?: string; config: GitConfigPair[]; allowFile: boolean; timeoutMs: number },
): Promise<RepoStatus> {
  const trees = neededTrees(group);
  let status: RepoStatus = { group, fetched: false, present: new Set(), head: opts.knownHead };
  try {
    validateRemoteUrl(group.url, { allowFile: opts.allowFile });
  } catch (err) {
    return { ...status, fetchError: errorMessage(err) };
  }
  await ensureBareRepo(group.cacheDir);
  const check = async () => {
    const types = await objectTypes(group.cacheDir, trees);
    return new Set(trees.filter((t) => types.get(t) === 'tree'));
  };
  let present = await check();
  const complete = trees.every((t) => present.has(t) || opts.knownMissing?.has(t));
  if (opts.force || !complete || !opts.knownHead) {
    try {
      const res = await fetchUpstream(group.cacheDir, group.url, { allowFile: opts.allowFile, config: opts.config, timeoutMs: opts.timeoutMs });
      status = { ...status, fetched: true, head: res.head ?? opts.knownHead, rewritten: res.rewritten };
      present = await check();
    } catch (err) {
      status = { ...status, fetchError: errorMessage(err) };
    }
  }
  return { ...status, present };
}
