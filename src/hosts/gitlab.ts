// GitLab (REST API v4). Repos are projects in one group (a full path; every missing level is
// created). Projects are created through the API so visibility is ours, not push-to-create's
// "private". GitLab protects the first pushed branch against force pushes; a mirror must follow
// upstream's force pushes, so the default branch's protection is relaxed after publishing.

import { checkRefFormat } from '../git/pins.js';
import type { GitHost } from './host.js';
import { checkRepoName } from './host.js';
import { PublishError } from '../errors.js';
import { forgeMessage, makeForgeApi, seg, type ForgeHostOptions } from './http.js';
import { makeNamer } from './names.js';

/**
 * `url`: GitLab's root URL, repos are {url}/{group}/{name}.git; `apiUrl` default {url}/api/v4;
 * `visibility` "public" | "internal" | "private" ("limited" is read as "internal").
 */
export interface GitLabOptions extends ForgeHostOptions {
  /** full group path, e.g. "mirrors/julia" */
  group: string;
}

interface Group {
  id: number;
  full_path: string;
}

interface Project {
  id: number;
  default_branch?: string | null;
  description?: string | null;
}

interface ProtectedBranch {
  name: string;
  allow_force_push?: boolean;
}

/** GitLab answers 400 "has already been taken" when another run created the path first: fine. Any other 400 is a refusal. */
function takenOr400(body: unknown, what: string, call: string): void {
  const msg = forgeMessage(body, '');
  if (!/already been taken/i.test(msg)) throw new PublishError(`gitlab ${what}`, `${call}: HTTP 400: ${msg}`);
}

export function gitlabHost(opts: GitLabOptions): GitHost {
  const base = opts.url.replace(/\/+$/, '');
  const api = makeForgeApi({
    kind: 'gitlab',
    baseUrl: opts.apiUrl ?? `${base}/api/v4`,
    authHeader: { name: 'private-token', value: opts.token },
    retries: opts.retries,
    maxWaitMs: opts.maxWaitMs,
    baseDelayMs: opts.baseDelayMs,
    dispatcher: opts.dispatcher,
  });
  const group = opts.group.replace(/^\/+|\/+$/g, '');
  const visibility = opts.visibility === 'limited' ? 'internal' : opts.visibility;
  const forgeName = makeNamer('gitlab', opts.warn);
  const nameOf = (name: string) => {
    checkRepoName(base, name);
    return forgeName(name);
  };
  const projectPath = (fname: string) => `/projects/${seg(`${group}/${fname}`)}`;
  const projectIds = new Map<string, number>();
  const warned = new Set<string>();

  let groupReady: Promise<number> | undefined;
  const ensureGroup = () =>
    (groupReady ??= (async () => {
      let parent: number | undefined;
      const parts = group.split('/');
      for (let i = 0; i < parts.length; i++) {
        const full = parts.slice(0, i + 1).join('/');
        const what = `group ${full}`;
        const got = await api.call<Group>('GET', `/groups/${seg(full)}`, { what, ok: [404] });
        if (got.status === 200) {
          parent = got.body.id;
          continue;
        }
        const body = { name: parts[i], path: parts[i], visibility, ...(parent !== undefined ? { parent_id: parent } : {}) };
        const made = await api.call<Group>('POST', '/groups', { what, body, ok: [400] });
        if (made.status === 400) takenOr400(made.body, what, 'POST /groups');
        parent = made.status === 400 ? (await api.call<Group>('GET', `/groups/${seg(full)}`, { what })).body.id : made.body.id;
      }
      return parent!;
    })().catch((err: unknown) => {
      // the next repo tries again rather than inheriting a transient failure
      groupReady = undefined;
      throw err;
    }));

  const projectId = async (fname: string): Promise<number> => {
    const known = projectIds.get(fname);
    if (known !== undefined) return known;
    const got = await api.call<Project>('GET', projectPath(fname), { what: `project ${group}/${fname}` });
    projectIds.set(fname, got.body.id);
    return got.body.id;
  };

  return {
    kind: 'gitlab',

    async ensureRepo(name, o) {
      const fname = nameOf(name);
      const namespaceId = await ensureGroup();
      const what = `project ${group}/${fname}`;
      const got = await api.call<Project>('GET', projectPath(fname), { what, ok: [404] });
      if (got.status === 200) {
        projectIds.set(fname, got.body.id);
        if (o?.description !== undefined && (got.body.description ?? '') !== o.description) {
          await api.call('PUT', `/projects/${got.body.id}`, { what, body: { description: o.description } });
        }
        return;
      }
      const body = { name: fname, path: fname, namespace_id: namespaceId, visibility, initialize_with_readme: false, description: o?.description ?? '' };
      const made = await api.call<Project>('POST', '/projects', { what, body, ok: [400] });
      if (made.status === 400) {
        takenOr400(made.body, what, 'POST /projects');
        projectIds.set(fname, (await api.call<Project>('GET', projectPath(fname), { what })).body.id);
        return;
      }
      projectIds.set(fname, made.body.id);
    },

    cloneUrl(name) {
      return `${base}/${group}/${nameOf(name)}.git`;
    },

    pushTarget(name) {
      // GitLab's git HTTP auth is Basic with any user name and the token; scoped to the GitLab URL.
      const basic = Buffer.from(`oauth2:${opts.token}`).toString('base64');
      return {
        url: `${base}/${group}/${nameOf(name)}.git`,
        config: [{ key: `http.${base}/.extraHeader`, value: `Authorization: Basic ${basic}` }],
      };
    },

    async setDefaultBranch(name, branch) {
      checkRefFormat(`refs/heads/${branch}`);
      const fname = nameOf(name);
      const what = `project ${group}/${fname}`;
      const id = await projectId(fname);
      const project = await api.call<Project>('GET', `/projects/${id}`, { what });
      const previous = project.body.default_branch ?? undefined;
      if (previous !== branch) await api.call('PUT', `/projects/${id}`, { what, body: { default_branch: branch } });
      // GitLab protected whichever branch the first push made the default; both must accept force pushes.
      for (const b of new Set([branch, previous].filter((x): x is string => Boolean(x)))) {
        const pb = await api.call<ProtectedBranch>('GET', `/projects/${id}/protected_branches/${seg(b)}`, { what, ok: [404] });
        if (pb.status === 404 || pb.body.allow_force_push) continue;
        const patched = await api.call('PATCH', `/projects/${id}/protected_branches/${seg(b)}?allow_force_push=true`, { what, ok: [403] });
        if (patched.status === 403 && !warned.has(`${fname}:${b}`)) {
          warned.add(`${fname}:${b}`);
          opts.warn(
            `gitlab ${what}: branch ${b} is protected against force pushes and the mirror user may not change that ` +
              '(it needs the Maintainer role); an upstream force push to it will be rejected',
          );
        }
      }
    },
  };
}
