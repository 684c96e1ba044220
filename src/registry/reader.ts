// Reads a Julia registry the way Pkg does (Registry/registry_instance.jl): Registry.toml for
// the index, then Package/Versions/Deps/WeakDeps.toml per package. Paths come from
// Registry.toml and are never derived from names (JLLs live under jll/X/ since 2023).
import { InputError, SelectionError } from '../errors.js';
import type { FileSource } from './source.js';
import { unsafePathReason } from './source.js';
import { isTable, parseToml, type TomlTable } from './toml.js';
import { parseVersionRange, rangeContains, tryParseVersion, type Version, type VersionRange } from './versions.js';

export interface RegistryIndex {
  name: string;
  uuid: string;
  repo?: string;
  description?: string;
  /** uuid (lower case) → entry, in Registry.toml order. */
  packages: Map<string, { name: string; path: string }>;
  /** name → uuids; several uuids for one name are possible and legal. */
  byName: Map<string, string[]>;
}

export interface VersionInfo {
  tree: string;
  yanked: boolean;
}

export interface DepsTable {
  range: VersionRange;
  /** The range key as written in the file. */
  key: string;
  /** dependency name → uuid (lower case). */
  deps: Map<string, string>;
}

export interface PackageInfo {
  uuid: string;
  name: string;
  path: string;
  repo: string;
  subdir?: string;
  /** Version key as written in Versions.toml → info, in file order. */
  versions: Map<string, VersionInfo>;
  deps: DepsTable[];
  weakDeps: DepsTable[];
  /**
   * Problems that do not stop the package from being mirrored, for the report. Example: in
   * General 2024-04, Twistronics has `subdir = "https://github.com/…/tree/master/src"`.
   */
  warnings?: string[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TREE_RE = /^[0-9a-f]{40}$/i;
// Pkg accepts any Base.isidentifier name; `!` is excluded because Pkg refuses it in package
// names. Combining marks and connector punctuation are identifier characters in Julia.
const IDENT_RE = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}_]*$/u;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export function isTreeHash(s: string): boolean {
  return TREE_RE.test(s);
}

export function isJuliaIdentifier(name: string): boolean {
  return IDENT_RE.test(name);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

async function readToml(src: FileSource, path: string, required: boolean): Promise<TomlTable | undefined> {
  const text = await src.readText(path);
  if (text === undefined) {
    if (required) throw new InputError(src.describe(path), 'file is missing');
    return undefined;
  }
  return parseToml(text, src.describe(path));
}

export async function readRegistryIndex(src: FileSource): Promise<RegistryIndex> {
  const file = src.describe('Registry.toml');
  const doc = (await readToml(src, 'Registry.toml', true))!;
  const name = str(doc['name']);
  const uuid = str(doc['uuid']);
  if (name === undefined || name === '') throw new InputError(file, 'missing string key "name"');
  if (uuid === undefined || !isUuid(uuid)) throw new InputError(file, `"uuid" must be a UUID, got ${JSON.stringify(doc['uuid'])}`);
  for (const k of ['repo', 'description'] as const) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') throw new InputError(file, `"${k}" must be a string`);
  }
  const table = doc['packages'];
  if (!isTable(table)) throw new InputError(file, 'missing [packages] table');

  const packages = new Map<string, { name: string; path: string }>();
  const byName = new Map<string, string[]>();
  const paths = new Map<string, string>();
  for (const [key, entry] of Object.entries(table)) {
    if (!isUuid(key)) throw new InputError(file, `[packages] key ${JSON.stringify(key)} is not a UUID`);
    const id = key.toLowerCase();
    if (!isTable(entry)) throw new InputError(file, `package ${id}: entry must be a table { name, path }`);
    const pname = str(entry['name']);
    const ppath = str(entry['path']);
    if (pname === undefined || !isJuliaIdentifier(pname)) {
      throw new InputError(file, `package ${id}: name ${JSON.stringify(entry['name'])} is not a Julia identifier`);
    }
    if (ppath === undefined) throw new InputError(file, `package ${id} (${pname}): missing string "path"`);
    const why = unsafePathReason(ppath);
    if (why) throw new InputError(file, `package ${id} (${pname}): path ${JSON.stringify(ppath)} ${why}; it must be a plain relative path`);
    if (packages.has(id)) throw new InputError(file, `package ${id} is listed twice (UUIDs differ only in case)`);
    // Two packages in one directory would overwrite each other's files in the fork.
    const other = paths.get(ppath);
    if (other !== undefined) throw new InputError(file, `packages ${other} and ${id} share path ${JSON.stringify(ppath)}`);
    paths.set(ppath, id);
    packages.set(id, { name: pname, path: ppath });
    const ids = byName.get(pname);
    if (ids) ids.push(id);
    else byName.set(pname, [id]);
  }
  const index: RegistryIndex = { name, uuid: uuid.toLowerCase(), packages, byName };
  if (typeof doc['repo'] === 'string') index.repo = doc['repo'];
  if (typeof doc['description'] === 'string') index.description = doc['description'];
  return index;
}

function readDepsTables(doc: TomlTable | undefined, file: string): DepsTable[] {
  if (!doc) return [];
  const out: DepsTable[] = [];
  for (const [key, value] of Object.entries(doc)) {
    let range: VersionRange;
    try {
      range = parseVersionRange(key);
    } catch {
      throw new InputError(file, `invalid version range ${JSON.stringify(key)}`);
    }
    if (!isTable(value)) throw new InputError(file, `[${JSON.stringify(key)}] must be a table of name = "uuid"`);
    const deps = new Map<string, string>();
    for (const [dep, id] of Object.entries(value)) {
      if (!isJuliaIdentifier(dep)) throw new InputError(file, `[${JSON.stringify(key)}]: dependency name ${JSON.stringify(dep)} is not a Julia identifier`);
      if (typeof id !== 'string' || !isUuid(id)) {
        throw new InputError(file, `[${JSON.stringify(key)}]: dependency ${dep} has invalid UUID ${JSON.stringify(id)}`);
      }
      deps.set(dep, id.toLowerCase());
    }
    out.push({ range, key, deps });
  }
  return out;
}

export async function readPackage(src: FileSource, index: RegistryIndex, uuid: string): Promise<PackageInfo> {
  const id = uuid.toLowerCase();
  const entry = index.packages.get(id);
  if (!entry) throw new SelectionError(`package ${uuid} is not in registry ${index.name}`);
  const dir = entry.path;
  const pkgFile = src.describe(`${dir}/Package.toml`);
  const verFile = src.describe(`${dir}/Versions.toml`);

  // Independent files: fetch them together, which matters when the source is a slow git reader.
  const [pkgDoc, verDoc, depsDoc, weakDoc] = await Promise.all([
    readToml(src, `${dir}/Package.toml`, true),
    // Pkg treats a missing Versions.toml as "no versions", so do we.
    readToml(src, `${dir}/Versions.toml`, false),
    readToml(src, `${dir}/Deps.toml`, false),
    readToml(src, `${dir}/WeakDeps.toml`, false),
  ]);

  const pname = str(pkgDoc!['name']);
  if (pname === undefined) throw new InputError(pkgFile, 'missing string key "name"');
  if (pname !== entry.name) {
    throw new InputError(pkgFile, `inconsistent name: Package.toml says ${JSON.stringify(pname)}, Registry.toml says ${JSON.stringify(entry.name)} for ${id}`);
  }
  const repo = str(pkgDoc!['repo']);
  if (repo === undefined || repo.trim() === '') throw new InputError(pkgFile, `package ${pname}: missing string key "repo"`);
  const info: PackageInfo = { uuid: id, name: pname, path: dir, repo, versions: new Map(), deps: [], weakDeps: [] };
  if (pkgDoc!['subdir'] !== undefined) {
    const subdir = str(pkgDoc!['subdir']);
    if (subdir === undefined) throw new InputError(pkgFile, `package ${pname}: "subdir" must be a string`);
    // Pkg finds a registered version by tree hash alone, so a nonsensical subdir does not make
    // the package uninstallable; it is left out of `info` (it must never reach a path or a git
    // pathspec) and reported, while the fork keeps the upstream text unchanged.
    const why = unsafePathReason(subdir);
    if (why) info.warnings = [`${pkgFile}: subdir ${JSON.stringify(subdir)} ${why}; ignored`];
    else info.subdir = subdir;
  }

  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(verDoc ?? {})) {
    const v = tryParseVersion(key);
    if (!v) throw new InputError(verFile, `invalid version ${JSON.stringify(key)}`);
    const canonical = canonicalKey(v);
    const dup = seen.get(canonical);
    if (dup !== undefined) throw new InputError(verFile, `versions ${JSON.stringify(dup)} and ${JSON.stringify(key)} are the same version`);
    seen.set(canonical, key);
    if (!isTable(value)) throw new InputError(verFile, `[${JSON.stringify(key)}] must be a table`);
    const tree = value['git-tree-sha1'];
    if (typeof tree !== 'string' || !isTreeHash(tree)) {
      throw new InputError(verFile, `version ${key}: git-tree-sha1 must be 40 hex digits, got ${JSON.stringify(tree)}`);
    }
    const yanked = value['yanked'] ?? false;
    if (typeof yanked !== 'boolean') throw new InputError(verFile, `version ${key}: yanked must be true or false`);
    info.versions.set(key, { tree: tree.toLowerCase(), yanked });
  }

  info.deps = readDepsTables(depsDoc, src.describe(`${dir}/Deps.toml`));
  info.weakDeps = readDepsTables(weakDoc, src.describe(`${dir}/WeakDeps.toml`));
  return info;
}

function canonicalKey(v: Version): string {
  const norm = (ids: string[]) => ids.map((x) => (/^\d+$/.test(x) ? String(BigInt(x)) : x)).join('.');
  return `${v.major}.${v.minor}.${v.patch}-${norm(v.pre)}+${norm(v.build)}`;
}

/** name → uuid of the deps (or weak deps) of one registered version, as Pkg computes them. */
export function depsOf(pkg: PackageInfo, version: string, weak: boolean): Map<string, string> {
  const v = tryParseVersion(version);
  if (!v) throw new RangeError(`invalid version ${JSON.stringify(version)} for ${pkg.name}`);
  const out = new Map<string, string>();
  for (const t of weak ? pkg.weakDeps : pkg.deps) {
    if (!rangeContains(t.range, v)) continue;
    for (const [name, id] of t.deps) out.set(name, id);
  }
  return out;
}

/**
 * uuid → name of every dependency (and weak dependency) of any registered version. Keyed by
 * uuid because one name can stand for different packages in different ranges. Tables whose
 * range covers no registered version are ignored, as Pkg never consults them.
 */
export function allDepsOf(pkg: PackageInfo): Map<string, string> {
  const versions: Version[] = [];
  for (const k of pkg.versions.keys()) versions.push(tryParseVersion(k)!);
  const out = new Map<string, string>();
  for (const t of [...pkg.deps, ...pkg.weakDeps]) {
    if (!versions.some((v) => rangeContains(t.range, v))) continue;
    for (const [name, id] of t.deps) if (!out.has(id)) out.set(id, name);
  }
  return out;
}
