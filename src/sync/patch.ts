// Stage 4: the tree-hash-safe patch. Every download URL in every artifact file of a version
// (all platforms, lazy ones, shadowed files too, so nothing inside ever contacts an outside
// host) is pointed at the internal store; only those blobs and the trees above them change.

import { patchArtifactUrls } from '../artifacts/patch.js';
import type { CatFile } from '../git/catfile.js';
import { replaceInTree, writeObject } from '../git/objects.js';
import { artifactFileName, type ArtifactStore } from '../stores/store.js';
import type { TreeArtifacts } from './artifacts.js';

export type PatchMemo = Map<string, Promise<string>>;

/** Returns the patched tree, or the original when no artifact file has a download URL. */
export function patchTree(gitDir: string, cat: CatFile, tree: string, scanned: TreeArtifacts, store: ArtifactStore, label: string, memo: PatchMemo): Promise<string> {
  let p = memo.get(tree);
  if (!p) {
    p = (async () => {
      const replacements = new Map<string, string>();
      for (const f of scanned.files) {
        if (!f.entries.some((e) => e.downloads.length > 0)) continue;
        const obj = await cat.read(f.oid);
        if (!obj) throw new Error(`${label}:${f.path}: blob ${f.oid} missing`);
        const { text, changed } = patchArtifactUrls(obj.content.toString('utf8'), `${label}:${f.path}`, (d) =>
          store.publicUrl({ sha256: d.sha256, fileName: artifactFileName(d.url) }),
        );
        if (changed === 0) continue;
        const oid = await writeObject(gitDir, 'blob', Buffer.from(text, 'utf8'));
        if (oid !== f.oid) replacements.set(f.path, oid);
      }
      if (replacements.size === 0) return tree;
      return replaceInTree(gitDir, cat, tree, replacements);
    })();
    memo.set(tree, p);
  }
  return p;
}
