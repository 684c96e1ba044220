// Nothing is deleted from the internal side because upstream deleted it. Every version the fork
// ever listed is remembered in state.json (`published`: uuid -> version -> the tree the fork
// listed); a later sync that would drop it — upstream removed it from Versions.toml, or this run
// could not redo it — lists it again with the same tree. Its pins stay on the host (pushes never
// delete refs), so the tree Pkg looks for is still there.

import type { ForkPackage } from '../registry/fork.js';
import { tomlString } from '../registry/rewrite.js';
import type { FileSource } from '../registry/source.js';
import { isTable, parseToml } from '../registry/toml.js';

export type Published = Record<string, Record<string, string>>;

export interface Retained {
  /** versions added back to `keep` */
  count: number;
  /** registry files whose text needs entries upstream no longer has: path -> version -> tree */
  appended: Map<string, Map<string, string>>;
}

/**
 * Adds every previously published version of a package still in the selection back into
 * `keep`. `dirOf(uuid)` is the package's registry directory and `repoUrlOf(uuid)` its internal
 * clone URL (both undefined for a package no longer selected: deselecting is the operator's
 * call, not upstream's).
 */
export async function retainPublished(opts: {
  published: Published | undefined;
  keep: Map<string, ForkPackage>;
  src: FileSource;
  dirOf: (uuid: string) => string | undefined;
  repoUrlOf: (uuid: string) => string | undefined;
}): Promise<Retained> {
  const appended = new Map<string, Map<string, string>>();
  let count = 0;
  for (const [uuid, versions] of Object.entries(opts.published ?? {})) {
    const dir = opts.dirOf(uuid);
    const repoUrl = opts.repoUrlOf(uuid);
    if (dir === undefined || repoUrl === undefined) continue;
    const missing = Object.entries(versions).filter(([v]) => !opts.keep.get(uuid)?.versions.has(v));
    if (missing.length === 0) continue;
    const file = `${dir.replace(/\/+$/, '')}/Versions.toml`;
    const text = await opts.src.readText(file);
    const upstream = text === undefined ? {} : parseToml(text, opts.src.describe(file));
    let fp = opts.keep.get(uuid);
    if (!fp) opts.keep.set(uuid, (fp = { repoUrl, versions: new Map() }));
    for (const [version, tree] of missing) {
      fp.versions.set(version, tree);
      count++;
      if (!isTable(upstream[version])) {
        let add = appended.get(file);
        if (!add) appended.set(file, (add = new Map()));
        add.set(version, tree);
      }
    }
  }
  return { count, appended };
}

/** A registry source whose Versions.toml files carry the retained entries upstream dropped. */
export function withAppendedVersions(src: FileSource, appended: Map<string, Map<string, string>>): FileSource {
  if (appended.size === 0) return src;
  return {
    async readText(p: string) {
      const text = await src.readText(p);
      const add = appended.get(p);
      if (!add) return text;
      let out = text ?? '';
      if (out && !out.endsWith('\n')) out += '\n';
      for (const [version, tree] of add) out += `${out ? '\n' : ''}[${tomlString(version)}]\ngit-tree-sha1 = ${tomlString(tree)}\n`;
      return out;
    },
    describe: (p: string) => src.describe(p),
  };
}

/** The published map after a sync: what the fork lists now (a superset of before). */
export function publishedAfter(keep: Map<string, ForkPackage>, before: Published | undefined): Published {
  const out: Published = {};
  for (const [uuid, v] of Object.entries(before ?? {})) out[uuid] = { ...v };
  for (const [uuid, fp] of keep) out[uuid] = { ...(out[uuid] ?? {}), ...Object.fromEntries(fp.versions) };
  return out;
}
