import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GitError, PublishError } from '../../src/errors.js';
import { ensureBareRepo, fetchUpstream } from '../../src/git/mirror.js';
import { PIN_NAMESPACE, pinRef, writePins } from '../../src/git/pins.js';
import { dirHost } from '../../src/hosts/dir.js';
import { parsePorcelain, pushRefs, remoteRefs } from '../../src/hosts/push.js';
import { gitSync, makeSamplePackageRepo, makeUpstreamRepo, tempDir } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('dirHost', () => {
  const own = tempDir();
  afterAll(() => own.cleanup());
  const host = dirHost({ path: `${own.dir}/mirror/git`, url: 'http://localhost:8080/git/' });

  it('creates bare repos idempotently, inside its path only', async () => {
    await host.ensureRepo('juliaplots--plots.jl', { description: 'Plots.jl\nmirror' });
    gitSync(`${own.dir}/mirror/git/juliaplots--plots.jl.git`, ['config', 'x.marker', 'kept']);
    await host.ensureRepo('juliaplots--plots.jl');
    const dir = `${own.dir}/mirror/git/juliaplots--plots.jl.git`;
    expect(gitSync(dir, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(gitSync(dir, ['config', 'http.receivepack'])).toBe('false');
    expect(gitSync(dir, ['config', 'x.marker'])).toBe('kept');
    expect(readFileSync(`${dir}/description`, 'utf8')).toBe('Plots.jl mirror\n');
    expect(readdirSync(own.dir)).toEqual(['mirror']);
    expect(readdirSync(`${own.dir}/mirror/git`)).toEqual(['juliaplots--plots.jl.git']);
    expect(host.kind).toBe('dir');
  });

  it('builds clone URLs and push targets', () => {
    expect(host.cloneUrl('General')).toBe('http://localhost:8080/git/General.git');
    expect(host.pushTarget('General')).toEqual({ url: `${own.dir}/mirror/git/General.git`, config: [] });
  });

  it('refuses unsafe repo names', async () => {
    for (const bad of ['../x', 'a/b', '.hidden', '-x', 'x.git', '', 'a b']) {
      await expect(host.ensureRepo(bad)).rejects.toBeInstanceOf(PublishError);
      expect(() => host.cloneUrl(bad)).toThrow(PublishError);
    }
  });
});

describe('pushRefs', () => {
  const up = makeSamplePackageRepo(`${tmp.dir}/up.git`);
  const cache = `${tmp.dir}/cache.git`;
  const host = dirHost({ path: `${tmp.dir}/mirror/git`, url: 'http://localhost:8080/git' });
  const name = 'foo';

  it('pushes pins and branches, then finds them up to date', async () => {
    await ensureBareRepo(cache);
    await fetchUpstream(cache, up.url, { allowFile: true });
    await writePins(cache, [
      { ref: pinRef('Foo', '1.0.0', 'kept'), tree: up.commits.v1!.tree, pkgName: 'Foo', version: '1.0.0', kind: 'kept' },
      { ref: pinRef('Foo', '1.1.0', 'kept'), tree: up.commits.v2!.tree, pkgName: 'Foo', version: '1.1.0', kind: 'kept' },
      { ref: pinRef('Foo', '1.2.0', 'kept'), tree: up.commits.pr!.tree, pkgName: 'Foo', version: '1.2.0', kind: 'kept' },
    ]);
    await host.ensureRepo(name);
    const specs = [
      `${PIN_NAMESPACE}*:${PIN_NAMESPACE}*`,
      'refs/upstream/heads/main:refs/heads/main',
      'refs/upstream/tags/v1.0.0:refs/tags/v1.0.0',
      'refs/upstream/tags/v1.1.0:refs/tags/v1.1.0',
    ];
    const first = await pushRefs(cache, host.pushTarget(name), specs, { chunkSize: 2 });
    expect(first).toEqual({ pushed: 6, upToDate: 0, rejected: [] });
    const second = await pushRefs(cache, host.pushTarget(name), specs);
    expect(second).toEqual({ pushed: 0, upToDate: 6, rejected: [] });

    const remote = await remoteRefs(host.pushTarget(name));
    expect(remote.size).toBe(6);
    expect(remote.get('refs/heads/main')).toBe(up.commits.v2!.commit);
    const dir = host.pushTarget(name).url;
    expect(gitSync(dir, ['rev-parse', `${pinRef('Foo', '1.2.0', 'kept')}^{tree}`])).toBe(up.commits.pr!.tree);

    await host.setDefaultBranch(name, 'nope');
    expect(gitSync(dir, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');
    await pushRefs(cache, host.pushTarget(name), ['refs/upstream/tags/v1.0.0:refs/heads/stable']);
    await host.setDefaultBranch(name, 'stable');
    expect(gitSync(dir, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/stable');
  });

  it('reports rejected refs one by one and pushes the rest', async () => {
    const dir = host.pushTarget(name).url;
    // The target's branch moved on its own: a non-forced push to it must be rejected.
    makeUpstreamRepo(dir, { commits: [{ id: 'x', files: { 'x.txt': 'x\n' }, parent: null, refs: ['refs/heads/diverged'] }] });
    gitSync(dir, ['symbolic-ref', 'HEAD', 'refs/heads/stable']);
    const r = await pushRefs(cache, host.pushTarget(name), [
      'refs/upstream/heads/main:refs/heads/diverged',
      'refs/upstream/pull/1/head:refs/heads/pr-1',
      'refs/upstream/nope:refs/heads/nope',
      'refs/upstream/tags/v1.1.0:refs/tags/v1.1.0',
    ]);
    expect(r.pushed).toBe(1);
    expect(r.upToDate).toBe(1);
    expect(r.rejected.map((x) => x.ref).sort()).toEqual(['refs/heads/diverged', 'refs/heads/nope']);
    expect(r.rejected.find((x) => x.ref === 'refs/heads/diverged')!.reason).toMatch(/rejected/);
    expect(gitSync(dir, ['rev-parse', 'refs/heads/pr-1'])).toBe(up.commits.pr!.commit);
    // Forcing is the caller's explicit choice.
    const forced = await pushRefs(cache, host.pushTarget(name), ['+refs/upstream/heads/main:refs/heads/diverged']);
    expect(forced).toEqual({ pushed: 1, upToDate: 0, rejected: [] });
  });

  it('throws when the push fails as a whole', async () => {
    await expect(pushRefs(cache, { url: `${tmp.dir}/nowhere.git`, config: [] }, ['refs/upstream/heads/main:refs/heads/main'])).rejects.toBeInstanceOf(GitError);
    await expect(pushRefs(cache, { url: 'ext::sh', config: [] }, ['x'])).rejects.toThrow(/transport/);
    await expect(pushRefs(cache, host.pushTarget(name), ['--force'])).rejects.toBeInstanceOf(GitError);
    expect(existsSync(`${tmp.dir}/nowhere.git`)).toBe(false);
  });

  it('parses porcelain lines', () => {
    const out = 'To /x\n=\trefs/a:refs/a\t[up to date]\n*\trefs/b:refs/b\t[new branch]\n!\trefs/c:refs/c\t[rejected] (non-fast-forward)\n+\trefs/d:refs/d\tabc...def (forced update)\n \trefs/e:refs/e\tabc..def\n-\t:refs/f\t[deleted]\nDone\n';
    expect(parsePorcelain(out).map((l) => [l.flag, l.ref])).toEqual([
      ['=', 'refs/a'], ['*', 'refs/b'], ['!', 'refs/c'], ['+', 'refs/d'], [' ', 'refs/e'], ['-', 'refs/f'],
    ]);
  });
});
