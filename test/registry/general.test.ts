// Real-shape tests against JuliaRegistries/General as of 2024-04-04 (../shared/data). The
// counts asserted here are the ones measured in reference/pkg-internals.md "Real data".
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depsOf, readRegistryIndex, type PackageInfo, type RegistryIndex } from '../../src/registry/reader.js';
import { rewritePackageToml, rewriteRegistryToml, rewriteVersionsToml } from '../../src/registry/rewrite.js';
import { selectPackages, STDLIBS, type Selection } from '../../src/registry/select.js';
import { dirSource, type FileSource } from '../../src/registry/source.js';
import { GENERAL_TARBALL, HAVE_GENERAL, generalDir } from '../fixtures/general.js';

const DATA = GENERAL_TARBALL;
const HAVE_DATA = HAVE_GENERAL;

it.skipIf(HAVE_DATA)(`General registry tests skipped: ${DATA} is absent (a clone without ../shared/data)`, () => {});

describe.skipIf(!HAVE_DATA)('General 2024-04-04', () => {
  let src: FileSource;
  let index: RegistryIndex;
  let everything: Selection;
  let closure: Selection;
  const timings: Record<string, string> = {};

  const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    timings[label] = `${(performance.now() - t0).toFixed(0)} ms`;
    return r;
  };

  beforeAll(async () => {
    src = dirSource(await timed('extract', generalDir));
    index = await timed('read index', () => readRegistryIndex(src));
  });

  afterAll(async () => {
    console.log(`General timings: ${JSON.stringify(timings)}`);
  });

  it('reads the index: 10,728 packages, 1,410 JLLs under jll/, paths read not computed', () => {
    expect(index.name).toBe('General');
    expect(index.uuid).toBe('23338594-aafe-5451-b93e-139f81909106');
    expect(index.repo).toBe('https://github.com/JuliaRegistries/General.git');
    expect(index.description).toMatch(/^Official general Julia package registry/);
    expect(index.packages.size).toBe(10_728);
    const jlls = [...index.packages.values()].filter((p) => p.name.endsWith('_jll'));
    expect(jlls).toHaveLength(1_410);
    for (const p of jlls) expect(p.path).toBe(`jll/${p.name[0]!.toUpperCase()}/${p.name}`);
    const others = [...index.packages.values()].filter((p) => !p.name.endsWith('_jll'));
    for (const p of others) expect(p.path).toBe(`${p.name[0]!.toUpperCase()}/${p.name}`);
  });

  it('reads every package (all): 103,514 versions, 253 with subdir, 255 yanked', async () => {
    everything = await timed('read all packages (all: true, concurrency 64)', () => selectPackages(src, index, { all: true }, { concurrency: 64 }));
    expect(everything.packages.size).toBe(10_728);
    expect(everything.roots).toHaveLength(10_728);
    let versions = 0;
    let yanked = 0;
    let subdir = 0;
    let build = 0;
    let pre = 0;
    let weak = 0;
    const warnings: string[] = [];
    for (const p of everything.packages.values()) {
      versions += p.versions.size;
      if (p.subdir !== undefined) subdir++;
      if (p.warnings) warnings.push(...p.warnings);
      if (p.weakDeps.length) weak++;
      for (const [v, info] of p.versions) {
        if (info.yanked) yanked++;
        if (v.includes('+')) build++;
        if (/^[^+]*-/.test(v)) pre++;
        expect(info.tree).toMatch(/^[0-9a-f]{40}$/);
      }
    }
    expect(versions).toBe(103_514);
    // 253 packages have a subdir; Twistronics' is a URL and is ignored with a warning.
    expect(subdir).toBe(252);
    expect(warnings).toEqual([expect.stringMatching(/T\/Twistronics\/Package\.toml: subdir "https:\/\/github\.com\/GUANGZECHEN\/Twistronics\.jl\/tree\/master\/src" .*; ignored$/)]);
    expect(yanked).toBe(255);
    expect(build).toBe(7_360);
    expect(pre).toBe(21);
    expect(weak).toBe(546);
    // Every dependency outside the registry is a known standard library.
    expect(everything.skippedStdlibs.length).toBeGreaterThan(20);
    for (const s of everything.skippedStdlibs) expect(STDLIBS.get(s.uuid)).toBe(s.name);
    expect(everything.notInRegistry).toEqual([]);
  });

  it('computes the closure of Plots and DataFrames, and it is closed', async () => {
    closure = await timed('closure Plots+DataFrames', () => selectPackages(src, index, { packages: ['Plots', 'DataFrames'] }));
    const names = new Set([...closure.packages.values()].map((p) => p.name));
    for (const n of ['Plots', 'DataFrames', 'GR_jll', 'FFMPEG_jll', 'Tables', 'PooledArrays', 'GR', 'PlotUtils', 'Unitful']) {
      expect(names, n).toContain(n);
    }
    expect(closure.roots.map((u) => index.packages.get(u)!.name)).toEqual(['Plots', 'DataFrames']);
    // All versions' deps plus weak deps: 809 packages (deps of the newest Plots alone: 160).
    expect(closure.packages.size).toBe(809);
    expect([...closure.packages.values()].reduce((n, p) => n + p.versions.size, 0)).toBe(18_666);
    let checked = 0;
    for (const p of closure.packages.values()) {
      for (const v of p.versions.keys()) {
        for (const weak of [false, true]) {
          for (const [name, uuid] of depsOf(p, v, weak)) {
            checked++;
            if (closure.packages.has(uuid)) continue;
            expect(index.packages.has(uuid), `${p.name}@${v} → ${name}`).toBe(false);
            expect(closure.skippedStdlibs.some((s) => s.uuid === uuid), `${name} listed as skipped`).toBe(true);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
    expect(closure.skippedStdlibs.map((s) => s.name)).toContain('LinearAlgebra');
  });

  it('rewrites every Package.toml: only the repo line changes', async () => {
    const t0 = performance.now();
    // Problems are collected and asserted once: 10,728 rounds of expect() would dominate the time.
    const problems: string[] = [];
    for (const p of everything.packages.values()) {
      const file = `${p.path}/Package.toml`;
      const text = (await src.readText(file))!;
      const repo = `https://git.internal.example/julia/${p.name}-${p.uuid.slice(0, 8)}.git`;
      const out = rewritePackageToml(text, src.describe(file), { repo });
      const before = parse(text);
      const after = parse(out);
      if (after['repo'] !== repo) problems.push(`${file}: repo ${String(after['repo'])}`);
      for (const k of ['name', 'uuid', 'subdir']) if (after[k] !== before[k]) problems.push(`${file}: ${k} changed`);
      if (Object.keys(after).length !== Object.keys(before).length) problems.push(`${file}: keys changed`);
      const a = text.split('\n');
      const b = out.split('\n');
      const changed = a.flatMap((line, i) => (line === b[i] ? [] : [i]));
      if (b.length !== a.length || changed.length !== 1 || !a[changed[0]!]!.startsWith('repo = ')) problems.push(`${file}: lines ${changed.join(',')} changed`);
    }
    timings['rewrite+check all Package.toml'] = `${(performance.now() - t0).toFixed(0)} ms`;
    expect(problems).toEqual([]);
  });

  it('rewrites the Versions.toml of the closure: every other version dropped, some trees changed', async () => {
    let kept = 0;
    let changedTrees = 0;
    for (const p of closure.packages.values()) {
      const file = `${p.path}/Versions.toml`;
      const text = (await src.readText(file))!;
      const keep = new Map<string, string>();
      [...p.versions].forEach(([v, info], i) => {
        if (i % 2 !== 0) return;
        const patched = i % 3 === 0;
        keep.set(v, patched ? fakeTree(info.tree) : info.tree);
        if (patched) changedTrees++;
      });
      kept += keep.size;
      const out = rewriteVersionsToml(text, src.describe(file), keep);
      const doc = parse(out) as Record<string, Record<string, unknown>>;
      expect(Object.keys(doc).sort()).toEqual([...keep.keys()].sort());
      for (const [v, t] of keep) {
        expect(doc[v]!['git-tree-sha1']).toBe(t);
        expect(doc[v]!['yanked']).toBe(p.versions.get(v)!.yanked ? true : undefined);
      }
      // General's files are regular, so the edit must equal what RegistryTools would write.
      expect(out).toBe(regenerateVersions(p, keep));
    }
    expect(kept).toBeGreaterThan(1_000);
    expect(changedTrees).toBeGreaterThan(300);
  });

  it('rewrites Registry.toml pruned to the closure: only package lines go, repo changes', async () => {
    const text = (await src.readText('Registry.toml'))!;
    const keep = new Set(closure.packages.keys());
    const t0 = performance.now();
    const out = rewriteRegistryToml(text, src.describe('Registry.toml'), { repo: 'https://git.internal.example/julia/General.git', keep });
    timings['rewrite Registry.toml'] = `${(performance.now() - t0).toFixed(0)} ms`;
    const before = parse(text) as Record<string, unknown>;
    const after = parse(out) as Record<string, unknown>;
    expect(Object.keys((after['packages'] as object)).sort()).toEqual([...keep].sort());
    expect(after['repo']).toBe('https://git.internal.example/julia/General.git');
    for (const k of Object.keys(before)) if (k !== 'packages' && k !== 'repo') expect(after[k], k).toEqual(before[k]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    const expectedLines = text
      .split('\n')
      .filter((line) => {
        const m = /^([0-9a-f-]{36}) = \{/.exec(line);
        return !m || keep.has(m[1]!);
      })
      .map((line) => (line.startsWith('repo = ') ? 'repo = "https://git.internal.example/julia/General.git"' : line));
    expect(out).toBe(expectedLines.join('\n'));

    // Keeping everything and the same repo is the identity.
    expect(rewriteRegistryToml(text, 'Registry.toml', { repo: index.repo!, keep: new Set(index.packages.keys()) })).toBe(text);
  });
});

function fakeTree(tree: string): string {
  return [...tree].reverse().join('');
}

function regenerateVersions(p: PackageInfo, keep: ReadonlyMap<string, string>): string {
  return [...p.versions.keys()]
    .filter((v) => keep.has(v))
    .map((v) => `["${v}"]\ngit-tree-sha1 = "${keep.get(v)}"\n${p.versions.get(v)!.yanked ? 'yanked = true\n' : ''}`)
    .join('\n');
}
