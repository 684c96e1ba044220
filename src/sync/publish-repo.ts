// Publishing one package repo: patch its versions, write their pins, push branches, tags and
// pins (never refs/pull/*) to the git host, and mark versions whose pin the host refused.

import { createHash } from 'node:crypto';
import { AuthError, errorMessage } from '../errors.js';
import { openCatFile } from '../git/catfile.js';
import { listRefs, UPSTREAM_NS } from '../git/mirror.js';
import { PIN_NAMESPACE, pinRef, writePins } from '../git/pins.js';
import type { GitHost } from '../hosts/host.js';
import { pushRefs } from '../hosts/push.js';
import type { ArtifactStore } from '../stores/store.js';
import { patchTree, type PatchMemo } from './patch.js';
import type { RepoGroup } from './repos.js';
import type { Reporter } from './report.js';
import type { State } from './state.js';
import { versionEntry, type SyncCounts, type VersionWork } from './work.js';

export interface PublishCtx {
  host: GitHost;
  store: ArtifactStore;
  state: State;
  rep: Reporter;
  force: boolean;
  warnings: string[];
  counts: SyncCounts;
}

/** Patches the repo's versions, writes their pins, and pushes heads, tags and pins to the host. */
export async function publishRepo(group: RepoGroup, list: VersionWork[], ctx: PublishCtx): Promise<void> {
  const cat = openCatFile(group.cacheDir);
  const memo: PatchMemo = new Map();
  try {
    for (const w of list) {
      if (!w.scanned || w.scanned.error) continue;
      try {
        w.patched = await patchTree(group.cacheDir, cat, w.tree, w.scanned, ctx.store, `${w.pkg.name}@${w.version}`, memo);
      } catch (err) {
        w.blockers.push(versionEntry(w, 'patch-failed', errorMessage(err), true));
      }
    }
  } finally {
    await cat.close();
  }
  const pins = list.flatMap((w) => {
    const target = w.patched ?? w.tree;
    const main = { ref: pinRef(w.pkg.name, w.version, 'kept'), tree: target, pkgName: w.pkg.name, version: w.version, kind: 'kept' as const };
    return target === w.tree ? [main] : [main, { ref: pinRef(w.pkg.name, w.version, 'original'), tree: w.tree, pkgName: w.pkg.name, version: w.version, kind: 'original' as const }];
  });
  await writePins(group.cacheDir, pins);

  const refspecs: string[] = [];
  const local = new Map<string, string>();
  for (const [ref, oid] of await listRefs(group.cacheDir, UPSTREAM_NS)) {
    const rest = ref.slice(UPSTREAM_NS.length);
    // Only branches and tags cross: forges reject refs/pull/* and friends, and pins carry every registered tree anyway.
    if (!rest.startsWith('heads/') && !rest.startsWith('tags/')) continue;
    const dst = `refs/${rest}`;
    if (dst.startsWith(PIN_NAMESPACE)) {
      ctx.warnings.push(`${group.url}: upstream ref ${dst} collides with the pin namespace; not mirrored`);
      continue;
    }
    refspecs.push(`+${ref}:${dst}`);
    local.set(dst, oid);
  }
  for (const [ref, oid] of await listRefs(group.cacheDir, PIN_NAMESPACE)) {
    refspecs.push(`+${ref}:${ref}`);
    local.set(ref, oid);
  }
  refspecs.sort();
  const target = ctx.host.pushTarget(group.name);
  const digest = createHash('sha256').update(target.url + '\n' + [...local].sort().map(([r, o]) => `${r} ${o}`).join('\n')).digest('hex');
  const entry = ctx.state.repos![group.name]!;
  if (!ctx.force && entry.pushed === digest) return;
  try {
    await ctx.host.ensureRepo(group.name, { description: `Mirror of ${group.url} (julia-airgap)`, defaultBranch: entry.head });
    const res = await pushRefs(group.cacheDir, target, refspecs, { label: group.name });
    const rejected = new Map(res.rejected.map((r) => [r.ref, r.reason]));
    for (const w of list) {
      const why = rejected.get(pinRef(w.pkg.name, w.version, 'kept'));
      if (why) w.blockers.push(versionEntry(w, 'publish-rejected', `${ctx.host.kind} host rejected pin: ${why}`));
    }
    for (const [ref, reason] of rejected) if (!ref.startsWith(PIN_NAMESPACE)) ctx.warnings.push(`${group.name}: host rejected ${ref}: ${reason}`);
    const head = entry.head;
    if (head && local.has(`refs/heads/${head}`)) await ctx.host.setDefaultBranch(group.name, head);
    if (rejected.size === 0) entry.pushed = digest;
    ctx.counts.reposPushed++;
  } catch (err) {
    // A refused token fails every repo the same way, and retrying it gets the address banned.
    if (err instanceof AuthError) throw err;
    ctx.rep.log('error', `publishing ${group.name}: ${errorMessage(err)}`);
    for (const w of list) w.blockers.push(versionEntry(w, 'publish-failed', `pushing ${group.name}: ${errorMessage(err)}`));
  }
}
