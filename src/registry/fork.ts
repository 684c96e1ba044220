// The registry fork: upstream's tree with Registry.toml pruned and pointed at the internal
// host, each kept package's Package.toml `repo` rewritten and Versions.toml reduced to the
// complete versions (with patched tree hashes). Built with plumbing in the registry cache repo,
// from upstream's tree listing and a throwaway index file; no work tree is checked out.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { commitContent, writeObject, type Signature } from '../git/objects.js';
import { git, gitText } from '../git/run.js';
import type { RegistryIndex } from './reader.js';
import { addRegistryPackages, rewritePackageToml, rewriteRegistryToml, rewriteVersionsToml } from './rewrite.js';
import type { FileSource } from './source.js';

export interface ForkPackage {
  repoUrl: string;
  /** version -> tree hash the fork lists (patched where patched) */
  versions: Map<string, string>;
}

export interface ForkInput {
  gitDir: string;
  upstreamCommit: string;
  index: RegistryIndex;
  src: FileSource;
  keep: Map<string, ForkPackage>;
  registryRepoUrl: string;
  name?: string;
  uuid?: string;
  /**
   * Packages upstream no longer lists that the published fork (commit `from`) does: carried over
   * byte for byte, because nothing is deleted from the mirror because upstream deleted it.
   */
  carried?: { from: string; packages: Array<{ uuid: string; name: string; path: string }> };
}

interface LsEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

async function lsTree(gitDir: string, treeish: string, under?: string): Promise<LsEntry[]> {
  const { stdout } = await git(['ls-tree', '-r', '-z', '--full-tree', treeish, ...(under ? ['--', `${under.replace(/\/+$/, '')}/`] : [])], { gitDir });
  const out: LsEntry[] = [];
  for (const rec of stdout.toString('utf8').split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [mode, type, oid] = rec.slice(0, tab).split(' ') as [string, string, string];
    out.push({ mode, type, oid, path: rec.slice(tab + 1) });
  }
  return out;
}

async function requireText(src: FileSource, p: string): Promise<string> {
  const t = await src.readText(p);
  if (t === undefined) throw new InputError(src.describe(p), 'missing');
  return t;
}

/** Builds the fork's root tree and returns its oid. */
export async function buildForkTree(input: ForkInput): Promise<string> {
  const { gitDir, index, src } = input;
  const pkgDirs = new Map<string, string>();
  for (const [uuid, p] of index.packages) pkgDirs.set(p.path.replace(/\/+$/, ''), uuid);

  const replaced = new Map<string, string>();
  const put = async (p: string, text: string) => replaced.set(p, await writeObject(gitDir, 'blob', Buffer.from(text, 'utf8')));

  const carried = input.carried?.packages ?? [];
  const registryToml = rewriteRegistryToml(await requireText(src, 'Registry.toml'), src.describe('Registry.toml'), {
    repo: input.registryRepoUrl,
    keep: new Set(input.keep.keys()),
    name: input.name,
    uuid: input.uuid,
  });
  await put('Registry.toml', addRegistryPackages(registryToml, src.describe('Registry.toml'), carried));
  for (const [uuid, fp] of input.keep) {
    const dir = index.packages.get(uuid)!.path.replace(/\/+$/, '');
    const pt = `${dir}/Package.toml`;
    const vt = `${dir}/Versions.toml`;
    await put(pt, rewritePackageToml(await requireText(src, pt), src.describe(pt), { repo: fp.repoUrl }));
    await put(vt, rewriteVersionsToml(await requireText(src, vt), src.describe(vt), fp.versions));
  }

  const lines: string[] = [];
  for (const e of await lsTree(gitDir, input.upstreamCommit)) {
    // A .tree_info.toml would make Pkg treat the git fork as a server registry and never update it.
    if (e.path === '.tree_info.toml') continue;
    const dir = path.posix.dirname(e.path);
    const owner = pkgDirs.get(dir);
    if (owner !== undefined && !input.keep.has(owner)) continue;
    const oid = replaced.get(e.path) ?? e.oid;
    lines.push(`${e.mode} ${oid}\t${e.path}`);
  }
  for (const c of carried) {
    for (const e of await lsTree(gitDir, input.carried!.from, c.path)) lines.push(`${e.mode} ${e.oid}\t${e.path}`);
  }
  const indexFile = path.join(os.tmpdir(), `julia-airgap-index-${randomBytes(6).toString('hex')}`);
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    await git(['read-tree', '--empty'], { gitDir, env });
    await git(['update-index', '-z', '--index-info'], { gitDir, env, input: lines.join('\0') + '\0' });
    return await gitText(['write-tree'], { gitDir, env });
  } finally {
    await rm(indexFile, { force: true });
  }
}

/** Fixed identity; the date is the upstream commit's, so the same input gives the same commit. */
async function forkSignature(gitDir: string, upstreamCommit: string): Promise<Signature> {
  const ct = await gitText(['show', '-s', '--format=%ct', upstreamCommit], { gitDir });
  return { name: 'julia-airgap', email: 'julia-airgap@localhost', time: Number(ct), tz: '+0000' };
}

/**
 * Adds one commit on top of `parent` when the tree changed; returns the branch head either way.
 * The fork only fast-forwards: clients' `registry up` merges, never rebases.
 */
export async function commitFork(
  gitDir: string,
  opts: { tree: string; parent?: string; upstreamCommit: string; upstreamUrl: string; summary: string },
): Promise<{ commit: string; created: boolean }> {
  if (opts.parent) {
    const parentTree = await gitText(['rev-parse', `${opts.parent}^{tree}`], { gitDir });
    if (parentTree === opts.tree) return { commit: opts.parent, created: false };
  }
  const sig = await forkSignature(gitDir, opts.upstreamCommit);
  const message = `julia-airgap: fork of ${opts.upstreamUrl} at ${opts.upstreamCommit}\n\n${opts.summary}\n`;
  const content = commitContent({ tree: opts.tree, parents: opts.parent ? [opts.parent] : [], author: sig, committer: sig, message });
  const commit = await writeObject(gitDir, 'commit', content);
  return { commit, created: true };
}
