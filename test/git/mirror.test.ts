import { afterAll, describe, expect, it } from 'vitest';
import { GitError, InputError } from '../../src/errors.js';
import { objectTypes } from '../../src/git/catfile.js';
import { ensureBareRepo, fetchUpstream, listRefs, UPSTREAM_NS } from '../../src/git/mirror.js';
import { pinRef, writePins } from '../../src/git/pins.js';
import { gitSync, initBare, makeSamplePackageRepo, makeUpstreamRepo, tempDir } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('ensureBareRepo', () => {
  it('creates a bare repo once', async () => {
    const dir = `${tmp.dir}/cache/a/b.git`;
    await ensureBareRepo(dir);
    expect(gitSync(dir, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(gitSync(dir, ['config', 'core.logAllRefUpdates'])).toBe('false');
    gitSync(dir, ['config', 'x.marker', 'kept']);
    await ensureBareRepo(dir);
    expect(gitSync(dir, ['config', 'x.marker'])).toBe('kept');
  });
});

describe('fetchUpstream', () => {
  const up = makeSamplePackageRepo(`${tmp.dir}/up.git`);
  // A synthetic test-merge ref such as GitHub advertises.
  makeUpstreamRepo(up.dir, { commits: [{ id: 'merge', files: { 'merged.txt': 'm\n' }, parent: null, refs: ['refs/pull/1/merge'] }] });
  const cache = `${tmp.dir}/cache.git`;

  it('refuses local upstreams unless allowed', async () => {
    await ensureBareRepo(cache);
    await expect(fetchUpstream(cache, up.dir)).rejects.toBeInstanceOf(InputError);
    await expect(fetchUpstream(cache, up.url)).rejects.toBeInstanceOf(InputError);
    await expect(fetchUpstream(cache, 'ext::sh -c true')).rejects.toBeInstanceOf(InputError);
  });

  it('fetches every ref, including refs/pull/*/head, and reports the default branch', async () => {
    const r = await fetchUpstream(cache, up.url, { allowFile: true });
    expect(r.head).toBe('main');
    const refs = await listRefs(cache, UPSTREAM_NS);
    expect([...refs.keys()].sort()).toEqual([
      'refs/upstream/heads/main',
      'refs/upstream/pull/1/head',
      'refs/upstream/tags/v1.0.0',
      'refs/upstream/tags/v1.1.0',
    ]);
    expect(r.refs).toBe(4);
    expect(refs.get('refs/upstream/pull/1/head')).toBe(up.commits.pr!.commit);
    const types = await objectTypes(cache, [up.commits.pr!.tree, up.treeOf('pr', 'lib/Sub'), up.commits.v1!.tree]);
    expect([...types.values()]).toEqual(['tree', 'tree', 'tree']);
    // Nothing outside the namespace: no FETCH_HEAD-driven or tag-following refs.
    expect(gitSync(cache, ['for-each-ref', '--format=%(refname)']).split('\n').every((r) => r.startsWith(UPSTREAM_NS))).toBe(true);
  });

  it('can include refs/pull/*/merge on request', async () => {
    const other = `${tmp.dir}/cache-merge.git`;
    await ensureBareRepo(other);
    const r = await fetchUpstream(other, up.dir, { allowFile: true, includePullMerge: true });
    expect(r.refs).toBe(5);
  });

  it('prunes only its namespace: pins keep trees upstream dropped', async () => {
    await writePins(cache, [{ ref: pinRef('Foo', '1.2.0', 'kept'), tree: up.commits.pr!.tree, pkgName: 'Foo', version: '1.2.0', kind: 'kept' }]);
    gitSync(up.dir, ['update-ref', '-d', 'refs/pull/1/head']);
    gitSync(up.dir, ['update-ref', 'refs/heads/dev', up.commits.v1!.commit]);
    gitSync(up.dir, ['symbolic-ref', 'HEAD', 'refs/heads/dev']);
    const r = await fetchUpstream(cache, up.url, { allowFile: true });
    expect(r.head).toBe('dev');
    const refs = await listRefs(cache, UPSTREAM_NS);
    expect(refs.has('refs/upstream/pull/1/head')).toBe(false);
    expect(refs.has('refs/upstream/heads/dev')).toBe(true);
    expect((await listRefs(cache, 'refs/tags/julia-airgap/')).size).toBe(1);
    expect((await objectTypes(cache, [up.commits.pr!.tree])).get(up.commits.pr!.tree)).toBe('tree');
    expect((await listRefs(cache, '')).size).toBe(r.refs + 1);
  });

  it('follows forced upstream updates', async () => {
    gitSync(up.dir, ['update-ref', 'refs/heads/main', up.commits.v1!.commit]);
    await fetchUpstream(cache, up.url, { allowFile: true });
    expect((await listRefs(cache, UPSTREAM_NS)).get('refs/upstream/heads/main')).toBe(up.commits.v1!.commit);
  });

  it('handles an empty upstream and a missing one', async () => {
    const empty = initBare(`${tmp.dir}/empty.git`);
    const c = `${tmp.dir}/cache-empty.git`;
    await ensureBareRepo(c);
    const r = await fetchUpstream(c, empty, { allowFile: true });
    expect(r.refs).toBe(0);
    await expect(fetchUpstream(c, `${tmp.dir}/does-not-exist.git`, { allowFile: true })).rejects.toBeInstanceOf(GitError);
  });
});
