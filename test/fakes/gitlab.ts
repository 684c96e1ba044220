// Contract fake of the GitLab REST API v4 (GitLab cannot run here). It implements exactly the
// endpoints julia-airgap calls, with the status codes and JSON shapes of the published docs:
//   https://docs.gitlab.com/api/groups/             GET /groups/:id (id or URL-encoded full path) 200 | 404 {"message":"404 Group Not Found"}
//                                                   POST /groups {name, path, parent_id, visibility} 201 | 400 {"message":{"path":["has already been taken"]}}
//   https://docs.gitlab.com/api/projects/           GET /projects/:id (id or URL-encoded full path) 200 | 404 {"message":"404 Project Not Found"}
//                                                   POST /projects {name, path, namespace_id, visibility, initialize_with_readme} 201 | 400
//                                                   PUT /projects/:id {default_branch, description} 200
//   https://docs.gitlab.com/api/protected_branches/ GET /projects/:id/protected_branches/:name 200 | 404 {"message":"404 Not found"}
//                                                   PATCH /projects/:id/protected_branches/:name?allow_force_push=true 200
// Auth: `PRIVATE-TOKEN: <T>` (401 {"message":"401 Unauthorized"} otherwise); git over HTTP takes
// Basic with any user name and the token as password. Like GitLab: the first pushed branch becomes
// the default and is protected with allow_force_push=false (default_branch_protection "fully
// protected"), a protected branch refuses force pushes, and hidden ref namespaces are refused.

import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { startFakeForge, type ApiAnswer, type FakeForge } from './forge.js';
import { gitAsync, initBareAsync, installRejectHook } from './githttp.js';

export const GITLAB_HIDDEN_REFS = ['refs/merge-requests/', 'refs/keep-around/', 'refs/pipelines/', 'refs/environments/', 'refs/remotes/', 'refs/tmp/'];

interface GroupState {
  id: number;
  name: string;
  path: string;
  full_path: string;
  parent_id: number | null;
  visibility: string;
}

export interface ProjectState {
  id: number;
  name: string;
  path: string;
  namespace: GroupState;
  visibility: string;
  description: string;
  default_branch: string | null;
  protected: Map<string, { allow_force_push: boolean }>;
}

export interface FakeGitLab extends FakeForge {
  groups: Map<string, GroupState>;
  projects: Map<string, ProjectState>;
}

const fullPathOf = (p: ProjectState) => `${p.namespace.full_path}/${p.path}`;

export async function startFakeGitLab(root: string, token: string): Promise<FakeGitLab> {
  const groups = new Map<string, GroupState>();
  const projects = new Map<string, ProjectState>();
  let nextId = 100;
  let forge: FakeGitLab;
  const dirOf = (p: ProjectState) => path.join(root, `${fullPathOf(p)}.git`);
  const projectJson = (p: ProjectState) => ({
    id: p.id,
    name: p.name,
    path: p.path,
    path_with_namespace: fullPathOf(p),
    namespace: { id: p.namespace.id, full_path: p.namespace.full_path, kind: 'group' },
    visibility: p.visibility,
    description: p.description,
    default_branch: p.default_branch,
    http_url_to_repo: `${forge.url}/${fullPathOf(p)}.git`,
  });
  const findProject = (id: string) => {
    const decoded = decodeURIComponent(id);
    if (/^\d+$/.test(decoded)) return [...projects.values()].find((p) => p.id === Number(decoded));
    return projects.get(decoded.toLowerCase());
  };
  const findGroup = (id: string) => {
    const decoded = decodeURIComponent(id);
    if (/^\d+$/.test(decoded)) return [...groups.values()].find((g) => g.id === Number(decoded));
    return groups.get(decoded.toLowerCase());
  };
  const pathOk = (s: string) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s) && !/\.(git|atom)$/i.test(s);

  // Installs hooks that behave like GitLab's: refuse hidden refs, refuse force pushes to protected branches
  // (the fake writes the protection list to a file the hook reads).
  const writeHooks = async (p: ProjectState) => {
    const { writeFileSync, chmodSync } = await import('node:fs');
    const dir = dirOf(p);
    const hidden = GITLAB_HIDDEN_REFS.map((r) => `${r}*`).join('|');
    writeFileSync(
      path.join(dir, 'hooks', 'pre-receive'),
      `#!/bin/sh\nz=0000000000000000000000000000000000000000\nwhile read old new ref; do\n  case "$ref" in ${hidden}) echo "deny updating a hidden ref" >&2; exit 1;; esac\n` +
        `  b=\${ref#refs/heads/}\n  if [ "$b" != "$ref" ] && [ "$old" != "$z" ] && grep -qx "$b" "$GIT_DIR/protected-no-force" 2>/dev/null; then\n` +
        `    if ! git merge-base --is-ancestor "$old" "$new"; then echo "You are not allowed to force push code to a protected branch." >&2; exit 1; fi\n  fi\ndone\nexit 0\n`,
    );
    chmodSync(path.join(dir, 'hooks', 'pre-receive'), 0o755);
    writeFileSync(path.join(dir, 'protected-no-force'), [...p.protected].filter(([, v]) => !v.allow_force_push).map(([k]) => `${k}\n`).join(''));
  };

  const api = async (method: string, p: string, q: URLSearchParams, body: unknown): Promise<ApiAnswer> => {
    const parts = p.split('/').filter(Boolean);
    const b = (body ?? {}) as Record<string, unknown>;
    if (parts[0] === 'groups' && parts.length === 2 && method === 'GET') {
      const g = findGroup(parts[1]!);
      return g ? { status: 200, body: g } : { status: 404, body: { message: '404 Group Not Found' } };
    }
    if (parts[0] === 'groups' && parts.length === 1 && method === 'POST') {
      const parent = b.parent_id !== undefined ? findGroup(String(b.parent_id)) : undefined;
      if (b.parent_id !== undefined && !parent) return { status: 404, body: { message: '404 Group Not Found' } };
      const gpath = String(b.path ?? '');
      if (!pathOk(gpath)) return { status: 400, body: { message: { path: ['can contain only letters, digits, \'_\', \'-\' and \'.\''] } } };
      const full = parent ? `${parent.full_path}/${gpath}` : gpath;
      if (groups.has(full.toLowerCase())) return { status: 400, body: { message: { path: ['has already been taken'] } } };
      const g: GroupState = { id: nextId++, name: String(b.name ?? gpath), path: gpath, full_path: full, parent_id: parent?.id ?? null, visibility: String(b.visibility ?? 'private') };
      groups.set(full.toLowerCase(), g);
      return { status: 201, body: g };
    }
    if (parts[0] === 'projects' && parts.length === 1 && method === 'POST') {
      const ns = findGroup(String(b.namespace_id ?? ''));
      if (!ns) return { status: 404, body: { message: '404 Namespace Not Found' } };
      const ppath = String(b.path ?? b.name ?? '');
      if (!pathOk(ppath)) return { status: 400, body: { message: { path: ['must not start with \'-\', end in \'.git\' or end in \'.atom\''] } } };
      if (projects.has(`${ns.full_path}/${ppath}`.toLowerCase())) {
        return { status: 400, body: { message: { name: ['has already been taken'], path: ['has already been taken'] } } };
      }
      const proj: ProjectState = {
        id: nextId++, name: String(b.name ?? ppath), path: ppath, namespace: ns, visibility: String(b.visibility ?? 'private'),
        description: String(b.description ?? ''), default_branch: null, protected: new Map(),
      };
      await initBareAsync(dirOf(proj));
      await writeHooks(proj);
      if (forge.rejectPattern) installRejectHook(dirOf(proj), forge.rejectPattern);
      projects.set(fullPathOf(proj).toLowerCase(), proj);
      return { status: 201, body: projectJson(proj) };
    }
    if (parts[0] === 'projects' && parts.length >= 2) {
      const proj = findProject(parts[1]!);
      if (!proj) return { status: 404, body: { message: '404 Project Not Found' } };
      if (parts.length === 2 && method === 'GET') return { status: 200, body: projectJson(proj) };
      if (parts.length === 2 && method === 'PUT') {
        if (typeof b.description === 'string') proj.description = b.description;
        if (typeof b.default_branch === 'string') {
          const exists = await gitAsync(dirOf(proj), ['for-each-ref', '--format=%(refname)', `refs/heads/${b.default_branch}`]);
          if (exists === '') return { status: 400, body: { message: { default_branch: ['does not exist'] } } };
          proj.default_branch = b.default_branch;
          await gitAsync(dirOf(proj), ['symbolic-ref', 'HEAD', `refs/heads/${b.default_branch}`]);
        }
        return { status: 200, body: projectJson(proj) };
      }
      if (parts[2] === 'protected_branches' && parts.length === 4) {
        const name = decodeURIComponent(parts[3]!);
        const pb = proj.protected.get(name);
        if (!pb) return { status: 404, body: { message: '404 Not found' } };
        if (method === 'PATCH') {
          if (q.has('allow_force_push')) pb.allow_force_push = q.get('allow_force_push') === 'true';
          await writeHooks(proj);
        } else if (method !== 'GET') return { status: 405, body: { message: '405 Method Not Allowed' } };
        return { status: 200, body: { id: proj.id * 10, name, allow_force_push: pb.allow_force_push, push_access_levels: [{ access_level: 40 }] } };
      }
    }
    return { status: 404, body: { message: '404 Not found' } };
  };

  const basicToken = (req: IncomingMessage) => {
    const m = /^basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
  };
  const base = await startFakeForge(
    root,
    {
      apiPrefix: '/api/v4',
      apiAuthorized: (req) => req.headers['private-token'] === token,
      gitAuthorized: (req) => basicToken(req) === token,
      api,
      repoAt(repoPath) {
        const proj = projects.get(repoPath.slice(1).replace(/\.git$/, '').toLowerCase());
        return proj ? { public: proj.visibility === 'public' } : undefined;
      },
      async afterPush(repoPath) {
        const proj = projects.get(repoPath.slice(1).replace(/\.git$/, '').toLowerCase());
        if (!proj || proj.default_branch !== null) return;
        const heads = (await gitAsync(dirOf(proj), ['for-each-ref', '--format=%(refname:short)', 'refs/heads'])).split('\n').filter(Boolean);
        if (heads.length === 0) return;
        proj.default_branch = heads.includes('main') ? 'main' : heads[0]!;
        await gitAsync(dirOf(proj), ['symbolic-ref', 'HEAD', `refs/heads/${proj.default_branch}`]);
        proj.protected.set(proj.default_branch, { allow_force_push: false });
        await writeHooks(proj);
      },
    },
    { message: '401 Unauthorized' },
  );
  forge = Object.assign(base, { groups, projects });
  return forge;
}
