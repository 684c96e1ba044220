// The state directory: atomic file writes, the sync lock, and state.json.
// A killed run must lose nothing and leave nothing half-written, so every file the tool owns
// is written to a temp name in the same directory, fsynced, then renamed over the old one.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { AirgapError, errorMessage, InputError, LockError } from '../errors.js';

export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close().catch(() => undefined);
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    // A full or read-only disk must be reported with the file at fault, not as a bare errno.
    const code = (err as NodeJS.ErrnoException).code;
    throw new AirgapError('state', `${file}: cannot write${code ? ` (${code})` : ''}: ${errorMessage(err)}; the previous version, if any, is intact`, { cause: err });
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InputError(file, `corrupt JSON (${(err as Error).message}); move it aside to start this state afresh`);
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Lock

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface Lock {
  file: string;
  release(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AirgapError('state', `${file}: cannot create the sync lock: ${errorMessage(err)}`, { cause: err });
  }
  try {
    await fh.writeFile(JSON.stringify(info) + '\n');
    await fh.sync();
  } catch (err) {
    // Left behind, an unreadable lock would turn the next runs away as if a live run held it.
    await fh.close().catch(() => undefined);
    await rm(file, { force: true });
    throw new AirgapError('state', `${file}: cannot write the sync lock: ${errorMessage(err)}`, { cause: err });
  }
  await fh.close();
  return true;
}

/**
 * Takes `<stateDir>/lock`. A lock left by a dead process on this host is taken over; a live
 * holder makes us wait (up to waitMs) or fail with a message naming the holder.
 */
export async function acquireLock(stateDir: string, command: string, waitMs = 0): Promise<Lock> {
  await mkdir(stateDir, { recursive: true });
  const file = path.join(stateDir, 'lock');
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(file, me)) break;
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(await readFile(file, 'utf8')) as LockInfo;
    } catch {
      // A lock file that cannot be read was cut short by a crash between open and write.
      const st = await stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 10_000) holder = { pid: -1, host: hostname(), started: '?', command: '?' };
    }
    if (holder && holder.host === hostname() && (holder.pid === -1 || !pidAlive(holder.pid))) {
      // Take over atomically: move the stale lock aside under a unique name; only one taker wins the rename.
      const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
      try {
        await rename(file, aside);
        await unlink(aside).catch(() => undefined);
      } catch {
        /* someone else took it over first */
      }
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.started})` : 'another process';
      throw new LockError(file, `another julia-airgap run holds the lock: ${who}. Wait for it to finish, or pass --wait <seconds>.`);
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, deadline - Date.now()))));
  }
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      await rm(file, { force: true });
    },
  };
}

export interface LockHolder extends LockInfo {
  /** false when the holder is a dead process on this host; undefined when it runs on another host */
  alive?: boolean;
}

/** Who holds the lock now, for `status`; undefined when nobody does. */
export async function lockHolder(stateDir: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(stateDir, 'lock'), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    return { ...info, alive: info.host === hostname() ? pidAlive(info.pid) : undefined };
  } catch {
    return { pid: -1, host: '?', started: '?', command: '?', alive: false };
  }
}

// ---------------------------------------------------------------------------------------------
// state.json

export interface SyncSummary {
  started: string;
  finished: string;
  durationMs: number;
  upstreamCommit?: string;
  forkCommit?: string;
  exitCode: number;
  counts: Record<string, number>;
}

export interface State {
  version: 1;
  upstream?: { url: string; branch: string; commit: string };
  fork?: { branch: string; commit: string; upstreamCommit: string };
  /** artifacts.url at the last sync (informational; states written before artifactsUrlScheme have only this). */
  artifactsBaseUrl?: string;
  /**
   * The artifact store's URL scheme (`ArtifactStore.urlScheme()`), fixed at the first sync: every
   * patched tree hash depends on it, so a change needs `--rebase-urls`.
   */
  artifactsUrlScheme?: string;
  /**
   * Per internal repo: upstream URL, upstream default branch, last fetch, and a digest of the
   * refs last pushed to the host, so unchanged repos are not pushed again.
   */
  repos?: Record<string, RepoState>;
  lastFullSync?: string;
  lastSync?: SyncSummary;
  /** Every version the fork has listed: uuid -> version -> tree. Kept even when upstream drops it. */
  published?: Record<string, Record<string, string>>;
  /** Versions held back by select.quarantine at the last sync. */
  quarantined?: Array<{ package: string; uuid: string; version: string; registered: string; releases: string }>;
}

export interface RepoState {
  url: string;
  head?: string;
  fetched?: string;
  pushed?: string;
}

/** The URL scheme the last sync used; older states recorded only the base of a `dir` store. */
export function recordedUrlScheme(s: State): string | undefined {
  return s.artifactsUrlScheme ?? (s.artifactsBaseUrl ? `${s.artifactsBaseUrl}/<sha256>/<file>` : undefined);
}

export function emptyState(): State {
  return { version: 1, repos: {} };
}

export function statePaths(stateDir: string) {
  return {
    state: path.join(stateDir, 'state.json'),
    ledger: path.join(stateDir, 'ledger.json'),
    trees: path.join(stateDir, 'trees.json'),
    registryRepo: path.join(stateDir, 'registry.git'),
    reposDir: path.join(stateDir, 'repos'),
    artifactCache: path.join(stateDir, 'artifacts'),
    reports: path.join(stateDir, 'reports'),
  };
}

export async function loadState(stateDir: string): Promise<State> {
  const s = await readJson<State>(statePaths(stateDir).state);
  if (!s) return emptyState();
  if (s.version !== 1) throw new InputError(statePaths(stateDir).state, `unsupported state version ${String(s.version)}`);
  return { ...emptyState(), ...s };
}

export async function saveState(stateDir: string, s: State): Promise<void> {
  await writeJson(statePaths(stateDir).state, s);
}
