// Publishing the registry fork, last: build the fork tree on top of the host's current branch
// (so it only fast-forwards even if local state was lost), carry over packages upstream removed,
// commit when something changed, push, and set the default branch.

import type { Config } from '../config.js';
import { PublishError } from '../errors.js';
import { git, gitText } from '../git/run.js';
import { validateRemoteUrl } from '../git/url.js';
import type { GitHost } from '../hosts/host.js';
import { pushRefs } from '../hosts/push.js';
import { buildForkTree, commitFork, type ForkPackage } from '../registry/fork.js';
import { readRegistryIndex } from '../registry/reader.js';
import type { FileSource } from '../registry/source.js';
import type { State } from './state.js';
import { gitSource, type Upstream } from './upstream.js';
import type { SyncCounts } from './work.js';

export async function publishFork(config: Config, upstream: Upstream, host: GitHost, keep: Map<string, ForkPackage>, state: State, counts: SyncCounts, src: FileSource, warnings: string[], broken: ReadonlySet<string>) {
  const gitDir = upstream.gitDir;
  const name = config.registry.repo;
  const branch = config.registry.branch ?? upstream.branch;
  const url = host.cloneUrl(name);
  await host.ensureRepo(name, { description: `Julia registry fork of ${upstream.url} (julia-airgap)`, defaultBranch: branch });
  const target = host.pushTarget(name);
  // The host's branch is the truth: building on it keeps the fork fast-forward even if local state was lost.
  const publishedRef = `refs/airgap/published/${branch}`;
  let parent: string | undefined;
  try {
    validateRemoteUrl(target.url, { allowFile: true });
    await git(['fetch', '--quiet', '--no-tags', target.url, `+refs/heads/${branch}:${publishedRef}`], { gitDir, config: target.config });
    parent = await gitText(['rev-parse', '--verify', `${publishedRef}^{commit}`], { gitDir });
  } catch {
    parent = undefined;
  }
  if (!parent && state.fork?.commit) {
    const ok = await gitText(['cat-file', '-t', state.fork.commit], { gitDir, allowExitCodes: [128] }).catch(() => '');
    if (ok === 'commit') parent = state.fork.commit;
  }
  const carried = parent ? await carriedOver(upstream, parent, broken) : [];
  for (const c of carried) {
    warnings.push(`${c.name} [${c.uuid}] ${broken.has(c.uuid) ? 'has malformed registry files upstream' : 'is no longer in the upstream registry'}; kept in the fork as published`);
  }
  counts.packagesKept += carried.length;
  const tree = await buildForkTree({
    gitDir, upstreamCommit: upstream.commit, index: upstream.index, src, keep, registryRepoUrl: url,
    name: config.registry.name, uuid: config.registry.uuid,
    carried: parent && carried.length ? { from: parent, packages: carried } : undefined,
  });
  const summary = `packages: ${keep.size + carried.length}\nversions: ${counts.versionsKept} (${counts.versionsPatched} with patched Artifacts.toml)\nleft out: ${counts.versionsIncomplete}`;
  const { commit, created } = await commitFork(gitDir, { tree, parent, upstreamCommit: upstream.commit, upstreamUrl: upstream.url, summary });
  await git(['update-ref', `refs/heads/${branch}`, commit], { gitDir });
  const res = await pushRefs(gitDir, target, [`refs/heads/${branch}:refs/heads/${branch}`], { label: name });
  if (res.rejected.length) {
    throw new PublishError(url, `registry push rejected (${res.rejected.map((r) => r.reason).join('; ')}); the fork only fast-forwards — has someone else pushed to ${branch}?`);
  }
  await host.setDefaultBranch(name, branch);
  return { url, branch, commit, created };
}

/**
 * Packages the published fork lists that this sync cannot list from upstream: gone from
 * upstream's Registry.toml, or left out because their upstream files are malformed (`broken`).
 */
async function carriedOver(upstream: Upstream, parent: string, broken: ReadonlySet<string>): Promise<Array<{ uuid: string; name: string; path: string }>> {
  const published = await readRegistryIndex(gitSource(upstream.cat, parent, 'published fork'));
  const otherPaths = new Set([...upstream.index.packages].filter(([uuid]) => !broken.has(uuid)).map(([, p]) => p.path));
  return [...published.packages]
    // a path upstream now uses for another package cannot be carried over without clobbering it
    .filter(([uuid, p]) => (!upstream.index.packages.has(uuid) || broken.has(uuid)) && !otherPaths.has(p.path))
    .map(([uuid, p]) => ({ uuid, name: p.name, path: p.path }));
}
