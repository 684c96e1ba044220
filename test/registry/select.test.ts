import { describe, expect, it } from 'vitest';
import { SelectionError } from '../../src/errors.js';
import { readRegistryIndex } from '../../src/registry/reader.js';
import { selectPackages, suggestNames, type SelectSpec } from '../../src/registry/select.js';
import type { FileSource } from '../../src/registry/source.js';
import { fixtureSource, PACKAGES, U } from './fixture.js';

async function select(spec: SelectSpec, src: FileSource = fixtureSource(PACKAGES)) {
  const index = await readRegistryIndex(src);
  return selectPackages(src, index, spec);
}

async function selectionError(spec: SelectSpec): Promise<SelectionError> {
  const err = await select(spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SelectionError);
  return err as SelectionError;
}

describe('selectPackages', () => {
  it('selects the closure over deps and weak deps of every version, skipping stdlibs', async () => {
    const sel = await select({ packages: ['Plots'] });
    expect(sel.roots).toEqual([U.Plots]);
    expect([...sel.packages.values()].map((p) => p.name)).toEqual([
      'ConstructionBase', // weak dep of a weak dep
      'GR',
      'GR_jll',
      'PlotThemes',
      'PlotUtils',
      'Plots',
      'Unitful', // weak dep of Plots 1.1 only
    ]);
    expect(sel.packages.has(U.Stale)).toBe(false);
    expect(sel.skippedStdlibs).toEqual([
      { name: 'LinearAlgebra', uuid: U.LinearAlgebra },
      { name: 'Printf', uuid: U.Printf },
    ]);
    expect(sel.notInRegistry).toEqual([]);
  });

  it('resolves UUIDs (any case), case-insensitive unique names and Name.jl', async () => {
    const sel = await select({ packages: [U.GR.toUpperCase(), 'plotthemes', 'Plotly.jl', 'PlotThemes'] });
    expect(sel.roots).toEqual([U.GR, U.PlotThemes, U.Plotly]);
    expect([...sel.packages.keys()].sort()).toEqual([U.GR, U.GR_jll, U.PlotThemes, U.Plotly].sort());
  });

  it('suggests close names for unknown packages', async () => {
    const err = await selectionError({ packages: ['Plot'] });
    expect(err.message).toBe('unknown package "Plot" — did you mean Plots, Plotly, PlotUtils?');
    expect((await selectionError({ packages: ['Untiful'] })).message).toContain('did you mean Unitful');
    expect((await selectionError({ packages: ['Zzzzzzzzzz'] })).message).toBe('unknown package "Zzzzzzzzzz" — no such package in registry General');
  });

  it('asks for the UUID when a name is ambiguous', async () => {
    const err = await selectionError({ packages: ['Foo'] });
    expect(err.message).toContain('package name "Foo" is ambiguous');
    expect(err.message).toContain(U.FooA);
    expect(err.message).toContain(U.FooB);
    expect(err.message).toContain('give the UUID');
    // Bar and bar are distinct exact names but collide case-insensitively.
    expect((await select({ packages: ['bar'] })).roots).toEqual([U.BarLower]);
    expect((await selectionError({ packages: ['BAR'] })).message).toContain('ambiguous');
    expect((await select({ packages: [U.FooB] })).roots).toEqual([U.FooB]);
  });

  it('rejects names that are not Julia identifiers and unknown UUIDs', async () => {
    expect((await selectionError({ packages: ['../etc'] })).message).toContain('neither a package UUID nor a valid Julia package name');
    expect((await selectionError({ packages: ['Plots!'] })).message).toContain('neither a package UUID');
    expect((await selectionError({ packages: [U.Unregistered] })).message).toBe(`package UUID ${U.Unregistered} is not in registry General`);
  });

  it('treats a requested stdlib as skipped, not an error', async () => {
    const sel = await select({ packages: ['LinearAlgebra', U.Printf] });
    expect(sel.roots).toEqual([]);
    expect(sel.packages.size).toBe(0);
    expect(sel.skippedStdlibs.map((s) => s.name)).toEqual(['LinearAlgebra', 'Printf']);
  });

  it('takes manifest entries: registered → roots, stdlibs → skipped, others → notInRegistry', async () => {
    const sel = await select({
      manifestPackages: [
        { name: 'Unitful', uuid: U.Unitful, from: 'env/Manifest.toml' },
        { name: 'LinearAlgebra', uuid: U.LinearAlgebra, from: 'env/Manifest.toml' },
        { name: 'MyPrivatePkg', uuid: U.Unregistered, from: 'env/Manifest.toml' },
        { name: 'MyPrivatePkg', uuid: U.Unregistered },
      ],
    });
    expect(sel.roots).toEqual([U.Unitful]);
    expect([...sel.packages.values()].map((p) => p.name)).toEqual(['ConstructionBase', 'Unitful']);
    expect(sel.skippedStdlibs).toEqual([{ name: 'LinearAlgebra', uuid: U.LinearAlgebra }]);
    expect(sel.notInRegistry).toEqual([{ name: 'MyPrivatePkg', uuid: U.Unregistered, from: 'env/Manifest.toml' }]);
  });

  it('selects everything with all', async () => {
    const sel = await select({ all: true, packages: ['GR'] });
    expect(sel.packages.size).toBe(PACKAGES.length);
    expect(sel.roots[0]).toBe(U.GR);
    expect(new Set(sel.roots).size).toBe(PACKAGES.length);
  });

  it('reads each package once, with bounded concurrency', async () => {
    const base = fixtureSource(PACKAGES);
    const reads = new Map<string, number>();
    let inFlight = 0;
    let peak = 0;
    const counting: FileSource = {
      describe: (p) => base.describe(p),
      async readText(p) {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return base.readText(p);
      },
    };
    const index = await readRegistryIndex(counting);
    const sel = await selectPackages(counting, index, { all: true }, { concurrency: 2 });
    expect(sel.packages.size).toBe(PACKAGES.length);
    expect(Math.max(...reads.values())).toBe(1);
    // Four files per package are requested together.
    expect(peak).toBeLessThanOrEqual(2 * 4);
  });

  it('a package with malformed registry files is left out, its error naming the file; the rest is selected', async () => {
    const src = fixtureSource(PACKAGES, (f) => f.set('jll/G/GR_jll/Versions.toml', '["0.72.0+0"]\ngit-tree-sha1 = "x"\n'));
    const sel = await select({ packages: ['Plots'] }, src);
    expect(sel.broken.map((b) => b.name)).toEqual(['GR_jll']);
    expect(sel.broken[0]!.error).toMatch(/^Test:jll\/G\/GR_jll\/Versions\.toml: /);
    expect([...sel.packages.values()].map((p) => p.name)).toContain('Plots');
    expect([...sel.packages.values()].map((p) => p.name)).not.toContain('GR_jll');
  });

  it('suggestNames ranks prefixes first', async () => {
    const index = await readRegistryIndex(fixtureSource(PACKAGES));
    expect(suggestNames(index, 'plot', 5)).toEqual(['Plots', 'Plotly', 'PlotUtils', 'PlotThemes']);
    expect(suggestNames(index, 'GRjll')).toEqual(['GR_jll']);
  });
});
