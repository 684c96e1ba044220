// Contract fake of the Gitea/Forgejo API (Gitea cannot run here). It implements exactly the
// endpoints julia-airgap calls, with the status codes and JSON shapes of the published API:
//   https://docs.gitea.com/api/1.22/ (swagger: /api/swagger), "organization" and "repository":
//   GET  /orgs/{org}               200 Organization | 404
//   POST /orgs                     201 Organization | 422 (name taken)      body CreateOrgOption {username, visibility}
//   GET  /repos/{owner}/{repo}     200 Repository   | 404
//   POST /orgs/{org}/repos         201 Repository   | 409 "The repository with the same name already exists."
//                                                    body CreateRepoOption {name, private, auto_init, description}
//   PATCH /repos/{owner}/{repo}    200 Repository                            body EditRepoOption {default_branch?, description?}
// Errors are APIError {message, url}. Auth: `Authorization: token <T>` (scheme case-insensitive, Bearer too);
// anything else is 401. Git over HTTP at /{owner}/{repo}.git accepts the same header or Basic user:<token>.
// Like Gitea's post-receive hook, the first push into an empty repo sets its default branch.

import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { startFakeForge, type ApiAnswer, type FakeForge } from './forge.js';
import { gitAsync, initBareAsync, installRejectHook } from './githttp.js';

export interface GiteaRepoState {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  description: string;
  default_branch: string;
  empty: boolean;
}

export interface FakeGitea extends FakeForge {
  orgs: Map<string, { id: number; username: string; visibility: string }>;
  repos: Map<string, GiteaRepoState>;
}

const NOT_FOUND = { message: 'The target couldn\'t be found.', url: 'https://docs.gitea.com/api' };

function tokenOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^(token|bearer)\s+(.+)$/i.exec(h);
  if (m) return m[2];
  const b = /^basic\s+(.+)$/i.exec(h);
  if (b) return Buffer.from(b[1]!, 'base64').toString('utf8').split(':').slice(1).join(':');
  return undefined;
}

export async function startFakeGitea(root: string, token: string): Promise<FakeGitea> {
  const orgs = new Map<string, { id: number; username: string; visibility: string }>();
  const repos = new Map<string, GiteaRepoState>();
  let nextId = 1;
  const key = (owner: string, name: string) => `${owner.toLowerCase()}/${name.toLowerCase()}`;
  const json = (r: GiteaRepoState, base: string) => ({
    id: r.id,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    owner: { login: r.owner },
    private: r.private,
    description: r.description,
    default_branch: r.default_branch,
    empty: r.empty,
    clone_url: `${base}/${r.owner}/${r.name}.git`,
  });
  let forge: FakeGitea;
  const dirOf = (r: GiteaRepoState) => path.join(root, r.owner, `${r.name}.git`);

  const api = async (method: string, p: string, _q: URLSearchParams, body: unknown): Promise<ApiAnswer> => {
    const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
    const b = (body ?? {}) as Record<string, unknown>;
    if (parts[0] === 'orgs' && parts.length === 2 && method === 'GET') {
      const o = orgs.get(parts[1]!.toLowerCase());
      return o ? { status: 200, body: o } : { status: 404, body: NOT_FOUND };
    }
    if (parts[0] === 'orgs' && parts.length === 1 && method === 'POST') {
      const name = String(b.username ?? '');
      if (orgs.has(name.toLowerCase())) return { status: 422, body: { message: `user already exists [name: ${name}]`, url: '' } };
      const o = { id: nextId++, username: name, visibility: String(b.visibility ?? 'public') };
      orgs.set(name.toLowerCase(), o);
      return { status: 201, body: o };
    }
    if (parts[0] === 'orgs' && parts[2] === 'repos' && parts.length === 3 && method === 'POST') {
      const owner = orgs.get(parts[1]!.toLowerCase());
      if (!owner) return { status: 404, body: NOT_FOUND };
      const name = String(b.name ?? '');
      if (!/^[-.\w]+$/.test(name) || /\.(git|wiki|rss|atom)$/i.test(name) || name.length > 100) {
        return { status: 422, body: { message: `name is invalid [${name}]`, url: '' } };
      }
      if (repos.has(key(owner.username, name))) return { status: 409, body: { message: 'The repository with the same name already exists.', url: '' } };
      const r: GiteaRepoState = { id: nextId++, owner: owner.username, name, private: Boolean(b.private), description: String(b.description ?? ''), default_branch: 'main', empty: true };
      await initBareAsync(dirOf(r));
      if (forge.rejectPattern) installRejectHook(dirOf(r), forge.rejectPattern);
      repos.set(key(r.owner, name), r);
      return { status: 201, body: json(r, forge.url) };
    }
    if (parts[0] === 'repos' && parts.length === 3) {
      const r = repos.get(key(parts[1]!, parts[2]!));
      if (!r) return { status: 404, body: NOT_FOUND };
      if (method === 'GET') return { status: 200, body: json(r, forge.url) };
      if (method === 'PATCH') {
        if (typeof b.description === 'string') r.description = b.description;
        if (typeof b.default_branch === 'string') {
          const exists = await gitAsync(dirOf(r), ['for-each-ref', '--format=%(refname)', `refs/heads/${b.default_branch}`]);
          // Gitea ignores a default branch that does not exist in a non-empty repo
          if (exists !== '') {
            r.default_branch = b.default_branch;
            await gitAsync(dirOf(r), ['symbolic-ref', 'HEAD', `refs/heads/${b.default_branch}`]);
          }
        }
        return { status: 200, body: json(r, forge.url) };
      }
    }
    return { status: 404, body: NOT_FOUND };
  };

  const base = await startFakeForge(
    root,
    {
      apiPrefix: '/api/v1',
      apiAuthorized: (req) => tokenOf(req) === token,
      gitAuthorized: (req) => tokenOf(req) === token,
      api,
      repoAt(repoPath) {
        const [, owner, file] = repoPath.split('/');
        const r = owner && file ? repos.get(key(owner, file.replace(/\.git$/, ''))) : undefined;
        return r ? { public: !r.private } : undefined;
      },
      async afterPush(repoPath) {
        const [, owner, file] = repoPath.split('/');
        const r = repos.get(key(owner!, file!.replace(/\.git$/, '')));
        if (!r || !r.empty) return;
        const heads = (await gitAsync(dirOf(r), ['for-each-ref', '--format=%(refname:short)', 'refs/heads'])).split('\n').filter(Boolean);
        if (heads.length === 0) return;
        r.empty = false;
        r.default_branch = heads.includes('master') ? 'master' : heads.includes(r.default_branch) ? r.default_branch : heads[0]!;
        await gitAsync(dirOf(r), ['symbolic-ref', 'HEAD', `refs/heads/${r.default_branch}`]);
      },
    },
    { message: 'token is required', url: 'https://docs.gitea.com/api' },
  );
  forge = Object.assign(base, { orgs, repos });
  return forge;
}
