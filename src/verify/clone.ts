// Git the way a Julia client uses it (pkg-internals §b, §c): Pkg 1.13 adds a registry with a
// shallow clone, and installs a package from a shallow bare clone followed by a fetch of every
// advertised ref, unshallowed, into refs/cache/*. Objects the host keeps but no ref reaches
// never arrive this way, so a tree is only "there" if a client would really get it.

import { redactUrl } from '../errors.js';
import { git, type GitRunOptions } from '../git/run.js';
import { validateRemoteUrl } from '../git/url.js';

export interface ClientGitOptions {
  timeoutMs: number;
}

// LibGit2.Consts.FETCH_DEPTH_UNSHALLOW, which Pkg 1.13 also hands to CLI git as --depth.
const UNSHALLOW_DEPTH = '--depth=2147483647';

/** Pkg clones local paths and file:// URLs in full; shallow clones need a real transport. */
export function isLocalGitUrl(url: string): boolean {
  return url.startsWith('/') || url.startsWith('file://');
}

function runOptions(url: string, opts: ClientGitOptions, gitDir?: string): GitRunOptions {
  const local = isLocalGitUrl(url);
  validateRemoteUrl(url, { allowFile: local });
  return {
    gitDir,
    label: redactUrl(url),
    timeoutMs: opts.timeoutMs,
    settings: [{ key: 'protocol.file.allow', value: local ? 'always' : 'never' }],
  };
}

/** `git clone --bare --depth=1`, as `pkg> registry add` and Pkg's package clone do. */
export async function cloneShallowBare(url: string, dir: string, opts: ClientGitOptions): Promise<void> {
  const run = runOptions(url, opts);
  const depth = isLocalGitUrl(url) ? [] : ['--depth=1'];
  await git(['clone', '--bare', '--quiet', ...depth, '--', url, dir], run);
}

/** Pkg 1.13's `install_git` fetch: every ref, unshallowed, from the registry's URL. */
export async function fetchEveryRef(url: string, dir: string, opts: ClientGitOptions): Promise<void> {
  const run = runOptions(url, opts, dir);
  const depth = isLocalGitUrl(url) ? [] : [UNSHALLOW_DEPTH];
  await git(['fetch', '--quiet', '--force', '--no-tags', '--no-write-fetch-head', ...depth, '--', url, '+refs/*:refs/cache/*'], run);
}
