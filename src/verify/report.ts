// What `verify` found. Every failure names what a client would trip over (package, version,
// URL), so an administrator can act on one line without re-running anything.

export interface VerifyFailure {
  kind: 'registry' | 'repo' | 'tree' | 'artifact-url' | 'artifact' | 'artifacts-toml';
  package?: string;
  version?: string;
  url?: string;
  message: string;
}

export interface VerifyCounts {
  /** packages listed in the fork's Registry.toml */
  packages: number;
  /** versions listed in their Versions.toml files */
  versions: number;
  /** distinct registered trees found in the fetched repos */
  trees: number;
  /** (Julia)Artifacts.toml files read, once per version that has them */
  artifactFiles: number;
  /** distinct artifacts of the selected platforms checked (lazy ones included) */
  artifacts: number;
  /** bytes downloaded and verified (with --quick: the Content-Length of each file) */
  bytes: number;
}

export interface VerifyReport {
  ok: boolean;
  registryUrl: string;
  counts: VerifyCounts;
  failures: VerifyFailure[];
  /**
   * Problems a client survives: a lazy artifact that does not download only fails the code
   * that asks for it, and sync already reports it as non-blocking.
   */
  warnings: string[];
}

export function zeroCounts(): VerifyCounts {
  return { packages: 0, versions: 0, trees: 0, artifactFiles: 0, artifacts: 0, bytes: 0 };
}
