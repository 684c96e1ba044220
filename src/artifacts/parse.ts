// Reading (Julia)Artifacts.toml the way Pkg does (pkg-internals §e): an entry is a table
// (platform-independent) or an array of tables, one per platform, whose String-valued keys
// other than git-tree-sha1 are platform tags.

import { parse, TomlError } from 'smol-toml';
import { InputError } from '../errors.js';

export interface ArtifactDownload {
  url: string;
  sha256: string;
}

export interface ArtifactEntry {
  name: string;
  treeSha1: string;
  lazy: boolean;
  /** Present for array-of-tables entries: every String-valued key except git-tree-sha1. */
  platform?: Record<string, string>;
  /** Empty when the entry has no `download` (Pkg then leaves it alone). */
  downloads: ArtifactDownload[];
}

const SHA1_RE = /^[0-9a-fA-F]{40}$/;
const SHA256_RE = /^[0-9a-fA-F]{64}$/;

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function parseArtifactsToml(text: string, file: string): ArtifactEntry[] {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const msg = err instanceof TomlError ? err.message.split('\n')[0] : String(err);
    throw new InputError(file, `malformed TOML: ${msg}`, { cause: err });
  }
  const out: ArtifactEntry[] = [];
  for (const [name, value] of Object.entries(doc)) {
    if (Array.isArray(value)) {
      if (value.length === 0) throw new InputError(file, `artifact "${name}": empty array of platform entries`);
      value.forEach((v, i) => {
        if (!isTable(v)) throw new InputError(file, `artifact "${name}" [${i}]: expected a table`);
        out.push(readEntry(file, name, v, true, i));
      });
    } else if (isTable(value)) {
      out.push(readEntry(file, name, value, false, -1));
    } else {
      throw new InputError(file, `artifact "${name}": expected a table or an array of tables`);
    }
  }
  return out;
}

function readEntry(file: string, name: string, t: Table, platformSpecific: boolean, index: number): ArtifactEntry {
  const where = index >= 0 ? `artifact "${name}" [${index}]` : `artifact "${name}"`;
  const tree = t['git-tree-sha1'];
  if (typeof tree !== 'string' || !SHA1_RE.test(tree)) {
    throw new InputError(file, `${where}: git-tree-sha1 must be 40 hex characters, got ${describe(tree)}`);
  }
  const lazy = t.lazy;
  if (lazy !== undefined && typeof lazy !== 'boolean') {
    throw new InputError(file, `${where}: lazy must be a boolean, got ${describe(lazy)}`);
  }
  const entry: ArtifactEntry = { name, treeSha1: tree.toLowerCase(), lazy: lazy === true, downloads: [] };

  if (platformSpecific) {
    const platform: Record<string, string> = {};
    for (const [k, v] of Object.entries(t)) {
      if (k !== 'git-tree-sha1' && typeof v === 'string') platform[k] = v;
    }
    // Pkg's unpack_platform errors without these, so the whole file would be unusable.
    if (platform.os === undefined || platform.arch === undefined) {
      throw new InputError(file, `${where}: platform entry needs string "os" and "arch" keys`);
    }
    entry.platform = platform;
  }

  const dl = t.download;
  if (dl !== undefined) {
    // Pkg iterates `download` as an array; a lone table is accepted as a one-element array.
    const list = Array.isArray(dl) ? dl : [dl];
    list.forEach((d, j) => {
      if (!isTable(d)) throw new InputError(file, `${where}: download [${j}] must be a table`);
      if (typeof d.url !== 'string') {
        throw new InputError(file, `${where}: download [${j}] url must be a string, got ${describe(d.url)}`);
      }
      if (typeof d.sha256 !== 'string' || !SHA256_RE.test(d.sha256)) {
        throw new InputError(file, `${where}: download [${j}] sha256 must be 64 hex characters, got ${describe(d.sha256)}`);
      }
      entry.downloads.push({ url: d.url, sha256: d.sha256.toLowerCase() });
    });
  }
  return entry;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
