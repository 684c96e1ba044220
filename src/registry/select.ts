// Turns what the user asked for (names, UUIDs, Manifest entries, everything) into the set of
// registered packages to mirror: the roots plus the closure over the deps and weak deps of
// every registered version. Every version is mirrored, so every version's deps are needed.
import { InputError, SelectionError } from '../errors.js';
import { allDepsOf, isJuliaIdentifier, isUuid, readPackage, type PackageInfo, type RegistryIndex } from './reader.js';
import type { FileSource } from './source.js';

export interface SelectSpec {
  /** Package names or UUIDs. */
  packages?: string[];
  /** `from` names the manifest an entry came from, for the notInRegistry report. */
  manifestPackages?: Array<{ name: string; uuid: string; from?: string }>;
  all?: boolean;
}

export interface Selection {
  /** uuid → info, ordered by name then uuid. */
  packages: Map<string, PackageInfo>;
  /** uuids, in the order asked for. */
  roots: string[];
  /** Dependencies and requests that are Julia standard libraries (or otherwise unregistered deps). */
  skippedStdlibs: Array<{ name: string; uuid: string }>;
  /** Manifest entries that are neither registered nor standard libraries. */
  notInRegistry: Array<{ name: string; uuid: string; from: string }>;
  /**
   * Selected packages whose registry files are malformed: left out (the error names the file),
   * so one broken package does not stop the rest of the selection.
   */
  broken: Array<{ name: string; uuid: string; error: string }>;
}

/**
 * Julia's standard libraries that General does not register (checked against General
 * 2024-04-04: every one appears in some Deps.toml with this UUID and is absent from
 * Registry.toml), plus those General does register, so a request for them by name resolves
 * even against a registry that lacks them. A registered UUID always wins over this table.
 */
export const STDLIBS: ReadonlyMap<string, string> = new Map([
  ['2a0f44e3-6c83-55bd-87e4-b1978d98bd5f', 'Base64'],
  ['8bf52ea8-c179-5cab-976a-9e18b702a9bc', 'CRC32c'],
  ['ade2ca70-3891-5945-98fb-dc099432e06a', 'Dates'],
  ['8ba89e20-285c-5b6f-9357-94700520ee1b', 'Distributed'],
  ['7b1f6079-737a-58dc-b8bc-7a2ca5c1b5ee', 'FileWatching'],
  ['9fa8497b-333b-5362-9e8d-4d0656e87820', 'Future'],
  ['b77e0a4c-d291-57a0-90e8-8db25a27a240', 'InteractiveUtils'],
  ['76f85450-5226-5b5a-8eaa-529ad045b433', 'LibGit2'],
  ['8f399da3-3557-5675-b5ff-fb832c97cbdb', 'Libdl'],
  ['37e2e46d-f89d-539d-b4ee-838fcccc9c8e', 'LinearAlgebra'],
  ['56ddb016-857b-54e1-b83d-db4d58db5568', 'Logging'],
  ['d6f4376e-aef5-505a-96c1-9c027394607a', 'Markdown'],
  ['a63ad114-7e13-5084-954f-fe012c677804', 'Mmap'],
  ['44cfe95a-1eb2-52ea-b672-e2afdf69b78f', 'Pkg'],
  ['de0858da-6303-5e67-8744-51eddeeeb8d7', 'Printf'],
  ['9abbd945-dff8-562f-b5e8-e1ebf5ef1b79', 'Profile'],
  ['3fa0cd96-eef1-5676-8a61-b3b8758bbffb', 'REPL'],
  ['9a3f8284-a2c9-5f02-9a11-845980a1fd5c', 'Random'],
  ['9e88b42a-f829-5b0c-bbe9-9e923198166b', 'Serialization'],
  ['1a1011a3-84de-559e-8e89-a11a2f7dc383', 'SharedArrays'],
  ['6462fe0b-24de-5631-8697-dd941f90decc', 'Sockets'],
  ['2f01184e-e22b-5df5-ae63-d93ebab69eaf', 'SparseArrays'],
  ['4607b0f0-06f3-5cda-b6b1-a6196a1729e9', 'SuiteSparse'],
  ['8dfed614-e22c-5e08-85e1-65c5234f0b40', 'Test'],
  ['cf7118a7-6976-5b1a-9a39-7adc72f591a4', 'UUIDs'],
  ['4ec0a83e-493e-50e2-b9ac-8f72acf5a8f5', 'Unicode'],
  // Registered in General as of 2024-04 (upgradable stdlibs), listed for registries without them.
  ['56f22d72-fd6d-98f1-02f0-08ddc0907c33', 'Artifacts'],
  ['fa267f1f-6049-4f14-aa54-33bafae1ed76', 'TOML'],
  ['a4e569a6-e804-4fa4-b0f3-eef7a1d5b13e', 'Tar'],
  ['f43a241f-c20a-4ad4-852c-f6b1247861c6', 'Downloads'],
  ['ea8e919c-243c-51af-8825-aaa63cd721ce', 'SHA'],
  ['10745b16-79ce-11e8-11f9-7d13ad32a3b2', 'Statistics'],
  ['4af54fe1-eca0-43a8-85a7-787d91b784e3', 'LazyArtifacts'],
  ['ca575930-c2e3-43a9-ace4-1e988b2c1908', 'NetworkOptions'],
  ['b27032c2-a3e7-50c8-80cd-2d36dbcbfd21', 'LibCURL'],
  ['0dad84c5-d112-42e6-8d28-ef12dabb789f', 'ArgTools'],
  ['8bb1440f-4735-579b-a4ab-409b98df4dab', 'DelimitedFiles'],
  ['1222c4b2-2114-5bfd-aeef-88e4692bbb3e', 'julia'],
]);

const STDLIB_BY_NAME: ReadonlyMap<string, string> = new Map([...STDLIBS].map(([u, n]) => [n, u]));

export function stdlibName(uuid: string): string | undefined {
  return STDLIBS.get(uuid.toLowerCase());
}

type Resolved = { kind: 'package'; uuid: string } | { kind: 'stdlib'; uuid: string; name: string };

function levenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to `n` registered names close to `query`: case-insensitive prefix matches first, then small edit distances. */
export function suggestNames(index: RegistryIndex, query: string, n = 3): string[] {
  const q = query.toLowerCase();
  const max = Math.max(2, Math.floor(q.length / 3));
  const scored: Array<{ name: string; rank: number; dist: number }> = [];
  for (const name of index.byName.keys()) {
    const l = name.toLowerCase();
    if (l.startsWith(q)) scored.push({ name, rank: 0, dist: l.length - q.length });
    else {
      const d = levenshtein(q, l, max);
      if (d <= max) scored.push({ name, rank: 1, dist: d });
    }
  }
  scored.sort((x, y) => x.rank - y.rank || x.dist - y.dist || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, n).map((s) => s.name);
}

function ambiguous(index: RegistryIndex, name: string, uuids: readonly string[]): SelectionError {
  return new SelectionError(
    `package name "${name}" is ambiguous in registry ${index.name}: it is registered under UUIDs ${uuids.join(', ')}; give the UUID instead`,
  );
}

function resolveRequest(index: RegistryIndex, request: string): Resolved {
  const trimmed = request.trim();
  if (isUuid(trimmed)) {
    const uuid = trimmed.toLowerCase();
    if (index.packages.has(uuid)) return { kind: 'package', uuid };
    const std = STDLIBS.get(uuid);
    if (std !== undefined) return { kind: 'stdlib', uuid, name: std };
    throw new SelectionError(`package UUID ${uuid} is not in registry ${index.name}`);
  }
  // People write package names the way repos are named.
  const name = trimmed.endsWith('.jl') ? trimmed.slice(0, -3) : trimmed;
  if (!isJuliaIdentifier(name)) {
    throw new SelectionError(`"${request}" is neither a package UUID nor a valid Julia package name`);
  }
  const exact = index.byName.get(name);
  if (exact) {
    if (exact.length > 1) throw ambiguous(index, name, exact);
    return { kind: 'package', uuid: exact[0]! };
  }
  const lower = name.toLowerCase();
  const matches: Array<[string, string[]]> = [];
  for (const [n, ids] of index.byName) if (n.toLowerCase() === lower) matches.push([n, ids]);
  if (matches.length === 1 && matches[0]![1].length === 1) return { kind: 'package', uuid: matches[0]![1][0]! };
  if (matches.length > 0) {
    throw ambiguous(index, name, matches.flatMap(([n, ids]) => ids.map((id) => `${id} (${n})`)));
  }
  const std = STDLIB_BY_NAME.get(name);
  if (std !== undefined) return { kind: 'stdlib', uuid: std, name };
  const near = suggestNames(index, name);
  throw new SelectionError(
    near.length
      ? `unknown package "${name}" — did you mean ${near.join(', ')}?`
      : `unknown package "${name}" — no such package in registry ${index.name}`,
  );
}

export async function selectPackages(
  src: FileSource,
  index: RegistryIndex,
  spec: SelectSpec,
  opts: { concurrency?: number } = {},
): Promise<Selection> {
  const limit = Math.max(1, opts.concurrency ?? 32);
  const roots: string[] = [];
  const rootSet = new Set<string>();
  const skipped = new Map<string, string>();
  const notInRegistry: Selection['notInRegistry'] = [];
  const addRoot = (uuid: string) => {
    if (!rootSet.has(uuid)) {
      rootSet.add(uuid);
      roots.push(uuid);
    }
  };

  for (const request of spec.packages ?? []) {
    const r = resolveRequest(index, request);
    if (r.kind === 'package') addRoot(r.uuid);
    else skipped.set(r.uuid, r.name);
  }
  const seenManifest = new Set<string>();
  for (const e of spec.manifestPackages ?? []) {
    if (!isUuid(e.uuid)) throw new SelectionError(`manifest entry ${e.name}${e.from ? ` in ${e.from}` : ''} has invalid UUID "${e.uuid}"`);
    const uuid = e.uuid.toLowerCase();
    if (index.packages.has(uuid)) addRoot(uuid);
    else if (STDLIBS.has(uuid)) skipped.set(uuid, e.name);
    else if (!seenManifest.has(uuid)) {
      seenManifest.add(uuid);
      notInRegistry.push({ name: e.name, uuid, from: e.from ?? 'manifest' });
    }
  }
  if (spec.all) {
    const everything = [...index.packages].sort(([ua, a], [ub, b]) => cmp(a.name, b.name) || cmp(ua, ub));
    for (const [uuid] of everything) addRoot(uuid);
  }

  const broken: Selection['broken'] = [];
  const found = await closure(src, index, roots, limit, skipped, broken);
  const ordered = [...found.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.uuid, b.uuid));
  return {
    packages: new Map(ordered.map((p) => [p.uuid, p])),
    roots,
    skippedStdlibs: [...skipped].map(([uuid, name]) => ({ name, uuid })).sort((a, b) => cmp(a.name, b.name) || cmp(a.uuid, b.uuid)),
    notInRegistry,
    broken: broken.sort((a, b) => cmp(a.name, b.name) || cmp(a.uuid, b.uuid)),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Breadth-first over the dependency graph with at most `limit` package reads in flight; each package is read once. */
async function closure(
  src: FileSource,
  index: RegistryIndex,
  roots: readonly string[],
  limit: number,
  skipped: Map<string, string>,
  broken: Selection['broken'],
): Promise<Map<string, PackageInfo>> {
  const found = new Map<string, PackageInfo>();
  const seen = new Set(roots);
  const queue = [...roots];
  let next = 0;
  let active = 0;
  return new Promise((resolve, reject) => {
    let failed = false;
    const pump = () => {
      if (failed) return;
      while (active < limit && next < queue.length) {
        const uuid = queue[next++]!;
        active++;
        readPackage(src, index, uuid).then(
          (info) => {
            active--;
            found.set(uuid, info);
            for (const [dep, name] of allDepsOf(info)) {
              if (seen.has(dep)) continue;
              if (index.packages.has(dep)) {
                seen.add(dep);
                queue.push(dep);
              } else if (!skipped.has(dep)) {
                skipped.set(dep, name);
              }
            }
            pump();
          },
          (err: unknown) => {
            if (err instanceof InputError) {
              active--;
              broken.push({ name: index.packages.get(uuid)?.name ?? uuid, uuid, error: err.message });
              pump();
              return;
            }
            failed = true;
            reject(err);
          },
        );
      }
      if (active === 0 && next >= queue.length) resolve(found);
    };
    pump();
  });
}
