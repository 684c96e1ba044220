// Reads the package entries of a Julia Manifest.toml, so that "mirror what this project uses"
// can be a selection. Only identity matters here (name, uuid, version, tree); how the entry is
// tracked (path, repo-url) is left to the caller.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { isJuliaIdentifier, isTreeHash, isUuid } from './reader.js';
import { isTable, parseToml, type TomlTable } from './toml.js';

export interface ManifestPackage {
  name: string;
  uuid: string;
  version?: string;
  treeSha1?: string;
}

/**
 * Format 2.x keeps packages under `[[deps.Name]]`; format 1 (Julia ≤1.6 wrote it, newer Pkg
 * still reads it) puts `[[Name]]` at the top level. Pkg tells them apart by `manifest_format`.
 */
export async function readManifestPackages(file: string): Promise<ManifestPackage[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read manifest: ${(err as Error).message}`, { cause: err });
  }
  return manifestPackagesFromText(text, file);
}

export function manifestPackagesFromText(text: string, file: string): ManifestPackage[] {
  const doc = parseToml(text, file);
  let deps: TomlTable;
  const format = doc['manifest_format'];
  if (format !== undefined) {
    if (typeof format !== 'string' || !/^2(\.\d+)*$/.test(format)) {
      throw new InputError(file, `unsupported manifest_format ${JSON.stringify(format)} (expected 2.x)`);
    }
    const d = doc['deps'] ?? {};
    if (!isTable(d)) throw new InputError(file, '"deps" must be a table of [[deps.Name]] entries');
    deps = d;
  } else {
    deps = doc;
  }

  const out: ManifestPackage[] = [];
  for (const [name, entries] of Object.entries(deps)) {
    // Format 1 files can carry other top-level keys (julia_version in hand-edited files); only
    // arrays of tables are package entries.
    if (format === undefined && !Array.isArray(entries)) continue;
    if (!Array.isArray(entries) || !entries.every(isTable)) {
      throw new InputError(file, `entry ${JSON.stringify(name)} must be an array of tables ([[${format === undefined ? '' : 'deps.'}${name}]])`);
    }
    for (const e of entries as TomlTable[]) {
      const uuid = e['uuid'];
      if (uuid === undefined) continue;
      if (!isJuliaIdentifier(name)) throw new InputError(file, `package name ${JSON.stringify(name)} is not a Julia identifier`);
      if (typeof uuid !== 'string' || !isUuid(uuid)) throw new InputError(file, `package ${name}: invalid uuid ${JSON.stringify(uuid)}`);
      const pkg: ManifestPackage = { name, uuid: uuid.toLowerCase() };
      const version = e['version'];
      if (version !== undefined) {
        if (typeof version !== 'string') throw new InputError(file, `package ${name}: version must be a string`);
        pkg.version = version;
      }
      const tree = e['git-tree-sha1'];
      if (tree !== undefined) {
        if (typeof tree !== 'string' || !isTreeHash(tree)) throw new InputError(file, `package ${name}: invalid git-tree-sha1 ${JSON.stringify(tree)}`);
        pkg.treeSha1 = tree.toLowerCase();
      }
      out.push(pkg);
    }
  }
  return out;
}
