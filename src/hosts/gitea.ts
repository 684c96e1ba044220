// Gitea and Forgejo (API /api/v1; Forgejo is API-compatible). Repos live under one organisation,
// created when missing; each repo is created once through the API (push-to-create is off by
// default on Gitea) and updated, never recreated. git pushes carry the token in an
// `http.<url>.extraHeader` passed through GIT_CONFIG_* (never argv, never the URL).

import { checkRefFormat } from '../git/pins.js';
import type { GitHost } from './host.js';
import { checkRepoName } from './host.js';
import { makeForgeApi, seg, type ForgeHostOptions } from './http.js';
import { makeNamer } from './names.js';

/**
 * `url`: Gitea's root URL, repos are {url}/{owner}/{name}.git; `apiUrl` default {url}/api/v1 (the
 * root URL, so a Gitea under a sub-path works too); `visibility` "public" | "limited" | "private"
 * ("internal" is read as "limited").
 */
export interface GiteaOptions extends ForgeHostOptions {
  owner: string;
}

interface GiteaRepo {
  name: string;
  default_branch?: string;
  description?: string;
  empty?: boolean;
}

// Gitea's post-receive hook syncs every pushed tag into its releases table; a few hundred refs
// per push keeps each hook run short.
const GITEA_CHUNK = 200;

export function giteaHost(opts: GiteaOptions): GitHost {
  const base = opts.url.replace(/\/+$/, '');
  const api = makeForgeApi({
    kind: 'gitea',
    baseUrl: opts.apiUrl ?? `${base}/api/v1`,
    authHeader: { name: 'authorization', value: `token ${opts.token}` },
    retries: opts.retries,
    maxWaitMs: opts.maxWaitMs,
    baseDelayMs: opts.baseDelayMs,
    dispatcher: opts.dispatcher,
  });
  const owner = opts.owner;
  const forgeName = makeNamer('gitea', opts.warn);
  const nameOf = (name: string) => {
    checkRepoName(base, name);
    return forgeName(name);
  };
  const repoPath = (fname: string) => `/repos/${seg(owner)}/${seg(fname)}`;
  const orgVisibility = opts.visibility === 'internal' ? 'limited' : opts.visibility;

  let ownerReady: Promise<void> | undefined;
  const ensureOwner = () =>
    (ownerReady ??= (async () => {
      const got = await api.call('GET', `/orgs/${seg(owner)}`, { what: `organisation ${owner}`, ok: [404] });
      if (got.status !== 404) return;
      // 422 = the name was taken between our GET and POST (another run): fine.
      await api.call('POST', '/orgs', { what: `organisation ${owner}`, body: { username: owner, visibility: orgVisibility }, ok: [422] });
    })().catch((err: unknown) => {
      // the next repo tries again rather than inheriting a transient failure
      ownerReady = undefined;
      throw err;
    }));

  return {
    kind: 'gitea',

    async ensureRepo(name, o) {
      const fname = nameOf(name);
      await ensureOwner();
      const what = `repository ${owner}/${fname}`;
      const got = await api.call<GiteaRepo>('GET', repoPath(fname), { what, ok: [404] });
      if (got.status === 200) {
        if (o?.description !== undefined && got.body.description !== o.description) {
          await api.call('PATCH', repoPath(fname), { what, body: { description: o.description } });
        }
        return;
      }
      // auto_init false: a mirror's first commit is upstream's. 409 = created concurrently: fine.
      await api.call('POST', `/orgs/${seg(owner)}/repos`, {
        what,
        body: { name: fname, private: opts.visibility !== 'public', auto_init: false, description: o?.description ?? '' },
        ok: [409],
      });
    },

    cloneUrl(name) {
      return `${base}/${seg(owner)}/${nameOf(name)}.git`;
    },

    pushTarget(name) {
      // Scoped to the Gitea URL, so git never sends the header to another host.
      return {
        url: `${base}/${seg(owner)}/${nameOf(name)}.git`,
        config: [{ key: `http.${base}/.extraHeader`, value: `Authorization: token ${opts.token}` }],
        chunkSize: GITEA_CHUNK,
      };
    },

    async setDefaultBranch(name, branch) {
      checkRefFormat(`refs/heads/${branch}`);
      const fname = nameOf(name);
      const what = `repository ${owner}/${fname}`;
      const got = await api.call<GiteaRepo>('GET', repoPath(fname), { what });
      if (got.body.default_branch === branch) return;
      await api.call('PATCH', repoPath(fname), { what, body: { default_branch: branch } });
    },
  };
}
