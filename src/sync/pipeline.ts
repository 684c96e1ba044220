// `sync`: the stages in order. Upstream registry -> selection -> repo mirror and tree check ->
// artifact scan, fetch and store -> patch -> pins and repo publish -> completeness -> fork ->
// registry publish (last) -> state and ledger. See ARCHITECTURE.md for who owns which file.

import type { Dispatcher } from 'undici';
import { removeStaleDownloads } from '../artifacts/fetch.js';
import { parseTriplet, type Platform } from '../artifacts/platform.js';
import { proxyDispatcher } from '../artifacts/proxy.js';
import { type Config, parseDuration } from '../config.js';
import { AirgapError, ConfigError, errorMessage } from '../errors.js';
import { makeHost } from '../hosts/index.js';
import type { ForkPackage } from '../registry/fork.js';
import { openCatFile } from '../git/catfile.js';
import { depsOf } from '../registry/reader.js';
import { makeStore } from '../stores/index.js';
import { fetchAndStore, newScanMemo, requirementsOf, scanTree, type ArtifactOutcome, type Requirement } from './artifacts.js';
import { changedPackages, retryGate, type ChangeSet, type RetryGate } from './incremental.js';
import { loadLedger, mergeLedger, saveLedger, type LedgerEntry, type LedgerItem } from './ledger.js';
import { findHeldVersions, type HeldVersion } from './quarantine.js';
import { publishedAfter, retainPublished, withAppendedVersions } from './retain.js';
import { publishFork } from './publish-fork.js';
import { publishRepo } from './publish-repo.js';
import { groupRepos, syncRepo, type RepoStatus } from './repos.js';
import { mapLimit, silentReporter, type Reporter } from './report.js';
import { versionEntry, versionKey, zeroCounts, type SyncCounts, type VersionWork } from './work.js';
import { acquireLock, loadState, recordedUrlScheme, saveState, statePaths, type State } from './state.js';
import { isLocalPath, openUpstream, selectFromConfig, upstreamGitConfig, type Upstream } from './upstream.js';

export interface SyncOptions {
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** concurrent repo fetches/pushes (overrides sync.jobs) */
  jobs?: number;
  /** refetch and republish every repo, and retry every ledger item now */
  full?: boolean;
  /** retry every ledger item now, whatever its nextRetry says (no full refetch) */
  retryNow?: boolean;
  /** accept a changed artifacts.url: re-patch and republish everything */
  rebaseUrls?: boolean;
  /** wait this long for another run's lock, then give up */
  waitLockMs?: number;
  dispatcher?: Dispatcher;
  now?: () => Date;
}

export interface SyncReport {
  exitCode: 0 | 1 | 3;
  error?: { code: string; message: string };
  upstream?: { url: string; branch: string; commit: string };
  fork?: { url: string; branch: string; commit: string; created: boolean };
  counts: SyncCounts;
  warnings: string[];
  failures: LedgerItem[];
  /** versions held back by select.quarantine; a later sync publishes them */
  quarantined: HeldVersion[];
  durationsMs: Record<string, number>;
  started: string;
  finished: string;
}

/** Collects the secrets this run could print, so the reporter can scrub them from every line. */
export function configSecrets(config: Config, env: NodeJS.ProcessEnv): string[] {
  return [config.upstream.tokenEnv, config.git.tokenEnv, config.artifacts.tokenEnv].flatMap((n) => (n && env[n] ? [env[n]!] : []));
}

export async function sync(config: Config, opts: SyncOptions = {}): Promise<SyncReport> {
  const lock = await acquireLock(config.stateDir, 'sync', opts.waitLockMs ?? 0);
  try {
    await removeStaleDownloads(statePaths(config.stateDir).artifactCache);
    return await runSync(config, opts);
  } finally {
    await lock.release();
  }
}

async function runSync(config: Config, opts: SyncOptions): Promise<SyncReport> {
  const env = opts.env ?? process.env;
  const rep = opts.reporter ?? silentReporter();
  const now = opts.now ?? (() => new Date());
  const started = now();
  const counts = zeroCounts();
  const warnings: string[] = [];
  const durationsMs: Record<string, number> = {};
  let stageStart = Date.now();
  const stage = (name: string) => {
    durationsMs[name] = Date.now() - stageStart;
    stageStart = Date.now();
  };
  const state = await loadState(config.stateDir);
  const prevLedger = await loadLedger(config.stateDir);
  const failures: LedgerEntry[] = [];
  let upstream: Upstream | undefined;
  let gate: RetryGate | undefined;
  let held: HeldVersion[] = [];
  const finish = async (exitCode: 0 | 1 | 3, extra: Partial<SyncReport> = {}): Promise<SyncReport> => {
    const finished = now();
    const ledger = mergeLedger(prevLedger, failures, finished, gate?.carried() ?? []);
    // A fatal run keeps the previous ledger: it learned nothing reliable about the items.
    if (exitCode !== 1) await saveLedger(config.stateDir, ledger);
    const failed = exitCode === 1 ? prevLedger.items : ledger.items;
    state.lastSync = {
      started: started.toISOString(), finished: finished.toISOString(), durationMs: finished.getTime() - started.getTime(),
      upstreamCommit: upstream?.commit, forkCommit: extra.fork?.commit ?? state.fork?.commit, exitCode, counts: { ...counts },
    };
    await saveState(config.stateDir, state);
    return {
      exitCode, counts, warnings, failures: failed, quarantined: held, durationsMs, started: started.toISOString(), finished: finished.toISOString(),
      upstream: upstream ? { url: upstream.url, branch: upstream.branch, commit: upstream.commit } : undefined, ...extra,
    };
  };

  try {
    const host = makeHost(config.git, config.file, { env, warn: (m) => warnings.push(m), retries: config.sync.retries });
    const store = makeStore(config.artifacts, config.file, {
      env, dispatcher: opts.dispatcher, retries: config.sync.retries, timeoutMs: config.sync.timeoutSeconds * 1000,
    });
    // We hold the lock: anything half-copied into the store now was left by a killed run.
    await store.cleanup?.();
    const urlScheme = store.urlScheme();
    const recordedScheme = recordedUrlScheme(state);
    if (recordedScheme && recordedScheme !== urlScheme && !opts.rebaseUrls) {
      throw new ConfigError(
        config.file, 'artifacts',
        `artifact URLs changed from ${recordedScheme} to ${urlScheme}. Every patched tree hash depends on them, so ` +
          'changing them re-patches every package and gives clients new tree hashes. Run `julia-airgap sync --rebase-urls` to do that ' +
          'deliberately: it re-patches and republishes every package and uploads every artifact to the new location.',
      );
    }
    const platforms: Platform[] | undefined = config.select.platforms?.map(parseTriplet);
    const fullDue = Boolean(opts.full) || isFullDue(config, state, started);

    // 1. upstream registry and selection
    rep.log('info', `fetching upstream registry ${config.upstream.registry}`);
    upstream = await openUpstream(config, env);
    const selection = await selectFromConfig(config, upstream.src, upstream.index);
    counts.packagesSelected = selection.packages.size;
    for (const p of selection.packages.values()) {
      counts.versionsRegistered += p.versions.size;
      warnings.push(...(p.warnings ?? []));
    }
    for (const n of selection.notInRegistry) warnings.push(`${n.name} [${n.uuid}] from ${n.from} is not in the upstream registry; skipped`);
    // A package whose registry files are malformed is left out (the fork keeps what it published
    // of it); only an upstream fix can change that, so it is "gone" rather than retried.
    const broken = new Set(selection.broken.map((b) => b.uuid));
    for (const b of selection.broken) {
      warnings.push(`${b.name} [${b.uuid}] left out: ${b.error}`);
      failures.push({ key: `package:${b.uuid}`, kind: 'package', package: b.name, uuid: b.uuid, code: 'bad-registry-file', reason: b.error, blocking: true, gone: true });
    }
    rep.stageDone('select', `${counts.packagesSelected} packages, ${counts.versionsRegistered} versions (registry ${upstream.commit.slice(0, 10)})`);
    if (config.select.quarantine) {
      const up = upstream;
      held = await findHeldVersions({
        gitDir: up.gitDir, head: up.commit, packages: selection.packages.values(), now: started,
        windowMs: parseDuration(config.select.quarantine, config.file, 'select.quarantine'),
        readAt: async (commit, file) => {
          const obj = await up.cat.read(`${commit}:${file}`);
          return obj?.type === 'blob' ? obj.content.toString('utf8') : undefined;
        },
      });
      // Held versions are simply not part of this sync: no fetch, no artifacts, not in the fork.
      for (const h of held) selection.packages.get(h.uuid)?.versions.delete(h.version);
      counts.versionsQuarantined = held.length;
      if (held.length) rep.log('info', `${held.length} version(s) in quarantine (registered less than ${config.select.quarantine} ago); a later sync publishes them`);
    }
    const sameUpstream = state.upstream?.url === upstream.url;
    const changes: ChangeSet = fullDue
      ? { all: true, reason: opts.full ? '--full' : `sync.full_every (${config.sync.fullEvery})`, packages: new Set(), paths: 0 }
      : await changedPackages(upstream.gitDir, sameUpstream ? state.upstream?.commit : undefined, upstream.commit, upstream.index);
    counts.packagesChanged = changes.all ? selection.packages.size : [...changes.packages].filter((u) => selection.packages.has(u)).length;
    if (changes.all) rep.log('info', `refreshing every repo: ${changes.reason}`);
    gate = retryGate(prevLedger, started, fullDue || Boolean(opts.retryNow));
    stage('select');

    // 2. repos: fetch and check trees
    const groups = groupRepos(selection.packages.values(), statePaths(config.stateDir).reposDir);
    counts.repos = groups.length;
    const allowFile = isLocalPath(config.upstream.registry);
    const gitCfg = upstreamGitConfig(config, env);
    const jobs = opts.jobs ?? config.sync.jobs;
    state.repos ??= {};
    let doneRepos = 0;
    const retry = gate;
    const statuses = await mapLimit(groups, jobs, async (g) => {
      // Trees whose absence the ledger already records and whose retry is not due: no fetch for them.
      const knownMissing = new Set<string>();
      for (const p of g.packages) for (const [v, info] of p.versions) if (!retry.due(versionKey(p, v))) knownMissing.add(info.tree);
      const repoKey = `repo:${g.name}`;
      const force = changes.all || g.packages.some((p) => changes.packages.has(p.uuid)) || (retry.item(repoKey) !== undefined && retry.due(repoKey));
      const st = await syncRepo(g, {
        force, knownMissing, knownHead: state.repos![g.name]?.head, config: gitCfg, allowFile, timeoutMs: config.sync.timeoutSeconds * 1000 * 10,
      });
      if (st.fetchError) {
        failures.push({ key: repoKey, kind: 'repo', repo: g.name, url: g.url, code: 'fetch-failed', reason: `fetching ${g.url} failed: ${st.fetchError}`, blocking: false, gone: false });
      }
      rep.progress('fetch repos', ++doneRepos, groups.length);
      if (st.fetched) counts.reposFetched++;
      if (st.fetchError) rep.log('warn', `${g.url}: fetch failed: ${st.fetchError}`);
      // Say it in the report too: a repo gone upstream is otherwise silent while its cache lasts.
      if (st.fetchError && st.fetched === false) {
        const all = g.packages.flatMap((p) => [...p.versions.values()]);
        const kept = all.filter((v) => st.present.has(v.tree)).length;
        warnings.push(`${g.url}: fetch failed (${st.fetchError}); ${kept} of ${all.length} registered versions kept from earlier syncs`);
      }
      if (st.rewritten?.length) {
        const shown = st.rewritten.slice(0, 10).join(', ') + (st.rewritten.length > 10 ? `, … (${st.rewritten.length} in all)` : '');
        warnings.push(`${g.url}: upstream rewrote or deleted ${shown}; versions already mirrored stay pinned`);
      }
      const prev = state.repos![g.name];
      state.repos![g.name] = { url: g.url, head: st.head ?? prev?.head, fetched: st.fetched ? now().toISOString() : prev?.fetched, pushed: prev?.pushed };
      return st;
    });
    rep.stageDone('fetch repos', `${counts.repos} repos, ${counts.reposFetched} fetched`);
    stage('fetch');

    // 3. versions and their artifact requirements
    const scanMemo = newScanMemo();
    const byRepo = new Map<string, VersionWork[]>();
    const scanned = await mapLimit(statuses, jobs, async (st) => {
      const list: VersionWork[] = [];
      const lost: Array<{ w: VersionWork; entry: LedgerEntry }> = [];
      const cat = openCatFile(st.group.cacheDir);
      try {
        for (const pkg of st.group.packages) {
          for (const [version, info] of pkg.versions) {
            const w: VersionWork = { pkg, group: st.group, version, tree: info.tree, reqs: [], blockers: [] };
            if (await deferRetry(w, st.present.has(info.tree), retry, cat, scanMemo, platforms)) {
              counts.versionsDeferred++;
              continue;
            }
            if (!st.present.has(info.tree)) {
              lost.push({
                w,
                entry: st.fetchError
                  ? versionEntry(w, 'fetch-failed', `tree ${info.tree} not in cache and fetching ${st.group.url} failed: ${st.fetchError}`)
                  : versionEntry(w, 'lost-upstream', `tree ${info.tree} not reachable from any ref of ${st.group.url}`, true),
              });
              continue;
            }
            w.scanned = await scanTree(cat, info.tree, `${pkg.name}@${version}`, scanMemo);
            if (w.scanned.error) w.blockers.push(versionEntry(w, 'bad-artifacts-toml', w.scanned.error, true));
            else w.reqs = requirementsOf(w.scanned, platforms);
            list.push(w);
          }
        }
      } finally {
        await cat.close();
      }
      return { st, list, lost };
    });
    const work: VersionWork[] = [];
    for (const { st, list, lost } of scanned) {
      byRepo.set(st.group.name, list);
      work.push(...list);
      for (const { w, entry } of lost) {
        failures.push(entry);
        if (entry.code === 'lost-upstream') {
          counts.versionsLost++;
          warnings.push(`${w.pkg.name} ${w.version}: tree ${w.tree} is not reachable in ${st.group.url} (lost upstream); left out`);
        }
      }
    }
    stage('scan');

    // 4. artifacts: download, verify, store (before anything points at them)
    const reqs = new Map<string, Requirement>();
    for (const w of work) for (const r of w.reqs) {
      const prev = reqs.get(r.key);
      if (!prev || (prev.lazy && !r.lazy)) reqs.set(r.key, r);
    }
    counts.artifactsRequired = reqs.size;
    const outcomes = new Map<string, ArtifactOutcome>();
    let doneArt = 0;
    const reqList = [...reqs.values()].sort((a, b) => a.key.localeCompare(b.key));
    const downloads = opts.dispatcher ?? proxyDispatcher(env);
    await mapLimit(reqList, config.sync.artifactJobs, async (r) => {
      const ledgerItem = retry.item(`artifact:${r.key}`);
      if (ledgerItem && !retry.due(ledgerItem.key)) {
        // Backoff: not retried before its time; the ledger item is carried as it is.
        outcomes.set(r.key, { ok: false, downloaded: false, uploaded: false, attempts: [], error: `${ledgerItem.code}; next retry ${ledgerItem.nextRetry}` });
        rep.progress('artifacts', ++doneArt, reqList.length);
        return;
      }
      const o = await fetchAndStore(r, {
        cacheDir: statePaths(config.stateDir).artifactCache, store, dispatcher: downloads, retries: config.sync.retries,
        timeoutMs: config.sync.timeoutSeconds * 1000, maxBytes: config.sync.maxArtifactBytes, allowPrivateAddresses: config.upstream.allowPrivateAddresses,
      });
      outcomes.set(r.key, o);
      rep.progress('artifacts', ++doneArt, reqList.length);
      if (o.downloaded) counts.artifactsDownloaded++;
      if (o.ok) counts.artifactsStored++;
      else {
        counts.artifactsFailed++;
        const gone = o.attempts.length > 0 && o.attempts.every((a) => a.status === 404 || a.status === 410);
        failures.push({
          key: `artifact:${r.key}`, kind: 'artifact', artifact: r.name, sha256: r.downloads[0]?.sha256, url: r.downloads.map((d) => d.url).join(' '),
          code: artifactFailureCode(o), reason: `${r.name} (${r.platform}${r.lazy ? ', lazy' : ''}): ${o.error ?? 'failed'}`, blocking: !r.lazy, gone,
        });
        rep.log(r.lazy ? 'warn' : 'error', `artifact ${r.name} (${r.platform}) ${r.treeSha1}: ${o.error ?? 'failed'}`);
      }
    });
    if (downloads && downloads !== opts.dispatcher) await downloads.close().catch(() => undefined);
    rep.stageDone('artifacts', `${counts.artifactsRequired} needed, ${counts.artifactsDownloaded} downloaded, ${counts.artifactsFailed} failed`);
    stage('artifacts');
    for (const w of work) {
      for (const r of w.reqs) {
        if (r.lazy || outcomes.get(r.key)?.ok) continue;
        w.blockers.push(versionEntry(w, 'artifact-missing', `artifact ${r.name} (${r.platform}) ${r.treeSha1} is not stored: ${outcomes.get(r.key)?.error ?? 'failed'}`));
      }
    }

    // 5. patch, pin, publish repos
    let donePush = 0;
    await mapLimit([...byRepo.entries()], jobs, async ([name, list]) => {
      if (list.length === 0) return;
      const group = list[0]!.group;
      await publishRepo(group, list, { host, store, state, rep, force: fullDue || Boolean(opts.rebaseUrls), warnings, counts });
      rep.progress('publish repos', ++donePush, byRepo.size);
      void name;
    });
    rep.stageDone('publish repos', `${counts.reposPushed} pushed`);
    stage('publish repos');

    // 6. completeness, including dependencies that ended up with no complete version
    const complete = work.filter((w) => w.blockers.length === 0);
    // Published earlier and carried over now: still installable, so its dependents stay.
    const carriedOver = new Set([...broken].filter((u) => state.published?.[u]));
    cascadeMissingDeps(complete, upstream, warnings, carriedOver);
    for (const w of work) failures.push(...w.blockers);
    const kept = work.filter((w) => w.blockers.length === 0);
    const keep = new Map<string, ForkPackage>();
    for (const w of kept) {
      let fp = keep.get(w.pkg.uuid);
      if (!fp) keep.set(w.pkg.uuid, (fp = { repoUrl: host.cloneUrl(w.group.name), versions: new Map() }));
      fp.versions.set(w.version, w.patched ?? w.tree);
      if (w.patched && w.patched !== w.tree) counts.versionsPatched++;
    }
    const groupOf = new Map(groups.flatMap((g) => g.packages.map((p) => [p.uuid, g] as const)));
    const retained = await retainPublished({
      published: state.published, keep, src: upstream.src,
      dirOf: (uuid) => selection.packages.get(uuid)?.path,
      repoUrlOf: (uuid) => (groupOf.has(uuid) ? host.cloneUrl(groupOf.get(uuid)!.name) : undefined),
    });
    counts.versionsRetained = retained.count;
    counts.versionsKept = kept.length + retained.count;
    counts.versionsIncomplete = work.length - kept.length + counts.versionsDeferred;
    counts.packagesKept = keep.size;
    for (const pkg of selection.packages.values()) {
      if (!keep.has(pkg.uuid)) warnings.push(`${pkg.name}: no complete version; left out of the fork`);
    }

    // 7. the fork, published last
    const fork = await publishFork(config, upstream, host, keep, state, counts, withAppendedVersions(upstream.src, retained.appended), warnings, broken);
    rep.stageDone('registry', `${fork.created ? 'new commit' : 'unchanged'} ${fork.commit.slice(0, 10)} -> ${fork.url}`);
    stage('registry');

    // The high-water mark moves even when some items failed: every failure is in the ledger, and
    // the ledger, not the old..new diff, drives retries (a version whose item is due is retried
    // whatever changed upstream; a repo with a due item is refetched). So nothing that changed in
    // old..new can fall out of view, which is the failure mode of a mark that merely skips ahead.
    // A fatal run (exit 1) never gets here and leaves the mark where it was.
    state.upstream = { url: upstream.url, branch: upstream.branch, commit: upstream.commit };
    state.published = publishedAfter(keep, state.published);
    state.quarantined = held;
    state.fork = { branch: fork.branch, commit: fork.commit, upstreamCommit: upstream.commit };
    state.artifactsUrlScheme = urlScheme;
    state.artifactsBaseUrl = config.artifacts.url;
    if (fullDue) state.lastFullSync = started.toISOString();
    const retryable = [...failures, ...gate.carried()].some((f) => f.blocking && !f.gone);
    return await finish(retryable ? 3 : 0, { fork });
  } catch (err) {
    const e = err instanceof AirgapError ? { code: err.code, message: err.message } : { code: 'internal', message: errorMessage(err) };
    rep.log('error', e.message);
    return finish(1, { error: e });
  } finally {
    await upstream?.close();
  }
}

function artifactFailureCode(o: ArtifactOutcome): string {
  const last = o.attempts[o.attempts.length - 1];
  // No attempt (a cache hit) or a good download: what failed was putting it in the store.
  if (!last || last.ok) return 'store-failed';
  if (last.kind === 'http' && last.status) return `http-${last.status}`;
  return last.kind ? `${last.kind === 'tree' ? 'tree-hash' : last.kind}-mismatch`.replace('http-mismatch', 'http').replace('network-mismatch', 'network').replace('timeout-mismatch', 'timeout') : 'failed';
}

/**
 * A version with a ledger item is retried only when that item and every ledger item of the
 * artifacts it needs are due; until then it stays out of the fork (unless published before) and
 * its items are carried unchanged.
 */
async function deferRetry(
  w: VersionWork, treePresent: boolean, gate: RetryGate, cat: ReturnType<typeof openCatFile>, memo: ReturnType<typeof newScanMemo>, platforms: Platform[] | undefined,
): Promise<boolean> {
  const key = versionKey(w.pkg, w.version);
  if (!gate.item(key)) return false;
  const artifactKeys = treePresent ? requirementsOf(await scanTree(cat, w.tree, `${w.pkg.name}@${w.version}`, memo), platforms).map((r) => `artifact:${r.key}`) : [];
  if (gate.due(key) && artifactKeys.every((k) => gate.due(k))) return false;
  gate.hold(key);
  for (const k of artifactKeys) gate.hold(k);
  return true;
}

function isFullDue(config: Config, state: State, now: Date): boolean {
  if (!config.sync.fullEvery) return false;
  if (!state.lastFullSync) return true;
  return now.getTime() - Date.parse(state.lastFullSync) >= parseDuration(config.sync.fullEvery, config.file, 'sync.full_every');
}

/** Versions whose required (non-weak) dependency has no complete version would not resolve: leave them out too. */
function cascadeMissingDeps(complete: VersionWork[], upstream: Upstream, warnings: string[], alsoKept: ReadonlySet<string>): void {
  for (;;) {
    const kept = new Set([...alsoKept, ...complete.filter((w) => w.blockers.length === 0).map((w) => w.pkg.uuid)]);
    let changed = false;
    for (const w of complete) {
      if (w.blockers.length) continue;
      for (const [name, uuid] of depsOf(w.pkg, w.version, false)) {
        if (!upstream.index.packages.has(uuid) || kept.has(uuid)) continue;
        w.blockers.push(versionEntry(w, 'dependency-missing', `dependency ${name} [${uuid}] has no complete version in the mirror`));
        warnings.push(`${w.pkg.name} ${w.version}: left out because dependency ${name} has no complete version`);
        changed = true;
        break;
      }
    }
    if (!changed) return;
  }
}

export type { RepoStatus };
export type { SyncCounts } from './work.js';
