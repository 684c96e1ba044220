// The upstream cache: one bare repo per upstream, holding every ref upstream advertises under
// refs/upstream/ so trees reachable only from refs/pull/* or odd branches are kept. Our own refs
// (pins) live elsewhere, so `--prune` on that namespace can never delete them.

import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redactUrl } from '../errors.js';
import { removeStaleLocks } from './locks.js';
import { git, type GitConfigPair } from './run.js';
import { validateRemoteUrl } from './url.js';

export const UPSTREAM_NS = 'refs/upstream/';

async function isBareRepo(dir: string): Promise<boolean> {
  // All four: a run killed inside `git init` leaves a subset, and init again completes it.
  try {
    for (const p of ['HEAD', 'config', 'objects', 'refs']) await access(join(dir, p));
    return true;
  } catch {
    return false;
  }
}

export async function ensureBareRepo(dir: string): Promise<void> {
  if (await isBareRepo(dir)) {
    await removeStaleLocks(dir);
    return;
  }
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  await git(['init', '--bare', '--quiet', abs], { settings: [{ key: 'init.defaultBranch', value: 'main' }], label: abs });
  // Reflogs would keep every superseded upstream ref's objects alive for 90 days.
  await git(['config', 'core.logAllRefUpdates', 'false'], { gitDir: abs });
}

export interface FetchOptions {
  config?: GitConfigPair[];
  timeoutMs?: number;
  /** Allow local paths and file:// (test upstreams). */
  allowFile?: boolean;
  /**
   * Also fetch GitHub's `refs/pull/N/merge`. Off by default: those are test merges GitHub
   * recomputes whenever the base moves, never a registered tree, and they churn every fetch.
   */
  includePullMerge?: boolean;
}

/**
 * Fetches every ref upstream advertises into refs/upstream/* (forced, pruned within that
 * namespace only) and returns upstream's default branch, the number of refs now cached, and the
 * upstream refs (as upstream names them) that were deleted or moved to a commit that does not
 * contain the old one: a force-push, which an administrator should hear about.
 */
export async function fetchUpstream(dir: string, url: string, opts: FetchOptions = {}): Promise<{ head?: string; refs: number; rewritten: string[] }> {
  validateRemoteUrl(url, { allowFile: opts.allowFile });
  const base = {
    gitDir: dir,
    config: opts.config,
    settings: [{ key: 'protocol.file.allow', value: opts.allowFile ? 'always' : 'never' }],
    timeoutMs: opts.timeoutMs,
    label: redactUrl(url),
  };

  const { stdout: lsOut } = await git(['ls-remote', '--symref', '--', url, 'HEAD'], base);
  let head: string | undefined;
  for (const line of lsOut.toString('utf8').split('\n')) {
    const m = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (m) head = m[1];
  }

  const old = await listRefs(dir, UPSTREAM_NS);
  const refspecs = [`+refs/*:${UPSTREAM_NS}*`];
  if (!opts.includePullMerge) refspecs.push('^refs/pull/*/merge');
  await git(
    ['fetch', '--prune', '--force', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', '--quiet', '--', url, ...refspecs],
    base,
  );
  const refs = await listRefs(dir, UPSTREAM_NS);
  const rewritten: string[] = [];
  for (const [ref, oid] of old) {
    const now = refs.get(ref);
    if (now === oid) continue;
    // Exit 1: not an ancestor; 128: not commits (a tag of a tree, say) — either way not a fast-forward.
    const ff = now !== undefined && (await git(['merge-base', '--is-ancestor', oid, now], { gitDir: dir, allowExitCodes: [1, 128] })).code === 0;
    if (!ff) rewritten.push(`refs/${ref.slice(UPSTREAM_NS.length)}`);
  }
  return { head, refs: refs.size, rewritten: rewritten.sort() };
}

/** ref -> oid for every ref under `prefix` (an annotated tag maps to the tag object). */
export async function listRefs(dir: string, prefix: string): Promise<Map<string, string>> {
  const args = ['for-each-ref', '--format=%(objectname) %(refname)'];
  if (prefix !== '') args.push('--', prefix);
  const { stdout } = await git(args, { gitDir: dir });
  const refs = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) refs.set(line.slice(sp + 1), line.slice(0, sp));
  }
  return refs;
}
