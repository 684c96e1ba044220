import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { GitError } from '../../src/errors.js';
import { objectTypes, openCatFile } from '../../src/git/catfile.js';
import { gitRaw, gitSync, makeSamplePackageRepo, tempDir, writeBlob } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const up = makeSamplePackageRepo(`${tmp.dir}/up.git`);
const MISSING = '1234567890123456789012345678901234567890';

describe('openCatFile', () => {
  it('reads objects by oid and rev:path, and reports missing ones', async () => {
    const cat = openCatFile(up.dir);
    try {
      const tree = await cat.read(up.commits.v1!.tree);
      expect(tree?.type).toBe('tree');
      expect(tree?.content.equals(gitRaw(up.dir, ['cat-file', 'tree', up.commits.v1!.tree]))).toBe(true);
      const readme = await cat.read(`${up.commits.v2!.commit}:README.md`);
      expect(readme?.type).toBe('blob');
      expect(readme?.content.toString()).toBe('# Foo 1.1.0\n');
      const commit = await cat.read('refs/heads/main');
      expect(commit?.type).toBe('commit');
      expect(commit?.oid).toBe(up.commits.v2!.commit);
      const tag = await cat.read('refs/tags/v1.1.0');
      expect(tag?.type).toBe('tag');
      expect(await cat.read(MISSING)).toBeUndefined();
      expect(await cat.read(`${up.commits.v1!.commit}:no/such/file`)).toBeUndefined();
      expect(await cat.read('refs/heads/nope')).toBeUndefined();
    } finally {
      await cat.close();
    }
  });

  it('answers many concurrent callers in order, binary-safe', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const bigOid = writeBlob(up.dir, big);
    const nasty = Buffer.from('line\nmissing\n\0\n1234 blob 5\n');
    const nastyOid = writeBlob(up.dir, nasty);
    const all = gitSync(up.dir, ['rev-list', '--all', '--objects']).split('\n').map((l) => l.slice(0, 40));
    const specs: Array<{ spec: string; want: Buffer | undefined }> = [];
    for (let i = 0; i < 5; i++) {
      for (const oid of all) specs.push({ spec: oid, want: gitRaw(up.dir, ['cat-file', gitSync(up.dir, ['cat-file', '-t', oid]), oid]) });
      specs.push({ spec: MISSING, want: undefined });
      specs.push({ spec: bigOid, want: big });
      specs.push({ spec: nastyOid, want: nasty });
      specs.push({ spec: `${up.commits.pr!.commit}:PR.md`, want: Buffer.from('only in the PR\n') });
    }
    const cat = openCatFile(up.dir);
    try {
      const got = await Promise.all(specs.map((s) => cat.read(s.spec)));
      got.forEach((g, i) => {
        const want = specs[i]!.want;
        if (want === undefined) expect(g).toBeUndefined();
        else expect(g?.content.equals(want), specs[i]!.spec).toBe(true);
      });
    } finally {
      await cat.close();
    }
  });

  it('fails every pending caller with a GitError when git dies', async () => {
    const cat = openCatFile(`${tmp.dir}/not-a-repo`);
    const results = await Promise.allSettled([cat.read(MISSING), cat.read('HEAD')]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(GitError);
    }
    await expect(cat.read('HEAD')).rejects.toBeInstanceOf(GitError);
    await cat.close();
  });

  it('refuses specs that would desync the stream, and reads after close', async () => {
    const cat = openCatFile(up.dir);
    await expect(cat.read('HEAD\nHEAD')).rejects.toBeInstanceOf(GitError);
    expect((await cat.read('HEAD'))?.type).toBe('commit');
    await cat.close();
    await cat.close();
    await expect(cat.read('HEAD')).rejects.toBeInstanceOf(GitError);
  });
});

describe('objectTypes', () => {
  it('types a whole list with one process', async () => {
    const oids = [up.commits.v1!.tree, up.commits.v2!.commit, MISSING, up.commits.pr!.tree, up.treeOf('v2', 'lib/Sub')];
    const types = await objectTypes(up.dir, oids);
    expect([...types.values()]).toEqual(['tree', 'commit', undefined, 'tree', 'tree']);
    expect(types.get(MISSING)).toBeUndefined();
    expect(types.has(MISSING)).toBe(true);
    expect((await objectTypes(up.dir, [])).size).toBe(0);
  });
});
