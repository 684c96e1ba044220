// Quarantine (cool-down): a version registered upstream less than `select.quarantine` ago is
// not published yet, so a malicious or broken release has time to be yanked before it crosses.
//
// Registration time is the committer time of the first registry commit (on the branch's
// first-parent line, i.e. when it landed) whose Versions.toml lists the version. Only packages
// whose Versions.toml changed inside the window can hold such a version, so one
// `git log --since` over the whole registry finds them, and the same listing gives each one's
// commits in the window: no per-package or per-version git log, even on a first sync of
// everything.

import { git } from '../git/run.js';
import type { PackageInfo } from '../registry/reader.js';
import { parseToml, isTable } from '../registry/toml.js';

export interface HeldVersion {
  package: string;
  uuid: string;
  version: string;
  /** ISO time the version was registered upstream */
  registered: string;
  /** ISO time it leaves quarantine */
  releases: string;
}

interface WindowCommit {
  commit: string;
  time: number;
  /** parent on the first-parent line, if any */
  parent?: string;
  files: string[];
}

/** Commits of the branch's first-parent line newer than `since`, oldest first, with the files each changed. */
async function commitsSince(gitDir: string, head: string, since: Date): Promise<WindowCommit[]> {
  const { stdout } = await git(
    ['log', '--first-parent', '-m', '--name-only', '--no-renames', `--since=@${Math.floor(since.getTime() / 1000)}`, '--format=%x01%H %ct %P', head, '--'],
    { gitDir, settings: [{ key: 'core.quotePath', value: 'false' }] },
  );
  const out: WindowCommit[] = [];
  for (const block of stdout.toString('utf8').split('\x01')) {
    if (!block.trim()) continue;
    const [header = '', ...rest] = block.split('\n');
    const [commit = '', time = '0', parent] = header.trim().split(' ');
    out.push({ commit, time: Number(time), parent: parent || undefined, files: rest.filter(Boolean) });
  }
  return out.reverse();
}

/** Version keys listed in a Versions.toml text (none for a missing or unreadable file). */
function versionsIn(text: string | undefined, label: string): Set<string> {
  if (text === undefined) return new Set();
  try {
    const t = parseToml(text, label);
    return new Set(Object.keys(t).filter((k) => isTable(t[k])));
  } catch {
    return new Set();
  }
}

/**
 * The versions of `packages` still in quarantine at `now`. `readAt(commit, path)` reads a
 * registry file at a commit (the upstream cat-file).
 */
export async function findHeldVersions(opts: {
  gitDir: string;
  head: string;
  packages: Iterable<PackageInfo>;
  windowMs: number;
  now: Date;
  readAt: (commit: string, file: string) => Promise<string | undefined>;
}): Promise<HeldVersion[]> {
  const since = new Date(opts.now.getTime() - opts.windowMs);
  const commits = await commitsSince(opts.gitDir, opts.head, since);
  if (commits.length === 0) return [];
  const touching = new Map<string, WindowCommit[]>();
  for (const c of commits) {
    for (const f of c.files) {
      if (!f.endsWith('/Versions.toml')) continue;
      let list = touching.get(f);
      if (!list) touching.set(f, (list = []));
      if (list[list.length - 1] !== c) list.push(c);
    }
  }
  const held: HeldVersion[] = [];
  for (const pkg of opts.packages) {
    const file = `${pkg.path.replace(/\/+$/, '')}/Versions.toml`;
    const list = touching.get(file);
    if (!list) continue;
    // Versions listed just before the window were registered before it: never held.
    const before = list[0]!.parent ? versionsIn(await opts.readAt(list[0]!.parent, file), file) : new Set<string>();
    const firstSeen = new Map<string, number>();
    for (const c of list) {
      for (const v of versionsIn(await opts.readAt(c.commit, file), file)) {
        if (!before.has(v) && !firstSeen.has(v)) firstSeen.set(v, c.time);
      }
    }
    for (const version of pkg.versions.keys()) {
      const t = firstSeen.get(version);
      if (t === undefined) continue;
      const releases = t * 1000 + opts.windowMs;
      if (releases <= opts.now.getTime()) continue;
      held.push({ package: pkg.name, uuid: pkg.uuid, version, registered: new Date(t * 1000).toISOString(), releases: new Date(releases).toISOString() });
    }
  }
  return held.sort((a, b) => a.package.localeCompare(b.package) || a.version.localeCompare(b.version));
}
