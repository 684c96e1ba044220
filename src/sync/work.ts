// Plain data the sync stages share: the counts of a run and one registered version's work item.

import type { PackageInfo } from '../registry/reader.js';
import type { Requirement, TreeArtifacts } from './artifacts.js';
import type { LedgerEntry } from './ledger.js';
import type { RepoGroup } from './repos.js';

export interface SyncCounts {
  packagesSelected: number;
  packagesKept: number;
  versionsRegistered: number;
  versionsKept: number;
  versionsPatched: number;
  versionsIncomplete: number;
  versionsLost: number;
  repos: number;
  reposFetched: number;
  reposPushed: number;
  artifactsRequired: number;
  artifactsDownloaded: number;
  artifactsStored: number;
  artifactsFailed: number;
  /** packages whose registry files changed since the last synced upstream commit */
  packagesChanged: number;
  /** versions held back by select.quarantine (not failures) */
  versionsQuarantined: number;
  /** versions upstream no longer lists (or this run could not redo) kept in the fork as published */
  versionsRetained: number;
  /** versions with ledger items not retried this run because their nextRetry is in the future (left out unless published before) */
  versionsDeferred: number;
}

export function zeroCounts(): SyncCounts {
  return {
    packagesSelected: 0, packagesKept: 0, versionsRegistered: 0, versionsKept: 0, versionsPatched: 0, versionsIncomplete: 0,
    versionsLost: 0, repos: 0, reposFetched: 0, reposPushed: 0, artifactsRequired: 0, artifactsDownloaded: 0, artifactsStored: 0, artifactsFailed: 0,
    packagesChanged: 0, versionsQuarantined: 0, versionsRetained: 0, versionsDeferred: 0,
  };
}

export interface VersionWork {
  pkg: PackageInfo;
  group: RepoGroup;
  version: string;
  tree: string;
  scanned?: TreeArtifacts;
  reqs: Requirement[];
  patched?: string;
  blockers: LedgerEntry[];
}

export const versionKey = (pkg: PackageInfo, version: string) => `version:${pkg.uuid}@${version}`;

export function versionEntry(w: { pkg: PackageInfo; version: string; group: RepoGroup }, code: string, reason: string, gone = false): LedgerEntry {
  return { key: versionKey(w.pkg, w.version), kind: 'version', package: w.pkg.name, uuid: w.pkg.uuid, version: w.version, repo: w.group.name, code, reason, blocking: true, gone };
}
