// The git host interface. Each forge (plain directory, Gitea, GitLab, push-to-create server) is
// one adapter; everything else only sees this.

import { PublishError } from '../errors.js';
import type { PushTarget } from './push.js';

export interface GitHost {
  readonly kind: string;
  /**
   * Create the repo if missing (idempotent). `defaultBranch` is what a new repo's HEAD names, so
   * the first push of that branch is clonable even if the run dies before setDefaultBranch.
   */
  ensureRepo(name: string, opts?: { description?: string; defaultBranch?: string }): Promise<void>;
  /** URL developers clone from (goes into the registry fork). */
  cloneUrl(name: string): string;
  /** URL git pushes to, secret config pairs for git (never in argv), and the host's chunk size. */
  pushTarget(name: string): PushTarget;
  setDefaultBranch(name: string, branch: string): Promise<void>;
}

/**
 * Repo names reach paths and forge APIs, so adapters accept only names that are safe as both:
 * what repoNameFor produces, plus registry names such as `General`.
 */
export function checkRepoName(target: string, name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) || name.includes('..') || name.length > 100 || /\.git$/i.test(name)) {
    throw new PublishError(target, `invalid repository name ${JSON.stringify(name)}`);
  }
}
