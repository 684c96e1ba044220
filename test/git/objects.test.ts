import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openCatFile } from '../../src/git/catfile.js';
import {
  commitContent,
  findFilesNamed,
  hashObject,
  isTreeMode,
  parseTree,
  replaceInTree,
  serializeTree,
  sortTreeEntries,
  writeObject,
  type TreeEntry,
} from '../../src/git/objects.js';
import { gitRaw, gitSync, initBare, makeSamplePackageRepo, tempDir, writeBlob, writeRawTree, writeTree } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const up = makeSamplePackageRepo(`${tmp.dir}/up.git`);

function lsTree(gitDir: string, tree: string): string[] {
  return gitSync(gitDir, ['ls-tree', '-r', '-t', '--full-tree', tree]).split('\n');
}

describe('hashObject / writeObject', () => {
  it('matches git hash-object', async () => {
    const repo = initBare(`${tmp.dir}/w.git`);
    for (const content of [Buffer.alloc(0), Buffer.from('hello\n'), randomBytes(100_000)]) {
      const want = gitSync(undefined, ['hash-object', '--stdin'], content);
      expect(hashObject('blob', content)).toBe(want);
      expect(await writeObject(repo, 'blob', content)).toBe(want);
      expect(gitRaw(repo, ['cat-file', 'blob', want]).equals(content)).toBe(true);
      // Second write is a no-op.
      expect(await writeObject(repo, 'blob', content)).toBe(want);
    }
    const raw = gitRaw(up.dir, ['cat-file', 'tree', up.commits.v1!.tree]);
    expect(await writeObject(repo, 'tree', raw)).toBe(up.commits.v1!.tree);
    let asked = 0;
    const oid = await writeObject(repo, 'blob', Buffer.from('skipped'), async () => {
      asked++;
      return true;
    });
    expect(asked).toBe(1);
    expect(() => gitRaw(repo, ['cat-file', '-e', oid])).toThrow();
  });
});

describe('parseTree / serializeTree', () => {
  it('round-trips raw trees byte-for-byte, legacy and zero-padded modes included', () => {
    const blob = writeBlob(up.dir, 'x\n');
    const sub = writeTree(up.dir, { 'a.txt': 'a\n' });
    const odd = writeRawTree(up.dir, [
      { mode: '100664', name: 'legacy', oid: blob },
      { mode: '100644', name: 'normal', oid: blob },
      { mode: '040000', name: 'padded', oid: sub },
      { mode: '120000', name: 'sym', oid: blob },
      { mode: '160000', name: 'submod', oid: '1'.repeat(40) },
    ]);
    for (const tree of [up.commits.v1!.tree, up.commits.pr!.tree, odd]) {
      const raw = gitRaw(up.dir, ['cat-file', 'tree', tree]);
      const entries = parseTree(raw);
      expect(serializeTree(entries).equals(raw)).toBe(true);
      expect(hashObject('tree', serializeTree(entries))).toBe(tree);
    }
    const e = parseTree(gitRaw(up.dir, ['cat-file', 'tree', odd]));
    expect(e.map((x) => x.mode)).toEqual(['100664', '100644', '040000', '120000', '160000']);
    expect(e.map((x) => isTreeMode(x.mode))).toEqual([false, false, true, false, false]);
  });

  it('rejects truncated trees', () => {
    const raw = gitRaw(up.dir, ['cat-file', 'tree', up.commits.v1!.tree]);
    expect(() => parseTree(raw.subarray(0, raw.length - 3))).toThrow(/malformed/);
  });

  it('sorts like git (directories compare as name/)', () => {
    const blob = writeBlob(up.dir, 'x\n');
    const dir = writeTree(up.dir, { f: 'f\n' });
    const names: Array<[string, boolean]> = [['a', true], ['a.b', false], ['a-b', false], ['a0', false], ['ab', true], ['A', false], ['a_', false]];
    const entries: TreeEntry[] = names.map(([n, isDir]) => ({ mode: isDir ? '40000' : '100644', name: Buffer.from(n), oid: isDir ? dir : blob }));
    const ours = serializeTree(sortTreeEntries(entries.reverse()));
    const input = names.map(([n, isDir]) => `${isDir ? '40000 tree ' + dir : '100644 blob ' + blob}\t${n}\n`).join('');
    const theirs = gitSync(up.dir, ['mktree'], input);
    expect(hashObject('tree', ours)).toBe(theirs);
  });
});

describe('commitContent', () => {
  it('matches git commit-tree', () => {
    const sig = { name: 'A U Thor', email: 'a@example.invalid', time: 1234567890, tz: '-0130' };
    const content = commitContent({ tree: up.commits.v1!.tree, parents: [up.commits.v1!.commit], author: sig, committer: sig, message: 'msg' });
    // The fixture runs git with a fixed identity and date; commit-tree must agree with us.
    const want = gitSync(up.dir, ['commit-tree', up.commits.v1!.tree, '-p', up.commits.v1!.commit, '-m', 'msg']);
    const viaGit = gitSync(
      up.dir,
      ['hash-object', '-t', 'commit', '--stdin'],
      `tree ${up.commits.v1!.tree}\nparent ${up.commits.v1!.commit}\nauthor A U Thor <a@example.invalid> 1234567890 -0130\ncommitter A U Thor <a@example.invalid> 1234567890 -0130\n\nmsg\n`,
    );
    expect(hashObject('commit', content)).toBe(viaGit);
    const fixtureSig = { name: 'Fixture Author', email: 'author@example.invalid', time: 1700000000, tz: '+0000' };
    const committer = { name: 'Fixture Committer', email: 'committer@example.invalid', time: 1700000000, tz: '+0000' };
    const c2 = commitContent({ tree: up.commits.v1!.tree, parents: [up.commits.v1!.commit], author: fixtureSig, committer, message: 'msg' });
    expect(hashObject('commit', c2)).toBe(want);
  });
});

describe('replaceInTree', () => {
  it('rebuilds only the trees on the replaced paths, keeping everything else verbatim', async () => {
    const repo = up.dir;
    const root = up.commits.v2!.tree;
    const newTop = writeBlob(repo, '# patched\n');
    const newSub = writeBlob(repo, '# patched sub\n');
    const cat = openCatFile(repo);
    try {
      const out = await replaceInTree(repo, cat, root, new Map([
        ['Artifacts.toml', newTop],
        ['lib/Sub/JuliaArtifacts.toml', newSub],
      ]));
      expect(out).not.toBe(root);
      const before = lsTree(repo, root);
      const after = lsTree(repo, out);
      const changed = after.filter((l) => !before.includes(l)).map((l) => l.split('\t')[1]);
      expect(changed.sort()).toEqual(['Artifacts.toml', 'lib', 'lib/Sub', 'lib/Sub/JuliaArtifacts.toml']);
      expect(gitSync(repo, ['rev-parse', `${out}:Artifacts.toml`])).toBe(newTop);
      expect(gitSync(repo, ['rev-parse', `${out}:lib/Sub/JuliaArtifacts.toml`])).toBe(newSub);
      // ls-tree canonicalises modes; the raw bytes must keep the legacy mode and symlink.
      const rawRoot = gitRaw(repo, ['cat-file', 'tree', out]).toString('latin1');
      expect(rawRoot).toContain('100664 legacy.txt\0');
      expect(gitSync(repo, ['ls-tree', out, 'docs/link'])).toMatch(/^120000 blob /);
      expect(gitSync(repo, ['ls-tree', out, 'bin/run.sh'])).toMatch(/^100755 blob /);
      const oldEntries = parseTree(gitRaw(repo, ['cat-file', 'tree', root]));
      const newEntries = parseTree(gitRaw(repo, ['cat-file', 'tree', out]));
      expect(newEntries.map((e) => e.mode + e.name.toString())).toEqual(oldEntries.map((e) => e.mode + e.name.toString()));
      // Same replacement again gives the same tree (deterministic, idempotent).
      expect(await replaceInTree(repo, cat, root, new Map([['lib/Sub/JuliaArtifacts.toml', newSub], ['Artifacts.toml', newTop]]))).toBe(out);
      // Replacing with the same blob gives the same tree back.
      const same = gitSync(repo, ['rev-parse', `${root}:Artifacts.toml`]);
      expect(await replaceInTree(repo, cat, root, new Map([['Artifacts.toml', same]]))).toBe(root);
      expect(gitSync(repo, ['fsck', '--no-dangling', '--connectivity-only'])).toBe('');
    } finally {
      await cat.close();
    }
  });

  it('keeps zero-padded and legacy entries in untouched sibling trees', async () => {
    const repo = up.dir;
    const blob = writeBlob(repo, 'x\n');
    const sub = writeRawTree(repo, [{ mode: '100664', name: 'Artifacts.toml', oid: blob }, { mode: '100755', name: 'x', oid: blob }]);
    const padded = writeTree(repo, { 'y': 'y\n' });
    const root = writeRawTree(repo, [
      { mode: '040000', name: 'a', oid: padded },
      { mode: '40000', name: 'b', oid: sub },
      { mode: '160000', name: 'c', oid: '2'.repeat(40) },
    ]);
    const cat = openCatFile(repo);
    try {
      const nb = writeBlob(repo, 'new\n');
      const out = await replaceInTree(repo, cat, root, new Map([['b/Artifacts.toml', nb]]));
      const raw = gitRaw(repo, ['cat-file', 'tree', out]);
      const e = parseTree(raw);
      expect(e.map((x) => [x.mode, x.name.toString()])).toEqual([['040000', 'a'], ['40000', 'b'], ['160000', 'c']]);
      expect(e[0]!.oid).toBe(padded);
      const b = parseTree(gitRaw(repo, ['cat-file', 'tree', e[1]!.oid]));
      expect(b.map((x) => [x.mode, x.name.toString(), x.oid])).toEqual([['100664', 'Artifacts.toml', nb], ['100755', 'x', blob]]);
    } finally {
      await cat.close();
    }
  });

  it('throws for paths that are not regular files in the tree', async () => {
    const cat = openCatFile(up.dir);
    const blob = writeBlob(up.dir, 'z\n');
    try {
      const root = up.commits.v2!.tree;
      await expect(replaceInTree(up.dir, cat, root, new Map([['Nope.toml', blob]]))).rejects.toBeInstanceOf(InputError);
      await expect(replaceInTree(up.dir, cat, root, new Map([['lib/Nope/Artifacts.toml', blob]]))).rejects.toThrow(/no such file/);
      await expect(replaceInTree(up.dir, cat, root, new Map([['lib', blob]]))).rejects.toThrow(/not a regular file/);
      await expect(replaceInTree(up.dir, cat, root, new Map([['docs/link', blob]]))).rejects.toThrow(/not a regular file/);
      await expect(replaceInTree(up.dir, cat, root, new Map([['README.md/x', blob]]))).rejects.toThrow(/not a directory/);
      await expect(replaceInTree(up.dir, cat, root, new Map([['../x', blob]]))).rejects.toThrow(/relative path/);
    } finally {
      await cat.close();
    }
  });
});

describe('findFilesNamed', () => {
  it('finds nested files, skips gitlinks and .git, memoises subtrees', async () => {
    const repo = up.dir;
    const names = new Set(['Artifacts.toml', 'JuliaArtifacts.toml']);
    const cat = openCatFile(repo);
    try {
      const found = await findFilesNamed(cat, up.commits.v2!.tree, names);
      expect(found.map((f) => f.path)).toEqual(['Artifacts.toml', 'lib/Sub/JuliaArtifacts.toml']);
      expect(found[0]!.oid).toBe(gitSync(repo, ['rev-parse', `${up.commits.v2!.tree}:Artifacts.toml`]));
      expect(found[0]!.mode).toBe('100644');

      const sub = writeTree(repo, { 'deep/er/Artifacts.toml': 'x\n', 'Artifacts.toml.bak': 'y\n' });
      const dotgit = writeTree(repo, { 'Artifacts.toml': 'hidden\n' });
      const root = writeTree(repo, {
        'pkg': { mode: '40000', oid: sub },
        'pkg2': { mode: '040000', oid: sub },
        '.git': { mode: '40000', oid: dotgit },
        'vendored': { mode: '160000', oid: '3'.repeat(40) },
        'JuliaArtifacts.toml': { symlink: 'Artifacts.toml' },
      });
      const memo = new Map<string, Array<{ path: string; oid: string; mode: string }>>();
      const f2 = await findFilesNamed(cat, root, names, memo);
      expect(f2.map((f) => [f.path, f.mode])).toEqual([
        ['JuliaArtifacts.toml', '120000'],
        ['pkg/deep/er/Artifacts.toml', '100644'],
        ['pkg2/deep/er/Artifacts.toml', '100644'],
      ]);
      expect(memo.get(sub)?.map((f) => f.path)).toEqual(['deep/er/Artifacts.toml']);
      // A second root sharing the subtree is answered from the memo for that subtree.
      memo.set(sub, [{ path: 'from-memo', oid: '4'.repeat(40), mode: '100644' }]);
      const root2 = writeTree(repo, { 'other': { mode: '40000', oid: sub } });
      expect((await findFilesNamed(cat, root2, names, memo)).map((f) => f.path)).toEqual(['other/from-memo']);
    } finally {
      await cat.close();
    }
  });
});
