import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, SelectionError } from '../../src/errors.js';
import { depsOf, isJuliaIdentifier, readPackage, readRegistryIndex } from '../../src/registry/reader.js';
import { dirSource, memorySource } from '../../src/registry/source.js';
import { fixtureSource, PACKAGES, registryFiles, tree, U } from './fixture.js';

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('readRegistryIndex', () => {
  it('reads name, uuid, repo, description and the packages with their paths as written', async () => {
    const index = await readRegistryIndex(fixtureSource(PACKAGES));
    expect(index.name).toBe('General');
    expect(index.uuid).toBe('23338594-aafe-5451-b93e-139f81909106');
    expect(index.repo).toBe('https://github.com/JuliaRegistries/General.git');
    expect(index.description).toBe('Test registry.\n');
    expect(index.packages.size).toBe(PACKAGES.length);
    expect(index.packages.get(U.GR_jll)).toEqual({ name: 'GR_jll', path: 'jll/G/GR_jll' });
    expect(index.byName.get('Foo')).toEqual([U.FooA, U.FooB]);
    expect(index.byName.get('bar')).toEqual([U.BarLower]);
  });

  it('lower-cases UUID keys', async () => {
    const src = fixtureSource(PACKAGES, (f) => f.set('Registry.toml', f.get('Registry.toml')!.replace(U.Plots, U.Plots.toUpperCase())));
    const index = await readRegistryIndex(src);
    expect(index.packages.get(U.Plots)?.name).toBe('Plots');
  });

  const bad: Array<[string, (s: string) => string, RegExp]> = [
    ['malformed TOML', (s) => s.replace('[packages]', '[packages'), /malformed TOML at line \d+/],
    ['a bad registry uuid', (s) => s.replace('uuid = "23338594', 'uuid = "zz338594'), /"uuid" must be a UUID/],
    ['a package key that is not a UUID', (s) => s.replace(U.Plotly, 'not-a-uuid'), /key "not-a-uuid" is not a UUID/],
    ['a path with ..', (s) => s.replace('path = "P/Plotly"', 'path = "../../etc"'), new RegExp(`${U.Plotly} \\(Plotly\\): path "../../etc" contains ".."`)],
    ['an absolute path', (s) => s.replace('path = "P/Plotly"', 'path = "/etc/passwd"'), /path "\/etc\/passwd" is absolute/],
    ['a backslash path', (s) => s.replace('path = "P/Plotly"', 'path = "P\\\\Plotly"'), /contains a backslash/],
    ['a .git path', (s) => s.replace('path = "P/Plotly"', 'path = ".git/hooks"'), /contains ".git"/],
    ['a name that is not an identifier', (s) => s.replace('name = "Plotly"', 'name = "../x"'), /name "..\/x" is not a Julia identifier/],
    ['a name with !', (s) => s.replace('name = "Plotly"', 'name = "Plotly!"'), /not a Julia identifier/],
    ['two packages in one directory', (s) => s.replace('path = "P/Plotly"', 'path = "P/Plots"'), /share path "P\/Plots"/],
    ['no [packages]', (s) => s.slice(0, s.indexOf('[packages]')), /missing \[packages\] table/],
  ];
  it.each(bad)('rejects %s with an InputError naming Registry.toml', async (_what, edit, re) => {
    const src = fixtureSource(PACKAGES, (f) => f.set('Registry.toml', edit(f.get('Registry.toml')!)));
    const err = await inputError(readRegistryIndex(src));
    expect(err.file).toBe('Test:Registry.toml');
    expect(err.message).toMatch(/^Test:Registry\.toml: /);
    expect(err.message).toMatch(re);
  });

  it('reports a missing Registry.toml', async () => {
    const err = await inputError(readRegistryIndex(memorySource({}, 'Empty')));
    expect(err.message).toBe('Empty:Registry.toml: file is missing');
  });
});

describe('isJuliaIdentifier', () => {
  it.each(['Plots', 'GR_jll', '_x', 'deSolveDiffEq', 'Ünicode', 'αβ', 'x1', 'CUDA'])('accepts %j', (n) => expect(isJuliaIdentifier(n)).toBe(true));
  it.each(['', '1x', 'a-b', 'a.b', '../x', 'a/b', 'a b', 'x!', 'Foo.jl', 'a\0'])('rejects %j', (n) => expect(isJuliaIdentifier(n)).toBe(false));
});

describe('readPackage', () => {
  it('reads Package, Versions, Deps and WeakDeps', async () => {
    const src = fixtureSource(PACKAGES);
    const index = await readRegistryIndex(src);
    const plots = await readPackage(src, index, U.Plots);
    expect(plots).toMatchObject({ uuid: U.Plots, name: 'Plots', path: 'P/Plots', repo: 'https://github.com/Example/Plots.jl.git' });
    expect(plots.subdir).toBeUndefined();
    expect([...plots.versions]).toEqual([
      ['0.9.0', { tree: tree('Plots0.9.0'), yanked: false }],
      ['1.0.0', { tree: tree('Plots1.0.0'), yanked: false }],
      ['1.1.0', { tree: tree('Plots1.1.0'), yanked: true }],
    ]);
    expect(plots.deps.map((d) => d.key).sort()).toEqual(['0-1', '1', '2-3']);
    expect(plots.weakDeps[0]!.deps).toEqual(new Map([['Unitful', U.Unitful]]));
    const ex = await readPackage(src, index, U.Example);
    expect(ex.subdir).toBe('lib/Example');
    expect(ex.deps).toEqual([]);
    expect(ex.weakDeps).toEqual([]);
  });

  it('depsOf picks the tables whose range contains the version', async () => {
    const src = fixtureSource(PACKAGES);
    const index = await readRegistryIndex(src);
    const plots = await readPackage(src, index, U.Plots);
    expect(depsOf(plots, '0.9.0', false)).toEqual(new Map([['PlotUtils', U.PlotUtils], ['LinearAlgebra', U.LinearAlgebra]]));
    expect([...depsOf(plots, '1.0.0', false).keys()].sort()).toEqual(['GR', 'LinearAlgebra', 'PlotUtils', 'Printf']);
    expect(depsOf(plots, '1.0.0', true)).toEqual(new Map());
    expect(depsOf(plots, '1.1.0', true)).toEqual(new Map([['Unitful', U.Unitful]]));
  });

  it.each(['../../x', 'https://github.com/GUANGZECHEN/Twistronics.jl/tree/master/src', '/abs'])('ignores an unsafe subdir %j with a warning', async (subdir) => {
    const src = fixtureSource(PACKAGES, (f) => f.set('P/Plotly/Package.toml', `name = "Plotly"\nrepo = "https://x/y.git"\nsubdir = "${subdir}"\n`));
    const index = await readRegistryIndex(src);
    const info = await readPackage(src, index, U.Plotly);
    expect(info.subdir).toBeUndefined();
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings![0]).toMatch(/^Test:P\/Plotly\/Package\.toml: subdir ".*" .*; ignored$/);
  });

  it('lower-cases tree hashes', async () => {
    const upper = tree('x').toUpperCase();
    const src = fixtureSource(PACKAGES, (f) => f.set('P/Plotly/Versions.toml', `["0.4.0"]\ngit-tree-sha1 = "${upper}"\n`));
    const index = await readRegistryIndex(src);
    expect((await readPackage(src, index, U.Plotly)).versions.get('0.4.0')!.tree).toBe(upper.toLowerCase());
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ['a name mismatch', 'P/Plotly/Package.toml', `name = "Plotlyy"\nuuid = "${U.Plotly}"\nrepo = "https://x/y.git"\n`, /inconsistent name: Package\.toml says "Plotlyy", Registry\.toml says "Plotly"/],
    ['malformed Package.toml', 'P/Plotly/Package.toml', 'name = "Plotly\n', /malformed TOML at line 1/],
    ['a missing repo', 'P/Plotly/Package.toml', `name = "Plotly"\nuuid = "${U.Plotly}"\n`, /missing string key "repo"/],
    ['a short tree hash', 'P/Plotly/Versions.toml', '["0.4.0"]\ngit-tree-sha1 = "abc123"\n', /version 0\.4\.0: git-tree-sha1 must be 40 hex digits, got "abc123"/],
    ['a non-hex tree hash', 'P/Plotly/Versions.toml', `["0.4.0"]\ngit-tree-sha1 = "${'g'.repeat(40)}"\n`, /must be 40 hex digits/],
    ['a missing tree hash', 'P/Plotly/Versions.toml', '["0.4.0"]\nyanked = false\n', /must be 40 hex digits, got undefined/],
    ['a non-boolean yanked', 'P/Plotly/Versions.toml', `["0.4.0"]\ngit-tree-sha1 = "${tree('a')}"\nyanked = "yes"\n`, /yanked must be true or false/],
    ['a bad version key', 'P/Plotly/Versions.toml', `["0.4.x"]\ngit-tree-sha1 = "${tree('a')}"\n`, /invalid version "0\.4\.x"/],
    ['duplicate versions', 'P/Plotly/Versions.toml', `["0.4"]\ngit-tree-sha1 = "${tree('a')}"\n\n["0.4.0"]\ngit-tree-sha1 = "${tree('b')}"\n`, /versions "0\.4" and "0\.4\.0" are the same version/],
    ['a bad range key', 'P/Plotly/Deps.toml', `["0.4-x"]\nFoo = "${U.FooA}"\n`, /invalid version range "0\.4-x"/],
    ['a bad dep uuid', 'P/Plotly/Deps.toml', `["0.4"]\nFoo = "nope"\n`, /dependency Foo has invalid UUID "nope"/],
    ['a bad weak dep name', 'P/Plotly/WeakDeps.toml', `["0.4"]\n"../x" = "${U.FooA}"\n`, /dependency name "..\/x" is not a Julia identifier/],
  ];
  it.each(bad)('rejects %s with an InputError naming the file', async (_what, path, text, re) => {
    const src = fixtureSource(PACKAGES, (f) => f.set(path, text));
    const index = await readRegistryIndex(src);
    const err = await inputError(readPackage(src, index, U.Plotly));
    expect(err.file).toBe(`Test:${path}`);
    expect(err.message.startsWith(`Test:${path}: `)).toBe(true);
    expect(err.message).toMatch(re);
  });

  it('rejects a missing Package.toml, accepts a missing Versions.toml as no versions (as Pkg does)', async () => {
    const src = fixtureSource(PACKAGES, (f) => {
      f.delete('P/Plotly/Package.toml');
      f.delete('P/PlotThemes/Versions.toml');
    });
    const index = await readRegistryIndex(src);
    expect((await inputError(readPackage(src, index, U.Plotly))).message).toBe('Test:P/Plotly/Package.toml: file is missing');
    expect((await readPackage(src, index, U.PlotThemes)).versions.size).toBe(0);
  });

  it('throws SelectionError for a UUID that is not in the index', async () => {
    const src = fixtureSource(PACKAGES);
    const index = await readRegistryIndex(src);
    await expect(readPackage(src, index, U.Unregistered)).rejects.toBeInstanceOf(SelectionError);
  });
});

describe('dirSource', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'airgap-src-'));
    for (const [p, text] of registryFiles(PACKAGES)) {
      await mkdir(join(root, 'General', p, '..'), { recursive: true });
      await writeFile(join(root, 'General', p), text);
    }
    await writeFile(join(root, 'secret.txt'), 'secret');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads files, returns undefined for missing ones, describes absolute locations', async () => {
    const src = dirSource(join(root, 'General'));
    expect(await src.readText('P/Plots/Package.toml')).toContain('name = "Plots"');
    expect(await src.readText('P/Plots/Nope.toml')).toBeUndefined();
    expect(await src.readText('P/Plots/Package.toml/x')).toBeUndefined();
    expect(src.describe('E/Example/Versions.toml')).toBe(join(root, 'General', 'E', 'Example', 'Versions.toml'));
    const index = await readRegistryIndex(src);
    expect((await readPackage(src, index, U.GR_jll)).versions.size).toBe(2);
  });

  it.each(['../secret.txt', 'P/../../secret.txt', '/etc/passwd', 'P/Plots\0/x', 'P\\Plots', 'C:/x', ''])('refuses %j', async (p) => {
    const src = dirSource(join(root, 'General'));
    await expect(src.readText(p)).rejects.toBeInstanceOf(InputError);
  });

  it('names the file in errors from a directory checkout', async () => {
    const dir = join(root, 'General');
    await writeFile(join(dir, 'P/Plotly/Versions.toml'), '["0.4.0"]\ngit-tree-sha1 = "bad"\n');
    const src = dirSource(dir);
    const index = await readRegistryIndex(src);
    const err = await inputError(readPackage(src, index, U.Plotly));
    expect(err.message.startsWith(`${join(dir, 'P', 'Plotly', 'Versions.toml')}: version 0.4.0`)).toBe(true);
  });
});
