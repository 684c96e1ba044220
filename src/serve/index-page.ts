// The landing page a developer inside the air gap opens first. Self-contained HTML: there is
// nothing outside to fetch stylesheets or scripts from.

import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** Repos are `<name>.git`, possibly one or two folders deep (`owner/name.git`). */
const MAX_DEPTH = 3;
/** Bounds the page for a full-General mirror; the names are a convenience, not an API. */
const MAX_LISTED = 20_000;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function listRepos(gitRoot: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, rel: string, depth: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (found.length >= MAX_LISTED) return;
      if (e.name.startsWith('.') || !e.isDirectory()) continue;
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.endsWith('.git')) found.push(name.slice(0, -'.git'.length));
      else if (depth + 1 < MAX_DEPTH) await walk(path.join(dir, e.name), name, depth + 1);
    }
  }
  await walk(gitRoot, '', 0);
  return found.sort();
}

export interface IndexPageInput {
  publicUrl: string;
  registryRepo?: string;
  hasGit: boolean;
  hasArtifacts: boolean;
  repos: string[];
}

export function renderIndexPage(input: IndexPageInput): string {
  const base = input.publicUrl.replace(/\/+$/, '');
  const reg = input.registryRepo?.replace(/\.git$/, '');
  const registryUrl = reg ? `${base}/git/${reg}.git` : `${base}/git/<registry>.git`;
  const e = escapeHtml;
  const repoList = input.repos.length
    ? `<ul>\n${input.repos.map((r) => `<li><code>${e(r)}</code></li>`).join('\n')}\n</ul>` +
      (input.repos.length >= MAX_LISTED ? `<p>(list truncated at ${MAX_LISTED})</p>` : '')
    : '<p>No repositories yet.</p>';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Julia package mirror</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
pre { background: #f4f4f4; padding: .75rem; overflow-x: auto; }
code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Julia package mirror</h1>
<p>Packages, their git repositories${input.hasArtifacts ? ' and binary artifacts' : ''} are served from this host.
Set up each Julia client once:</p>

<h2>1. Turn off the public package server</h2>
<pre><code>export JULIA_PKG_SERVER=""</code></pre>
<p>Set it system-wide (e.g. <code>/etc/profile.d/</code>) before Julia starts. It stops Pkg from contacting
<code>pkg.julialang.org</code>, which it otherwise tries first on every add, update and artifact download,
waiting on timeouts that cannot succeed here.</p>

<h2>2. Replace the General registry with the mirror's fork</h2>
<pre><code>pkg&gt; registry rm General
pkg&gt; registry add ${e(registryUrl)}</code></pre>
<p>Remove <code>General</code> first: the real General must not coexist with the fork. Both list the same
package UUIDs, so Pkg would mix their GitHub URLs and tree hashes with the mirror's, and
<code>registry add</code> of a fork with the same UUID silently reports that it already exists.</p>
${reg ? '' : '<p><em>The registry repository name was not configured for this server.</em></p>\n'}
<p>After that, <code>pkg&gt; add SomePackage</code> works as usual.</p>

<h2>Repositories</h2>
${input.hasGit ? repoList : '<p>No git root is served.</p>'}
</body>
</html>
`;
}
