// Where the fork may point. A client inside the air gap can reach the mirror's git host and
// artifact store and nothing else, so every repo and artifact URL must lie under one of them.
// The prefixes come from the adapters themselves, so any host or store kind is judged by the
// URLs it actually writes.

import { errorMessage } from '../errors.js';
import type { GitHost } from '../hosts/host.js';
import type { ArtifactStore } from '../stores/store.js';

const PROBE_REPO = 'julia-airgap-probe';
const PROBE_SHA256 = '0'.repeat(64);

/** What cloneUrl puts before and after a repo name, e.g. `http://h/git/` and `.git`. */
export interface RepoUrlShape {
  prefix: string;
  suffix: string;
}

export function repoUrlShape(host: GitHost): RepoUrlShape {
  const probe = host.cloneUrl(PROBE_REPO);
  const at = probe.lastIndexOf(PROBE_REPO);
  return { prefix: probe.slice(0, at), suffix: probe.slice(at + PROBE_REPO.length) };
}

/** Why `url` is not a repository of the mirror's git host, or undefined when it is one. */
export function foreignRepoReason(url: string, host: GitHost, shape: RepoUrlShape): string | undefined {
  const expected = `a repository under ${shape.prefix}`;
  if (!url.startsWith(shape.prefix) || !url.endsWith(shape.suffix) || url.length <= shape.prefix.length + shape.suffix.length) {
    return `is not ${expected}; clients inside the air gap cannot reach it`;
  }
  const name = url.slice(shape.prefix.length, url.length - shape.suffix.length);
  try {
    if (host.cloneUrl(name) === url) return undefined;
  } catch (err) {
    return `is not ${expected}: ${errorMessage(err)}`;
  }
  return `is not ${expected}`;
}

/** The base every patched artifact URL starts with, e.g. `http://h/artifacts/`. */
export function artifactUrlBase(store: ArtifactStore): string {
  const probe = store.publicUrl({ sha256: PROBE_SHA256, fileName: 'probe.tar.gz' });
  return probe.slice(0, probe.indexOf(PROBE_SHA256));
}
