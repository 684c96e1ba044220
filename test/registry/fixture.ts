// Builds small in-memory registries in General's exact file layout for the registry tests.
import { memorySource, type FileSource } from '../../src/registry/source.js';

export interface FixturePackage {
  uuid: string;
  name: string;
  path?: string;
  repo?: string;
  subdir?: string;
  versions: Record<string, { tree?: string; yanked?: boolean }>;
  deps?: Record<string, Record<string, string>>;
  weakDeps?: Record<string, Record<string, string>>;
}

export const REGISTRY_UUID = '23338594-aafe-5451-b93e-139f81909106';

export function tree(seed: string): string {
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (h.toString(16).padStart(8, '0') + seed.length.toString(16)).padEnd(40, 'a').slice(0, 40);
}

function depsText(d: Record<string, Record<string, string>>): string {
  return Object.entries(d)
    .map(([range, deps]) => `[${JSON.stringify(range)}]\n` + Object.entries(deps).map(([n, u]) => `${n} = "${u}"\n`).join(''))
    .join('\n');
}

export function registryFiles(pkgs: FixturePackage[], name = 'General'): Map<string, string> {
  const files = new Map<string, string>();
  const lines = pkgs.map((p) => `${p.uuid} = { name = "${p.name}", path = "${p.path ?? `${p.name[0]!.toUpperCase()}/${p.name}`}" }`);
  files.set(
    'Registry.toml',
    `name = "${name}"\nuuid = "${REGISTRY_UUID}"\nrepo = "https://github.com/JuliaRegistries/General.git"\n\ndescription = """\nTest registry.\n"""\n\n[packages]\n${lines.join('\n')}\n`,
  );
  for (const p of pkgs) {
    const dir = p.path ?? `${p.name[0]!.toUpperCase()}/${p.name}`;
    files.set(
      `${dir}/Package.toml`,
      `name = "${p.name}"\nuuid = "${p.uuid}"\nrepo = "${p.repo ?? `https://github.com/Example/${p.name}.jl.git`}"\n${p.subdir ? `subdir = "${p.subdir}"\n` : ''}`,
    );
    files.set(
      `${dir}/Versions.toml`,
      Object.entries(p.versions)
        .map(([v, i]) => `["${v}"]\ngit-tree-sha1 = "${i.tree ?? tree(p.name + v)}"\n${i.yanked ? 'yanked = true\n' : ''}`)
        .join('\n'),
    );
    if (p.deps) files.set(`${dir}/Deps.toml`, depsText(p.deps));
    if (p.weakDeps) files.set(`${dir}/WeakDeps.toml`, depsText(p.weakDeps));
  }
  return files;
}

export function fixtureSource(pkgs: FixturePackage[], edit?: (files: Map<string, string>) => void): FileSource {
  const files = registryFiles(pkgs);
  edit?.(files);
  return memorySource(files, 'Test');
}

export const U = {
  Plots: '91a5bcdd-55d7-5caf-9e0b-520d859cae80',
  PlotUtils: '995b91a9-d308-5afd-9ec6-746e21dbc043',
  PlotThemes: 'ccf2f8ad-2431-5c83-bf29-c5338b663b6a',
  Plotly: '58dd65bb-95f3-509e-9936-c39a10fdeae7',
  GR: '28b8d3ca-fb5f-59d9-8090-bfdbd6d07a71',
  GR_jll: 'd2c73de3-f751-5644-a686-071e5b155ba9',
  Unitful: '1986cc42-f94f-5a68-af5c-568840ba703d',
  ConstructionBase: '187b0558-2788-49d3-abe0-74a17ed4e7c9',
  Stale: 'aaaaaaaa-0000-4000-8000-000000000001',
  FooA: 'aaaaaaaa-0000-4000-8000-00000000000a',
  FooB: 'aaaaaaaa-0000-4000-8000-00000000000b',
  BarUpper: 'aaaaaaaa-0000-4000-8000-0000000000b1',
  BarLower: 'aaaaaaaa-0000-4000-8000-0000000000b2',
  Example: '7876af07-990d-54b4-ab0e-23690620f79a',
  LinearAlgebra: '37e2e46d-f89d-539d-b4ee-838fcccc9c8e',
  Printf: 'de0858da-6303-5e67-8744-51eddeeeb8d7',
  Unregistered: 'bbbbbbbb-0000-4000-8000-000000000001',
};

export const PACKAGES: FixturePackage[] = [
  {
    uuid: U.Plots,
    name: 'Plots',
    versions: { '0.9.0': {}, '1.0.0': {}, '1.1.0': { yanked: true } },
    deps: {
      '0-1': { PlotUtils: U.PlotUtils, LinearAlgebra: U.LinearAlgebra },
      '1': { GR: U.GR, Printf: U.Printf },
      // Covers no registered version: Pkg never uses it, so neither does the closure.
      '2-3': { Stale: U.Stale },
    },
    weakDeps: { '1.1-1': { Unitful: U.Unitful } },
  },
  { uuid: U.PlotUtils, name: 'PlotUtils', versions: { '1.0.0': {} }, deps: { '1': { PlotThemes: U.PlotThemes } } },
  { uuid: U.PlotThemes, name: 'PlotThemes', versions: { '3.0.0': {} } },
  { uuid: U.Plotly, name: 'Plotly', versions: { '0.4.0': {} } },
  { uuid: U.GR, name: 'GR', versions: { '0.70.0': {} }, deps: { '0.70-0': { GR_jll: U.GR_jll } } },
  { uuid: U.GR_jll, name: 'GR_jll', path: 'jll/G/GR_jll', versions: { '0.72.0+0': {}, '0.72.0+1': {} } },
  { uuid: U.Unitful, name: 'Unitful', versions: { '1.19.0': {} }, weakDeps: { '1.19-1': { ConstructionBase: U.ConstructionBase } } },
  { uuid: U.ConstructionBase, name: 'ConstructionBase', versions: { '1.5.0': {} }, deps: { '1': { LinearAlgebra: U.LinearAlgebra } } },
  { uuid: U.Stale, name: 'StaleDep', versions: { '1.0.0': {} } },
  { uuid: U.FooA, name: 'Foo', path: 'F/Foo', versions: { '1.0.0': {} } },
  { uuid: U.FooB, name: 'Foo', path: 'F/Foo-b', versions: { '1.0.0': {} } },
  { uuid: U.BarUpper, name: 'Bar', versions: { '1.0.0': {} } },
  { uuid: U.BarLower, name: 'bar', path: 'B/bar2', versions: { '1.0.0': {} } },
  { uuid: U.Example, name: 'Example', subdir: 'lib/Example', versions: { '0.5.3': {}, '0.5.4': {} } },
];
