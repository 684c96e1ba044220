// Any server that takes a plain HTTP PUT and serves the file back with GET: nginx's DAV module,
// Apache mod_dav, Artifactory or Nexus raw repositories. Files go to
// `<upload_url>/<sha256>/<file>` and are read back (and patched into Artifacts.toml) as
// `<url>/<sha256>/<file>`; the two bases may differ (an authenticated upload vhost, a public
// read-only one) but must serve the same files.

import type { ArtifactsConfig } from '../config.js';
import { ConfigError, PublishError, redactUrl } from '../errors.js';
import { authHint, authLatch, credentialName, tokenFromEnv } from './auth.js';
import { artifactRelPath } from './dir.js';
import { loadNetrc, netrcFor, type Netrc } from './netrc.js';
import { URL_SCHEME_KEY, type ArtifactKey, type ArtifactStore } from './store.js';
import { probeSays, probeSize, putFile, sameOrigin, type HeadersFor, type HttpOptions, type Probe } from './upload.js';

export interface RemoteStoreOptions extends HttpOptions {
  env?: NodeJS.ProcessEnv;
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

/** `user:password` means Basic (htpasswd, Artifactory, Nexus); anything else is a bearer token. */
export function tokenHeader(token: string): string {
  return /^[^:\s]+:\S+$/.test(token) ? basic(token) : `Bearer ${token}`;
}

export function checkHttpUrl(url: string, configFile: string, key: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new ConfigError(configFile, key, `"${redactUrl(url)}" must be an http:// or https:// URL`);
  if (/\/\/[^/]*@/.test(url)) throw new ConfigError(configFile, key, 'must not contain credentials; use token_env or netrc');
  return url.replace(/\/+$/, '');
}

export function httpStore(cfg: ArtifactsConfig, configFile: string, opts: RemoteStoreOptions = {}): ArtifactStore {
  const env = opts.env ?? process.env;
  const base = checkHttpUrl(cfg.url, configFile, 'artifacts.url');
  const uploadBase = checkHttpUrl(cfg.uploadUrl ?? cfg.url, configFile, 'artifacts.upload_url');
  if (cfg.tokenEnv && cfg.netrc) throw new ConfigError(configFile, 'artifacts.netrc', 'set either token_env or netrc = true, not both');
  const token = tokenFromEnv(cfg, env, configFile, false);
  let netrc: Netrc | undefined;
  if (cfg.netrc) {
    netrc = loadNetrc(env, configFile);
    if (!netrcFor(netrc, uploadBase)) {
      throw new ConfigError(configFile, 'artifacts.netrc', `${netrc.file} has no "machine ${new URL(uploadBase).hostname}" (or default) entry`);
    }
  }
  // A token goes only to the upload origin; netrc entries are per host by design.
  const headersFor: HeadersFor = (url): Record<string, string> => {
    if (token) return sameOrigin(url, uploadBase) ? { authorization: tokenHeader(token) } : {};
    const e = netrc && netrcFor(netrc, url);
    return e ? { authorization: basic(`${e.login}:${e.password}`) } : {};
  };
  const secrets = [token, ...(netrc ? [...netrc.machines.values(), netrc.fallback].flatMap((e) => (e ? [e.password] : [])) : [])].filter(
    (s): s is string => Boolean(s),
  );
  const http: HttpOptions = { ...opts, secrets: [...(opts.secrets ?? []), ...secrets] };
  const latch = authLatch();
  const who = credentialName(token ? cfg.tokenEnv : undefined, netrc?.file);

  const publicUrl = (key: ArtifactKey) => `${base}/${artifactRelPath(key)}`;
  const uploadUrl = (key: ArtifactKey) => `${uploadBase}/${artifactRelPath(key)}`;

  const refuse = (p: Probe, what: string): never => {
    const msg = p.status === 401 || p.status === 403
      ? authHint(p.status, who, 'read access (clients reading this URL need it too)')
      : `HTTP ${p.status} on ${what}${p.text ? `: ${firstLine(p.text)}` : ''}`;
    const err = new PublishError(p.url, msg);
    if (p.status === 401) latch.trip(err);
    throw err;
  };

  const look = async (key: ArtifactKey, size: number | undefined) => {
    latch.check();
    const p = await probeSize('HEAD', publicUrl(key), headersFor, http);
    const says = probeSays(p, size);
    if (says === 'error') refuse(p, 'HEAD');
    return { probe: p, says };
  };

  return {
    kind: 'http',
    async has(key, size) {
      return (await look(key, size)).says === 'present';
    },
    async put(file, key, size) {
      if ((await look(key, size)).says === 'present') return;
      const target = uploadUrl(key);
      const r = await putFile(target, file, size, headersFor, http);
      if (r.status === 401) latch.trip(new PublishError(redactUrl(target), authHint(401, who, 'write access (PUT)')));
      if (r.status === 403) throw new PublishError(redactUrl(target), authHint(403, who, 'write access (PUT)'));
      if (r.status === 413) throw new PublishError(redactUrl(target), `HTTP 413: the server refuses ${size} bytes; raise its body limit (nginx: client_max_body_size 0)`);
      if (r.status !== 200 && r.status !== 201 && r.status !== 204) {
        throw new PublishError(redactUrl(target), `PUT answered HTTP ${r.status} after ${r.attempts} attempt(s)${r.text ? `: ${firstLine(r.text)}` : ''}`);
      }
      const after = await look(key, size);
      if (after.says === 'absent') {
        throw new PublishError(after.probe.url, `HTTP ${after.probe.status} right after a successful PUT to ${redactUrl(target)}: url and upload_url must serve the same files`);
      }
      if (after.says === 'wrong-size') throw new PublishError(after.probe.url, `size ${after.probe.size} after upload, expected ${size}`);
    },
    publicUrl,
    urlScheme() {
      return `${base}/${URL_SCHEME_KEY.sha256}/${URL_SCHEME_KEY.fileName}`;
    },
  };
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0]!.slice(0, 200);
}
