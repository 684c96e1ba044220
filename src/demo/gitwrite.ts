// Writes the demo's upstream repos with git plumbing: file maps become blobs and trees
// (loose objects, written once), commits get a fixed author and date so the demo upstream is
// the same on every run, and refs move in one update-ref transaction.

import { commitContent, serializeTree, sortTreeEntries, writeObject, type Signature, type TreeEntry } from '../git/objects.js';
import { git } from '../git/run.js';
import type { FileMap } from './files.js';

export interface WrittenTree {
  root: string;
  /** tree oid of every directory, by path ('' is the root) */
  dirs: Map<string, string>;
}

interface Dir {
  files: Map<string, { oid: string; exec: boolean }>;
  dirs: Map<string, Dir>;
}

export async function writeFileTree(gitDir: string, files: FileMap): Promise<WrittenTree> {
  const top: Dir = { files: new Map(), dirs: new Map() };
  for (const [p, f] of files) {
    const parts = p.split('/');
    let d = top;
    for (const seg of parts.slice(0, -1)) {
      let next = d.dirs.get(seg);
      if (!next) d.dirs.set(seg, (next = { files: new Map(), dirs: new Map() }));
      d = next;
    }
    d.files.set(parts[parts.length - 1]!, { oid: await writeObject(gitDir, 'blob', f.data), exec: f.exec });
  }
  const dirs = new Map<string, string>();
  const write = async (d: Dir, at: string): Promise<string> => {
    const entries: TreeEntry[] = [];
    for (const [name, f] of d.files) entries.push({ mode: f.exec ? '100755' : '100644', name: Buffer.from(name), oid: f.oid });
    for (const [name, sub] of d.dirs) entries.push({ mode: '40000', name: Buffer.from(name), oid: await write(sub, at ? `${at}/${name}` : name) });
    const oid = await writeObject(gitDir, 'tree', serializeTree(sortTreeEntries(entries)));
    dirs.set(at, oid);
    return oid;
  };
  return { root: await write(top, ''), dirs };
}

/** The demo's fixed identity; `step` spaces commits a day apart so their order reads naturally. */
export function demoSignature(step: number): Signature {
  return { name: 'julia-airgap demo', email: 'demo@julia-airgap.invalid', time: 1_704_067_200 + step * 86_400, tz: '+0000' };
}

export async function writeCommit(gitDir: string, tree: string, parent: string | undefined, message: string, step: number): Promise<string> {
  const sig = demoSignature(step);
  return writeObject(gitDir, 'commit', commitContent({ tree, parents: parent ? [parent] : [], author: sig, committer: sig, message }));
}

/** Sets refs in one transaction and points HEAD at `head` (a branch name). */
export async function setRefs(gitDir: string, refs: ReadonlyMap<string, string>, head: string): Promise<void> {
  const input = [...refs].map(([ref, oid]) => `update ${ref} ${oid}\n`).join('');
  await git(['update-ref', '--stdin'], { gitDir, input });
  await git(['symbolic-ref', 'HEAD', `refs/heads/${head}`], { gitDir });
}
