// Stage 3: find every (Julia)Artifacts.toml in each kept version's tree, work out which
// artifacts the selected platforms need, download and verify them, and put them in the store.

import path from 'node:path';
import type { Dispatcher } from 'undici';
import { fetchArtifact, type UrlAttempt } from '../artifacts/fetch.js';
import { parseArtifactsToml, type ArtifactEntry } from '../artifacts/parse.js';
import { entryMatches, platformLabel, type Platform } from '../artifacts/platform.js';
import { errorMessage } from '../errors.js';
import type { CatFile } from '../git/catfile.js';
import { findFilesNamed } from '../git/objects.js';
import { artifactFileName, type ArtifactStore } from '../stores/store.js';

export const ARTIFACT_FILE_NAMES: ReadonlySet<string> = new Set(['Artifacts.toml', 'JuliaArtifacts.toml']);

export interface ArtifactFile {
  path: string;
  oid: string;
  entries: ArtifactEntry[];
  /** false for an Artifacts.toml shadowed by a JuliaArtifacts.toml in the same directory */
  wins: boolean;
}

export interface TreeArtifacts {
  files: ArtifactFile[];
  /** a malformed artifact file makes the version unusable; the message names the file */
  error?: string;
}

export interface ScanMemo {
  walk: Map<string, Array<{ path: string; oid: string; mode: string }>>;
  trees: Map<string, Promise<TreeArtifacts>>;
  blobs: Map<string, Promise<ArtifactEntry[]>>;
}

export function newScanMemo(): ScanMemo {
  return { walk: new Map(), trees: new Map(), blobs: new Map() };
}

/** Reads every artifact file of a version tree; memoised by tree and blob, as versions share them. */
export function scanTree(cat: CatFile, tree: string, label: string, memo: ScanMemo): Promise<TreeArtifacts> {
  let p = memo.trees.get(tree);
  if (!p) {
    p = (async () => {
      const found = await findFilesNamed(cat, tree, ARTIFACT_FILE_NAMES, memo.walk);
      const dirsWithJulia = new Set(found.filter((f) => path.posix.basename(f.path) === 'JuliaArtifacts.toml').map((f) => path.posix.dirname(f.path)));
      const files: ArtifactFile[] = [];
      try {
        for (const f of found) {
          let entries = memo.blobs.get(f.oid);
          if (!entries) {
            entries = (async () => {
              const obj = await cat.read(f.oid);
              if (!obj) throw new Error(`${label}:${f.path}: blob ${f.oid} missing`);
              return parseArtifactsToml(obj.content.toString('utf8'), `${label}:${f.path}`);
            })();
            memo.blobs.set(f.oid, entries);
          }
          const wins = path.posix.basename(f.path) === 'JuliaArtifacts.toml' || !dirsWithJulia.has(path.posix.dirname(f.path));
          files.push({ path: f.path, oid: f.oid, entries: await entries, wins });
        }
      } catch (err) {
        return { files: [], error: errorMessage(err) };
      }
      return { files };
    })();
    memo.trees.set(tree, p);
  }
  return p;
}

export interface Requirement {
  /** dedupe key across versions: tree hash plus the sha256 of every download */
  key: string;
  name: string;
  treeSha1: string;
  lazy: boolean;
  platform: string;
  downloads: ArtifactEntry['downloads'];
}

export function requirementKey(e: ArtifactEntry): string {
  return `${e.treeSha1}:${e.downloads.map((d) => d.sha256).join(',')}`;
}

/** Entries the selected platforms need from a version: ones with a download, platform-matched. */
export function requirementsOf(t: TreeArtifacts, platforms: Platform[] | undefined): Requirement[] {
  const out = new Map<string, Requirement>();
  for (const f of t.files) {
    if (!f.wins) continue;
    for (const e of f.entries) {
      if (e.downloads.length === 0 || !entryMatches(e.platform, platforms)) continue;
      const key = requirementKey(e);
      const prev = out.get(key);
      // If any occurrence is eager the artifact is eager: Pkg installs it at add time.
      if (!prev || (prev.lazy && !e.lazy)) {
        out.set(key, { key, name: e.name, treeSha1: e.treeSha1, lazy: e.lazy, platform: platformLabel(e.platform), downloads: e.downloads });
      }
    }
  }
  return [...out.values()];
}

export interface ArtifactOutcome {
  ok: boolean;
  /** sha256 of the stored bytes */
  sha256?: string;
  size?: number;
  downloaded: boolean;
  uploaded: boolean;
  attempts: UrlAttempt[];
  error?: string;
}

export interface FetchStoreOptions {
  cacheDir: string;
  store: ArtifactStore;
  dispatcher?: Dispatcher;
  retries: number;
  timeoutMs: number;
  maxBytes: number;
  allowPrivateAddresses: boolean;
}

/** Makes one artifact available in the store: already there, from the local cache, or downloaded. */
export async function fetchAndStore(req: Requirement, opts: FetchStoreOptions): Promise<ArtifactOutcome> {
  // Patched files name every download by its own sha256 and file name; publish the bytes under
  // each name that shares the stored sha256, so no patched URL points at nothing.
  const namesOf = (sha256: string) => [...new Set(req.downloads.filter((d) => d.sha256 === sha256).map((d) => artifactFileName(d.url)))];
  for (const sha of new Set(req.downloads.map((d) => d.sha256))) {
    const names = namesOf(sha);
    if ((await Promise.all(names.map((fileName) => opts.store.has({ sha256: sha, fileName })))).every(Boolean)) {
      return { ok: true, sha256: sha, downloaded: false, uploaded: false, attempts: [] };
    }
  }
  let res: Awaited<ReturnType<typeof fetchArtifact>>;
  try {
    res = await fetchArtifact(req.downloads, req.treeSha1, opts.cacheDir, {
      dispatcher: opts.dispatcher,
      retries: opts.retries,
      timeoutMs: opts.timeoutMs,
      maxBytes: opts.maxBytes,
      // Nothing is extracted, but hashing a bomb's output still costs its full size in CPU time.
      maxUnpackedBytes: opts.maxBytes,
      allowPrivateAddresses: opts.allowPrivateAddresses,
    });
  } catch (err) {
    // A refused download (a file:// URL, say) fails this artifact, not the whole sync.
    return { ok: false, downloaded: false, uploaded: false, attempts: [], error: errorMessage(err) };
  }
  if (!res.ok || !res.file) {
    const why = res.attempts.map((a) => `${a.url}: ${a.error ?? a.status ?? 'failed'}`).join('; ');
    return { ok: false, downloaded: false, uploaded: false, attempts: res.attempts, error: why || 'no download succeeded' };
  }
  try {
    for (const fileName of namesOf(res.sha256)) {
      if (!(await opts.store.has({ sha256: res.sha256, fileName }))) await opts.store.put(res.file, { sha256: res.sha256, fileName }, res.size ?? 0);
    }
  } catch (err) {
    return { ok: false, sha256: res.sha256, downloaded: res.attempts.length > 0, uploaded: false, attempts: res.attempts, error: errorMessage(err) };
  }
  return { ok: true, sha256: res.sha256, size: res.size, downloaded: res.attempts.length > 0, uploaded: true, attempts: res.attempts };
}
