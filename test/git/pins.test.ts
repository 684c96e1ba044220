import { afterAll, describe, expect, it } from 'vitest';
import { AirgapError } from '../../src/errors.js';
import { hashObject } from '../../src/git/objects.js';
import { PIN_NAMESPACE, PIN_SIGNATURE, pinCommitContent, pinRef, refFormatProblem, writePins } from '../../src/git/pins.js';
import { gitSync, makeSamplePackageRepo, tempDir, writeTree } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const up = makeSamplePackageRepo(`${tmp.dir}/up.git`);

describe('pinRef', () => {
  it('builds refs in the pin namespace', () => {
    expect(pinRef('Foo', '1.2.3', 'kept')).toBe('refs/tags/julia-airgap/Foo/1.2.3');
    expect(pinRef('Foo_jll', '1.2.11+0', 'original')).toBe('refs/tags/julia-airgap/Foo_jll/1.2.11+0-original');
    expect(pinRef('Foo!', '0.1.0-rc.1', 'kept')).toBe('refs/tags/julia-airgap/Foo!/0.1.0-rc.1');
    expect(PIN_NAMESPACE).toBe('refs/tags/julia-airgap/');
  });

  it.each([
    ['Foo.jl', '1.0.0'],
    ['../x', '1.0.0'],
    ['Foo/Bar', '1.0.0'],
    ['', '1.0.0'],
    ['1Foo', '1.0.0'],
    ['Foo', '1.0'],
    ['Foo', '1.0.0..1'],
    ['Foo', '1.0.0 '],
    ['Foo', '1.0.0~1'],
    ['Foo', '1.0.0.lock'],
    ['Foo', '1.0.0-original'],
  ])('refuses %j %j', (name, version) => {
    expect(() => pinRef(name, version, 'kept')).toThrow(AirgapError);
  });

  it('checks ref format like git', () => {
    for (const ref of ['refs/tags/a', 'refs/tags/a+b', 'refs/heads/x.y', 'refs/tags/julia-airgap/Foo/1.0.0+0']) {
      expect(refFormatProblem(ref)).toBeUndefined();
      expect(() => gitSync(undefined, ['check-ref-format', ref])).not.toThrow();
    }
    for (const ref of ['refs/tags/a..b', 'refs/tags/a.lock', 'refs/tags/.a', 'refs/tags/a/', 'refs//a', 'refs/a b', 'refs/a@{1}', 'refs/a.', 'refs/a:b', 'refs/a\\b']) {
      expect(refFormatProblem(ref), ref).toBeDefined();
      expect(() => gitSync(undefined, ['check-ref-format', ref]), ref).toThrow();
    }
  });
});

describe('pin commits', () => {
  it('are deterministic and match git commit-tree with the fixed signature', () => {
    const tree = up.commits.v1!.tree;
    const a = pinCommitContent(tree, 'Foo', '1.0.0', 'kept');
    expect(pinCommitContent(tree, 'Foo', '1.0.0', 'kept').equals(a)).toBe(true);
    expect(pinCommitContent(tree, 'Foo', '1.0.0', 'original').equals(a)).toBe(false);
    expect(a.toString()).toContain(`julia-airgap pin: Foo 1.0.0 (tree ${tree})`);
    expect(PIN_SIGNATURE).toEqual({ name: 'julia-airgap', email: 'julia-airgap@localhost', time: 0, tz: '+0000' });
  });
});

describe('writePins', () => {
  it('creates, leaves alone and moves pins in one transaction', async () => {
    const repo = up.dir;
    const pins = [
      { pkgName: 'Foo', version: '1.0.0', kind: 'kept' as const, tree: up.commits.v1!.tree },
      { pkgName: 'Foo', version: '1.1.0', kind: 'kept' as const, tree: up.commits.v2!.tree },
      { pkgName: 'Foo', version: '1.2.0', kind: 'kept' as const, tree: up.commits.pr!.tree },
      { pkgName: 'Sub', version: '1.1.0', kind: 'kept' as const, tree: up.treeOf('v2', 'lib/Sub') },
      { pkgName: 'Foo', version: '1.1.0', kind: 'original' as const, tree: up.commits.v2!.tree },
    ].map((p) => ({ ...p, ref: pinRef(p.pkgName, p.version, p.kind) }));

    expect(await writePins(repo, pins)).toEqual({ created: 5, updated: 0, unchanged: 0 });
    const refs = gitSync(repo, ['for-each-ref', '--format=%(refname) %(objectname)', PIN_NAMESPACE]).split('\n');
    expect(refs).toHaveLength(5);
    for (const p of pins) {
      const commit = gitSync(repo, ['rev-parse', p.ref]);
      expect(commit).toBe(hashObject('commit', pinCommitContent(p.tree, p.pkgName, p.version, p.kind)));
      expect(gitSync(repo, ['rev-parse', `${p.ref}^{tree}`])).toBe(p.tree);
      expect(gitSync(repo, ['log', '-1', '--format=%an <%ae> %at %ad', '--date=raw', p.ref])).toBe('julia-airgap <julia-airgap@localhost> 0 0 +0000');
    }
    expect(gitSync(repo, ['fsck', '--no-dangling', '--connectivity-only'])).toBe('');

    // Same pins again: nothing touched, same oids.
    expect(await writePins(repo, pins)).toEqual({ created: 0, updated: 0, unchanged: 5 });
    expect(gitSync(repo, ['for-each-ref', '--format=%(refname) %(objectname)', PIN_NAMESPACE]).split('\n')).toEqual(refs);

    // A patched tree for one version moves just that pin.
    const patched = writeTree(repo, { 'Artifacts.toml': 'patched\n' });
    const moved = pins.map((p) => (p.version === '1.0.0' ? { ...p, tree: patched } : p));
    expect(await writePins(repo, moved)).toEqual({ created: 0, updated: 1, unchanged: 4 });
    expect(gitSync(repo, ['rev-parse', `${pinRef('Foo', '1.0.0', 'kept')}^{tree}`])).toBe(patched);
  });

  it('refuses trees missing from the repo, conflicting duplicates and foreign refs', async () => {
    const repo = up.dir;
    const missing = 'f'.repeat(40);
    await expect(writePins(repo, [{ ref: pinRef('Bar', '1.0.0', 'kept'), tree: missing, pkgName: 'Bar', version: '1.0.0', kind: 'kept' }])).rejects.toThrow(/not in the repository/);
    expect(gitSync(repo, ['for-each-ref', `${PIN_NAMESPACE}Bar/`])).toBe('');
    const t1 = up.commits.v1!.tree;
    const t2 = up.commits.v2!.tree;
    const ref = pinRef('Bar', '1.0.0', 'kept');
    await expect(writePins(repo, [
      { ref, tree: t1, pkgName: 'Bar', version: '1.0.0', kind: 'kept' },
      { ref, tree: t2, pkgName: 'Bar', version: '1.0.0', kind: 'kept' },
    ])).rejects.toThrow(/two different trees/);
    await expect(writePins(repo, [{ ref: 'refs/heads/main', tree: t1, pkgName: 'Bar', version: '1.0.0', kind: 'kept' }])).rejects.toThrow(/outside/);
    expect(await writePins(repo, [])).toEqual({ created: 0, updated: 0, unchanged: 0 });
  });
});
