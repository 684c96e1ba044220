// Gitea/Forgejo generic package registry (routers/api/packages/generic/generic.go):
//   PUT {root}/api/packages/{owner}/generic/{package}/{version}/{file}  -> 201, 409 if the file exists
//   GET the same path                                                    -> the file (maybe a 30x to storage)
// The artifact's sha256 is the version, so each version holds one artifact under one or more names.
// Anonymous GET works when the owner is a public user or organisation and the instance does not
// require sign-in to view; that is what lets Julia clients download the patched URLs.

import type { ArtifactsConfig } from '../config.js';
import { ConfigError, PublishError, redactUrl } from '../errors.js';
import { authLatch, credentialName, tokenFromEnv } from './auth.js';
import { artifactRelPath } from './dir.js';
import { checkHttpUrl, type RemoteStoreOptions } from './http.js';
import { forgeCalls } from './forgecalls.js';
import { URL_SCHEME_KEY, type ArtifactKey, type ArtifactStore } from './store.js';
import { putFile, sameOrigin, type HeadersFor, type HttpOptions, type Probe } from './upload.js';

export const DEFAULT_PACKAGE_NAME = 'julia-artifacts';
/** Gitea's package-name rule; `..` is refused as a path trick. */
const PACKAGE_NAME = /^[A-Za-z0-9._+-]+$/;
const OWNER = /^[A-Za-z0-9._-]+$/;

export function checkPackageName(name: string, configFile: string): string {
  if (!PACKAGE_NAME.test(name) || name.includes('..') || (name.length === 1 && !/[A-Za-z0-9]/.test(name))) {
    throw new ConfigError(configFile, 'artifacts.package_name', `"${name}" is not a valid package name (letters, digits, . _ + -)`);
  }
  return name;
}

export function giteaStore(cfg: ArtifactsConfig, configFile: string, opts: RemoteStoreOptions = {}): ArtifactStore {
  const env = opts.env ?? process.env;
  const root = checkHttpUrl(cfg.url, configFile, 'artifacts.url');
  const apiRoot = checkHttpUrl(cfg.apiUrl ?? cfg.url, configFile, 'artifacts.api_url');
  if (!cfg.owner) throw new ConfigError(configFile, 'artifacts.owner', 'missing: the Gitea user or organisation that owns the artifact package');
  if (!OWNER.test(cfg.owner)) throw new ConfigError(configFile, 'artifacts.owner', `"${cfg.owner}" is not a Gitea user or organisation name`);
  if (cfg.project) throw new ConfigError(configFile, 'artifacts.project', 'is for kind = "gitlab"; Gitea packages belong to an owner');
  const pkg = checkPackageName(cfg.packageName ?? DEFAULT_PACKAGE_NAME, configFile);
  const token = tokenFromEnv(cfg, env, configFile, true)!;
  const who = credentialName(cfg.tokenEnv);
  const headersFor: HeadersFor = (url): Record<string, string> => (sameOrigin(url, apiRoot) ? { authorization: `token ${token}` } : {});
  const http: HttpOptions = { ...opts, secrets: [...(opts.secrets ?? []), token] };
  const latch = authLatch();

  const path = (key: ArtifactKey) => {
    const [sha256, fileName] = artifactRelPath(key).split('/');
    return `/api/packages/${cfg.owner}/generic/${pkg}/${sha256}/${fileName}`;
  };
  const apiUrl = (key: ArtifactKey) => `${apiRoot}${path(key)}`;

  const { fail, look } = forgeCalls({ latch, who, scope: 'the write:package scope', apiUrl, headersFor, http });
  const conflict = (probe: Probe, size: number): never => {
    throw new PublishError(
      probe.url,
      `holds ${probe.size} bytes, expected ${size}; Gitea cannot overwrite a package file: delete that version (DELETE on its URL, or in the web UI) and sync again`,
    );
  };

  return {
    kind: 'gitea',
    async has(key, size) {
      return (await look(key, size)).says === 'present';
    },
    async put(file, key, size) {
      const before = await look(key, size);
      if (before.says === 'present') return;
      if (before.says === 'wrong-size') conflict(before.probe, size);
      const target = apiUrl(key);
      const r = await putFile(target, file, size, headersFor, http);
      const duplicate = r.status === 409 || (r.status === 400 && /duplicate|already exist/i.test(r.text));
      if (r.status === 413) throw new PublishError(redactUrl(target), `HTTP 413: ${size} bytes is over a body limit (a reverse proxy's client_max_body_size, or Gitea's [packages] LIMIT_SIZE_GENERIC)`);
      if (r.status !== 201 && r.status !== 200 && !duplicate) fail(target, r.status, r.text, `PUT (after ${r.attempts} attempt(s))`);
      // After 201 this checks the stored size; after a 409 it checks that what is there is ours.
      const after = await look(key, size);
      if (after.says === 'wrong-size') conflict(after.probe, size);
      if (after.says === 'absent') throw new PublishError(after.probe.url, `HTTP 404 right after the upload answered ${r.status}`);
    },
    publicUrl(key) {
      return `${root}${path(key)}`;
    },
    urlScheme() {
      return `${root}/api/packages/${cfg.owner}/generic/${pkg}/${URL_SCHEME_KEY.sha256}/${URL_SCHEME_KEY.fileName}`;
    },
  };
}
