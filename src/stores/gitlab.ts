// GitLab generic packages (lib/api/generic_packages.rb):
//   PUT {root}/api/v4/projects/:id/packages/generic/:package/:version/:file -> 201
//   GET the same path                                                       -> the newest file of that name
// GitLab accepts a second file of the same name by default (it is added, not refused), so the
// store always looks before it uploads. The artifact's sha256 is the version. Anonymous GET works
// when the project's package registry is public (a public project, or
// package_registry_access_level = public).

import type { ArtifactsConfig } from '../config.js';
import { ConfigError, PublishError, redactUrl } from '../errors.js';
import { authLatch, credentialName, tokenFromEnv } from './auth.js';
import { artifactRelPath } from './dir.js';
import { checkPackageName, DEFAULT_PACKAGE_NAME } from './gitea.js';
import { checkHttpUrl, type RemoteStoreOptions } from './http.js';
import { forgeCalls } from './forgecalls.js';
import { URL_SCHEME_KEY, type ArtifactKey, type ArtifactStore } from './store.js';
import { putFile, sameOrigin, type HeadersFor, type HttpOptions } from './upload.js';

/** GitLab's default plan limit generic_packages_max_file_size. */
export const GITLAB_MAX_FILE_BYTES = 5 * 1024 ** 3;
/** A numeric id, or a full path such as `group/sub/project`. */
const PROJECT = /^(?:\d+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*)$/;
/** GitLab's version rule for generic packages. */
const VERSION = /^(?!.*\.\.)[\w+.-]+$/;

export interface GitlabStoreOptions extends RemoteStoreOptions {
  /** The instance's generic_packages_max_file_size, when an admin changed it. */
  maxFileBytes?: number;
}

export function gitlabStore(cfg: ArtifactsConfig, configFile: string, opts: GitlabStoreOptions = {}): ArtifactStore {
  const env = opts.env ?? process.env;
  const root = checkHttpUrl(cfg.url, configFile, 'artifacts.url');
  const apiRoot = checkHttpUrl(cfg.apiUrl ?? cfg.url, configFile, 'artifacts.api_url');
  if (!cfg.project) throw new ConfigError(configFile, 'artifacts.project', 'missing: the GitLab project (numeric id or full path, e.g. "infra/julia-artifacts")');
  if (!PROJECT.test(cfg.project) || cfg.project.includes('..')) {
    throw new ConfigError(configFile, 'artifacts.project', `"${cfg.project}" is neither a numeric project id nor a project path`);
  }
  if (cfg.owner) throw new ConfigError(configFile, 'artifacts.owner', 'is for kind = "gitea"; GitLab packages belong to a project');
  const pkg = checkPackageName(cfg.packageName ?? DEFAULT_PACKAGE_NAME, configFile);
  const token = tokenFromEnv(cfg, env, configFile, true)!;
  const who = credentialName(cfg.tokenEnv);
  const maxFileBytes = opts.maxFileBytes ?? GITLAB_MAX_FILE_BYTES;
  const headersFor: HeadersFor = (url): Record<string, string> => (sameOrigin(url, apiRoot) ? { 'private-token': token } : {});
  const http: HttpOptions = { ...opts, secrets: [...(opts.secrets ?? []), token] };
  const latch = authLatch();
  const projectPath = `/api/v4/projects/${encodeURIComponent(cfg.project)}/packages/generic/${pkg}`;

  const path = (key: ArtifactKey) => {
    const [sha256, fileName] = artifactRelPath(key).split('/');
    if (!VERSION.test(sha256!)) throw new PublishError(sha256!, 'not a valid GitLab package version');
    return `${projectPath}/${sha256}/${fileName}`;
  };
  const apiUrl = (key: ArtifactKey) => `${apiRoot}${path(key)}`;

  const { fail, look } = forgeCalls({ latch, who, scope: 'the api scope and Developer role on the project', apiUrl, headersFor, http });

  return {
    kind: 'gitlab',
    async has(key, size) {
      return (await look(key, size)).says === 'present';
    },
    async put(file, key, size) {
      const target = apiUrl(key);
      if (size > maxFileBytes) {
        throw new PublishError(redactUrl(target), `${size} bytes is over GitLab's generic package limit of ${maxFileBytes} bytes (plan limit generic_packages_max_file_size)`);
      }
      // Duplicates are accepted and the newest wins, so a wrong-sized file is replaced by uploading again.
      if ((await look(key, size)).says === 'present') return;
      const r = await putFile(target, file, size, headersFor, http);
      if (r.status === 400 && /too large/i.test(r.text)) {
        throw new PublishError(redactUrl(target), `GitLab refused ${size} bytes as too large: raise the plan limit generic_packages_max_file_size`);
      }
      // With "allow duplicates" turned off GitLab answers 400 (older versions 403); then what is there must be ours.
      const duplicate = (r.status === 400 || r.status === 403) && /duplicate/i.test(r.text);
      if (r.status === 413) throw new PublishError(redactUrl(target), `HTTP 413: ${size} bytes is over a reverse proxy's body limit`);
      if (r.status !== 201 && r.status !== 200 && !duplicate) fail(target, r.status, r.text, `PUT (after ${r.attempts} attempt(s))`);
      const after = await look(key, size);
      if (after.says === 'wrong-size') throw new PublishError(after.probe.url, `size ${after.probe.size} after upload, expected ${size}`);
      if (after.says === 'absent') throw new PublishError(after.probe.url, `HTTP 404 right after the upload answered ${r.status}`);
    },
    publicUrl(key) {
      return `${root}${path(key)}`;
    },
    urlScheme() {
      return `${root}${projectPath}/${URL_SCHEME_KEY.sha256}/${URL_SCHEME_KEY.fileName}`;
    },
  };
}
