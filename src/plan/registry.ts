// Where `plan` reads the upstream registry from, without writing to the state dir: a plain
// directory (an extracted General) is read in place; a git registry is read from the state
// dir's cache when a sync has filled it, otherwise fetched into a temporary bare repo that is
// removed afterwards.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { listRefs } from '../git/mirror.js';
import { readRegistryIndex, type RegistryIndex } from '../registry/reader.js';
import { dirSource, type FileSource } from '../registry/source.js';
import { loadState, statePaths } from '../sync/state.js';
import { isLocalPath, openUpstream } from '../sync/upstream.js';
import { pathExists } from '../util/fs.js';

export type RegistrySourceKind = 'directory' | 'state-cache' | 'fetched';

export interface PlanRegistry {
  kind: RegistrySourceKind;
  url: string;
  branch?: string;
  commit?: string;
  src: FileSource;
  index: RegistryIndex;
  close(): Promise<void>;
}

/** A work tree (`.git` file or directory) or a bare repo (HEAD and objects). */
export async function isGitRepo(dir: string): Promise<boolean> {
  if (await pathExists(path.join(dir, '.git'))) return true;
  return (await pathExists(path.join(dir, 'HEAD'))) && (await pathExists(path.join(dir, 'objects')));
}

async function hasUpstreamBranches(gitDir: string): Promise<boolean> {
  if (!(await isGitRepo(gitDir))) return false;
  return (await listRefs(gitDir, 'refs/upstream/heads/')).size > 0;
}

export async function openPlanRegistry(config: Config, env: NodeJS.ProcessEnv): Promise<PlanRegistry> {
  const url = config.upstream.registry;
  if (isLocalPath(url)) {
    const dir = url.replace(/^file:\/\//, '');
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new ConfigError(config.file, 'upstream.registry', `${dir} does not exist or is not a directory`);
    if (!(await isGitRepo(dir))) {
      const src = dirSource(dir);
      const index = await readRegistryIndex(src);
      return { kind: 'directory', url, src, index, close: async () => undefined };
    }
  }

  const cache = statePaths(config.stateDir).registryRepo;
  if (await hasUpstreamBranches(cache)) {
    // The branch the last sync followed, unless the config names one.
    const state = await loadState(config.stateDir);
    const branch = config.upstream.branch ?? (state.upstream?.url === url ? state.upstream.branch : undefined);
    const up = await openUpstream({ ...config, upstream: { ...config.upstream, branch } }, env, { fetch: false });
    return { kind: 'state-cache', url, branch: up.branch, commit: up.commit, src: up.src, index: up.index, close: () => up.close() };
  }

  const tmp = await mkdtemp(path.join(tmpdir(), 'julia-airgap-plan-'));
  try {
    const up = await openUpstream({ ...config, stateDir: tmp }, env);
    return {
      kind: 'fetched', url, branch: up.branch, commit: up.commit, src: up.src, index: up.index,
      close: async () => {
        await up.close();
        await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
