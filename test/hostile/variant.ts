// Variants of the world fixture's registry for hostile-input tests: read its files, change
// them, add packages (with repos served by the world's git server), and commit the result as
// a new registry repo — local, or served over HTTP so the sync treats it as remote.

import path from 'node:path';
import { gitSync, makeUpstreamRepo, type TreeSpec } from '../fixtures/gitrepo.js';
import { listFiles } from '../fixtures/cli.js';
import type { World } from '../fixtures/world.js';

/** path -> text of every file of the registry at HEAD. */
export function registryFiles(registryDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of gitSync(registryDir, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').filter(Boolean)) {
    out[p] = gitSync(registryDir, ['show', `HEAD:${p}`]) + '\n';
  }
  return out;
}

/** Registers a package: a [packages] line in Registry.toml and its Package/Versions.toml. */
export function addPackage(
  files: Record<string, string>,
  p: { name: string; uuid: string; path: string; repo: string; versions: Record<string, string>; deps?: Record<string, string> },
): void {
  files['Registry.toml'] += `${p.uuid} = { name = ${JSON.stringify(p.name)}, path = ${JSON.stringify(p.path)} }\n`;
  files[`${p.path}/Package.toml`] = `name = ${JSON.stringify(p.name)}\nuuid = "${p.uuid}"\nrepo = ${JSON.stringify(p.repo)}\n`;
  files[`${p.path}/Versions.toml`] = Object.entries(p.versions).map(([v, t]) => `["${v}"]\ngit-tree-sha1 = "${t}"\n`).join('\n');
  if (p.deps) files[`${p.path}/Deps.toml`] = `[0-99]\n${Object.entries(p.deps).map(([n, u]) => `${n} = "${u}"`).join('\n')}\n`;
}

/** A new registry repo with one commit of `files`; `served` puts it under the world's git server. */
export function commitRegistry(world: World, name: string, files: Record<string, string>, served = false): string {
  const dir = served ? path.join(world.root, 'upstream-git', `${name}.git`) : path.join(world.root, 'registries', `${name}.git`);
  makeUpstreamRepo(dir, { commits: [{ id: 'r', files, refs: ['refs/heads/master'], parent: null }], head: 'master' });
  return served ? world.repoUrl(name) : dir;
}

/** A package repo served by the world's git server: one commit, tagged; returns its URL and tree. */
export function servePackageRepo(world: World, repo: string, files: TreeSpec, refs: string[] = ['refs/heads/main']): { url: string; tree: string; dir: string } {
  const dir = path.join(world.root, 'upstream-git', `${repo}.git`);
  const r = makeUpstreamRepo(dir, { commits: [{ id: 'c', files, refs, tags: ['v1.0.0'], parent: null }] });
  return { url: world.repoUrl(repo), tree: r.treeOf('c'), dir };
}

export function project(name: string, uuid: string, version = '1.0.0'): string {
  return `name = "${name}"\nuuid = "${uuid}"\nversion = "${version}"\n`;
}

/** Every file under `root` outside the given directories: what a run must not have touched. */
export function filesOutside(root: string, inside: string[]): string[] {
  const rel = inside.map((d) => path.relative(root, d) + '/');
  return listFiles(root).filter((f) => !rel.some((r) => f.startsWith(r)));
}
