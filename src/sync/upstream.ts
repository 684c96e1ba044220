// Stage 1: the upstream registry (fetched into the state dir's bare cache, read through
// cat-file without a work tree) and the selection of packages.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { ConfigError, InputError, SelectionError } from '../errors.js';
import { openCatFile, type CatFile } from '../git/catfile.js';
import { ensureBareRepo, fetchUpstream } from '../git/mirror.js';
import { gitText, type GitConfigPair } from '../git/run.js';
import { readManifestPackages } from '../registry/manifest.js';
import { readRegistryIndex, type RegistryIndex } from '../registry/reader.js';
import { selectPackages, type Selection } from '../registry/select.js';
import { unsafePathReason, type FileSource } from '../registry/source.js';
import { expandGlob, hasGlob } from '../util/glob.js';
import { statePaths } from './state.js';

export function isLocalPath(s: string): boolean {
  return path.isAbsolute(s) || s.startsWith('file://');
}

/** A registry file source reading `<commit>:<path>` through a long-lived cat-file. */
export function gitSource(cat: CatFile, commit: string, label: string): FileSource {
  return {
    async readText(p: string) {
      const unsafe = unsafePathReason(p);
      if (unsafe) throw new InputError(`${label}:${p}`, `unsafe registry path: ${unsafe}`);
      const obj = await cat.read(`${commit}:${p}`);
      if (!obj) return undefined;
      if (obj.type !== 'blob') throw new InputError(`${label}:${p}`, `expected a file, found a ${obj.type}`);
      return obj.content.toString('utf8');
    },
    describe(p: string) {
      return `${label}@${commit.slice(0, 10)}:${p}`;
    },
  };
}

export interface Upstream {
  url: string;
  branch: string;
  commit: string;
  gitDir: string;
  cat: CatFile;
  src: FileSource;
  index: RegistryIndex;
  close(): Promise<void>;
}

export function upstreamGitConfig(config: Config, env: NodeJS.ProcessEnv): GitConfigPair[] {
  const envName = config.upstream.tokenEnv;
  if (!envName) return [];
  const token = env[envName];
  if (!token) throw new ConfigError(config.file, 'upstream.token_env', `environment variable ${envName} is not set`);
  // Scoped to the registry's origin: package repos on other hosts (GitHub, GitLab, ...) must
  // never receive it, and a redirect to another host cannot carry it along.
  let origin: string;
  try {
    const u = new URL(config.upstream.registry);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http');
    origin = u.origin;
  } catch {
    throw new ConfigError(config.file, 'upstream.token_env', 'is only used for an http(s) registry URL (for ssh, use your ssh keys)');
  }
  return [{ key: `http.${origin}/.extraHeader`, value: `Authorization: Bearer ${token}` }];
}

/** Fetches the upstream registry into `<state>/registry.git` and opens it at the branch head. */
export async function openUpstream(config: Config, env: NodeJS.ProcessEnv, opts: { fetch?: boolean } = {}): Promise<Upstream> {
  const gitDir = statePaths(config.stateDir).registryRepo;
  const url = config.upstream.registry;
  const local = isLocalPath(url);
  if (local) {
    const dir = url.replace(/^file:\/\//, '');
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new ConfigError(config.file, 'upstream.registry', `${dir} does not exist or is not a directory`);
  }
  await ensureBareRepo(gitDir);
  let head: string | undefined;
  if (opts.fetch !== false) {
    const res = await fetchUpstream(gitDir, url, { allowFile: local, config: upstreamGitConfig(config, env), timeoutMs: config.sync.timeoutSeconds * 1000 * 10 });
    head = res.head;
  }
  const branch = config.upstream.branch ?? head ?? (await guessBranch(gitDir));
  let commit: string;
  try {
    commit = await gitText(['rev-parse', '--verify', '--quiet', `refs/upstream/heads/${branch}^{commit}`], { gitDir });
  } catch {
    throw new ConfigError(config.file, 'upstream.branch', `branch "${branch}" not found in ${url}`);
  }
  const cat = openCatFile(gitDir);
  const src = gitSource(cat, commit, path.basename(url.replace(/\/+$/, '')) || url);
  try {
    const index = await readRegistryIndex(src);
    return { url, branch, commit, gitDir, cat, src, index, close: () => cat.close() };
  } catch (err) {
    await cat.close();
    throw err;
  }
}

async function guessBranch(gitDir: string): Promise<string> {
  for (const b of ['main', 'master']) {
    const ok = await gitText(['rev-parse', '--verify', '--quiet', `refs/upstream/heads/${b}`], { gitDir, allowExitCodes: [1] }).catch(() => '');
    if (ok) return b;
  }
  return 'master';
}

/** Applies [select] to a registry: names/UUIDs, Manifest files (globs allowed), or all. */
export async function selectFromConfig(config: Config, src: FileSource, index: RegistryIndex): Promise<Selection> {
  const manifestPackages: Array<{ name: string; uuid: string; from: string }> = [];
  for (const pattern of config.select.manifests) {
    const files = await expandGlob(pattern);
    if (files.length === 0 || (!hasGlob(pattern) && !(await stat(files[0]!).catch(() => undefined)))) {
      throw new ConfigError(config.file, 'select.manifests', `no file matches ${pattern}`);
    }
    for (const f of files) for (const p of await readManifestPackages(f)) manifestPackages.push({ name: p.name, uuid: p.uuid, from: f });
  }
  if (!config.select.all && config.select.packages.length === 0 && manifestPackages.length === 0) {
    throw new SelectionError('the selected Manifest files list no packages');
  }
  return selectPackages(src, index, { packages: config.select.packages, manifestPackages, all: config.select.all }, { concurrency: 16 });
}
