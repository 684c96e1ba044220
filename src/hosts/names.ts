// Forges refuse some names that repoNameFor (and registry.repo) can produce. The mapping to a
// name the forge accepts is one deterministic function, so every sync (and every clone URL in
// the fork) agrees on it.

import { createHash } from 'node:crypto';

export type ForgeKind = 'gitea' | 'gitlab' | 'push' | 'dir';

interface Rules {
  maxLength: number;
  /** exact names the forge reserves (compared case-insensitively) */
  reserved: ReadonlySet<string>;
  /** suffixes the forge refuses */
  badSuffixes: readonly string[];
  /** a name must start with one of these characters */
  start: RegExp;
}

// Gitea/Forgejo models/repo/repo.go: reservedRepoNames {".", "..", "-"}, patterns *.git, *.wiki,
// *.rss, *.atom, no "..", name length <= 100.
const GITEA: Rules = {
  maxLength: 100,
  reserved: new Set(['.', '..', '-']),
  badSuffixes: ['.git', '.wiki', '.rss', '.atom'],
  start: /^[A-Za-z0-9_.]/,
};

// GitLab lib/gitlab/path_regex.rb: a project path starts with a letter, digit, "_" or "."
// (never "-"), does not end in .git or .atom, and may not be one of the project wildcard routes.
const GITLAB: Rules = {
  maxLength: 255,
  reserved: new Set(['-', 'badges', 'blame', 'blob', 'builds', 'commits', 'create', 'create_dir', 'edit', 'files', 'find_file', 'new', 'preview', 'raw', 'refs', 'tree', 'update', 'wikis']),
  badSuffixes: ['.git', '.atom'],
  start: /^[A-Za-z0-9_]/,
};

function rulesFor(kind: ForgeKind): Rules | undefined {
  if (kind === 'gitea') return GITEA;
  if (kind === 'gitlab') return GITLAB;
  return undefined;
}

function acceptable(r: Rules, name: string): boolean {
  const lower = name.toLowerCase();
  return (
    name.length > 0 &&
    name.length <= r.maxLength &&
    r.start.test(name) &&
    /^[A-Za-z0-9._-]+$/.test(name) &&
    !name.includes('..') &&
    !r.reserved.has(lower) &&
    !r.badSuffixes.some((s) => lower.endsWith(s))
  );
}

/**
 * The name `kind` will accept for `name`: `name` itself when the forge takes it, otherwise the
 * name made safe, cut to fit, with `---<hash of the original>` appended (a hash suffix never
 * ends in a reserved suffix, and distinct originals get distinct names).
 */
export function forgeRepoName(kind: ForgeKind, name: string): string {
  const r = rulesFor(kind);
  if (!r || acceptable(r, name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  let stem = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.{2,}/g, '.');
  if (!r.start.test(stem)) stem = `_${stem}`;
  stem = stem.slice(0, r.maxLength - hash.length - 3).replace(/[.-]+$/, '');
  return `${stem}---${hash}`;
}

/** Maps names through forgeRepoName, reporting each changed name once per run. */
export function makeNamer(kind: ForgeKind, warn: (msg: string) => void): (name: string) => string {
  const seen = new Set<string>();
  return (name) => {
    const mapped = forgeRepoName(kind, name);
    if (mapped !== name && !seen.has(name)) {
      seen.add(name);
      warn(`${kind} does not accept the repository name ${JSON.stringify(name)}; published as ${JSON.stringify(mapped)}`);
    }
    return mapped;
  };
}
