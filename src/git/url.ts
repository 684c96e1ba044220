// Remote URLs come from data (Package.toml `repo`, airgap.toml), so they are checked before git
// ever sees them, and mapped to stable repo names for the internal host.

import { createHash } from 'node:crypto';
import { InputError, redactUrl } from '../errors.js';

const ALLOWED_SCHEMES = new Set(['https', 'http', 'ssh', 'git']);

type Parsed =
  | { kind: 'url'; scheme: string; userinfo?: string; host: string; path: string; suffix: string }
  | { kind: 'scp'; user?: string; host: string; path: string }
  | { kind: 'local'; path: string };

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
// git treats `[user@]host:path` as ssh when the colon comes before any slash.
const SCP_RE = /^(?:([^@/:]+)@)?([^@/:]+):(.*)$/s;

function parse(url: string): Parsed | undefined {
  const m = SCHEME_RE.exec(url);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    const rest = m[2]!;
    const authEnd = rest.search(/[/?#]/);
    const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
    const tail = authEnd < 0 ? '' : rest.slice(authEnd);
    const at = authority.lastIndexOf('@');
    const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
    const host = at >= 0 ? authority.slice(at + 1) : authority;
    const q = tail.search(/[?#]/);
    return {
      kind: 'url',
      scheme,
      userinfo,
      host,
      path: q < 0 ? tail : tail.slice(0, q),
      suffix: q < 0 ? '' : tail.slice(q),
    };
  }
  if (url.startsWith('/')) return { kind: 'local', path: url };
  const s = SCP_RE.exec(url);
  if (s) return { kind: 'scp', user: s[1], host: s[2]!, path: s[3]! };
  return undefined;
}

const SECRET_PARAM = /token|key|secret|password|sig/i;

/**
 * True when the URL carries a secret: a password (or any user for a non-ssh scheme) in its
 * userinfo, `user:pw@host:path`, or a token-like query parameter. Such a URL is refused before
 * any fetch, so only its redacted form is ever needed, and it must be the only one kept.
 */
export function hasEmbeddedCredentials(url: string): boolean {
  const p = parse(url);
  if (p?.kind === 'url') {
    if (p.userinfo !== undefined && (p.scheme !== 'ssh' || p.userinfo.includes(':'))) return true;
    const q = p.suffix.startsWith('?') ? p.suffix.slice(1).split('#')[0]! : '';
    return q.split('&').some((kv) => SECRET_PARAM.test(kv.split('=')[0]!));
  }
  return p?.kind === 'scp' && /^[^/@]*:[^/@]*@/.test(url);
}

/** redactUrl, plus the `user:pw@host:path` form that WHATWG URL parsing does not see as userinfo. */
export function redactRepoUrl(url: string): string {
  return parse(url)?.kind === 'scp' ? url.replace(/^([^/@:]*):[^/@]*@/, '$1:***@') : redactUrl(url);
}

/**
 * Refuses URLs git must not be handed: option injection, `<transport>::` helpers (ext:: runs
 * commands), unexpected schemes, embedded credentials, and local paths unless allowed.
 */
export function validateRemoteUrl(url: string, opts: { allowFile?: boolean } = {}): void {
  const shown = redactRepoUrl(url.replace(/[\x00-\x1f\x7f]/g, '?'));
  const fail = (msg: string): never => {
    throw new InputError(shown, msg);
  };
  if (url.length === 0) fail('empty repository URL');
  if (/[\x00-\x20\x7f]/.test(url)) fail('repository URL contains whitespace or control characters');
  if (url.startsWith('-')) fail('repository URL must not start with "-"');
  if (/^[^/]*::/.test(url)) fail('git "<transport>::" URLs are not allowed (ext:: and friends run commands)');
  const p = parse(url);
  if (!p) fail('not a git URL: expected https://, http://, ssh://, git:// or user@host:path');
  const parsed = p!;
  const credMsg = 'credentials embedded in the URL are not allowed: put the token in an environment variable and name it with token_env';
  switch (parsed.kind) {
    case 'url': {
      if (parsed.scheme === 'file') {
        if (!opts.allowFile) fail('file:// URLs are only allowed for local test upstreams');
        if (parsed.host !== '' && parsed.host !== 'localhost') fail('file:// URL must name a local path');
        if (!parsed.path.startsWith('/')) fail('file:// URL must name an absolute path');
        return;
      }
      if (!ALLOWED_SCHEMES.has(parsed.scheme)) fail(`URL scheme "${parsed.scheme}" is not allowed (use https, http, ssh or git)`);
      if (parsed.host === '' || parsed.host.startsWith(':')) fail('URL has no host');
      if (parsed.host.startsWith('-')) fail('URL host must not start with "-"');
      if (hasEmbeddedCredentials(url)) fail(credMsg);
      if (parsed.userinfo !== undefined && (parsed.userinfo === '' || parsed.userinfo.startsWith('-'))) fail('bad user name in ssh URL');
      return;
    }
    case 'local':
      if (!opts.allowFile) fail('local paths are only allowed for local test upstreams');
      return;
    case 'scp':
      // `user:pw@host:path` parses as host "user"; refuse it as the credential it is.
      if (/^[^/@]*:[^/@]*@/.test(url)) fail(credMsg);
      if (parsed.host.startsWith('-') || parsed.user?.startsWith('-')) fail('ssh host or user must not start with "-"');
      if (parsed.path === '') fail('ssh URL has no path');
      return;
  }
}

function isGithub(host: string): boolean {
  return host === 'github.com';
}

function normPath(path: string, lower: boolean): string {
  let p = path.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  p = p.replace(/\.git$/i, '').replace(/\/+$/, '');
  return lower ? p.toLowerCase() : p;
}

/**
 * Identity key for "the same upstream repository": scheme and host lower-cased, GitHub paths
 * lower-cased (GitHub is case-insensitive), duplicate slashes, trailing `/` and `.git` removed.
 */
export function normalizeRepoUrl(url: string): string {
  const p = parse(url);
  if (!p) return normPath(url, false);
  switch (p.kind) {
    case 'url': {
      const host = p.host.toLowerCase();
      const user = p.userinfo !== undefined ? `${p.userinfo}@` : '';
      return `${p.scheme}://${user}${host}${normPath(p.path, isGithub(host))}${p.suffix}`;
    }
    case 'scp': {
      const host = p.host.toLowerCase();
      const user = p.user !== undefined ? `${p.user}@` : '';
      return `${user}${host}:${normPath(p.path, isGithub(host))}`;
    }
    case 'local':
      return normPath(p.path, false);
  }
}

// Gitea caps repo names at 100 characters; leave room for the hash suffix.
const MAX_NAME = 100;
const TRUNCATE_TO = 80;

function sanitizeSegment(seg: string): string {
  let s = seg.toLowerCase().replace(/[^a-z0-9._-]/g, '_').replace(/-{2,}/g, '-');
  s = s.replace(/^[-.]/, '_').replace(/-$/, '_');
  return s === '' ? '_' : s;
}

function shortHash(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex').slice(0, 10);
}

/**
 * The internal repository name for an upstream URL: `owner--repo` for GitHub,
 * `host--group--…--repo` elsewhere, lower-case. A name that needed any change beyond
 * lower-casing (or is not a plain https URL) gets `---<sha256 prefix of the normalised URL>`;
 * since `---` never occurs in a plain name, distinct normalised URLs get distinct names.
 *
 * Caveat: outside GitHub, URLs that differ only in path case map to the same plain name.
 */
export function repoNameFor(url: string): string {
  const normalized = normalizeRepoUrl(url);
  const p = parse(normalized);
  const hash = shortHash(normalized);
  let segments: string[];
  let plain: boolean;
  if (!p || p.kind === 'local' || (p.kind === 'url' && p.scheme === 'file')) {
    const path = p?.kind === 'url' ? p.path : normalized;
    segments = ['local', ...path.split('/').filter((s) => s !== '').slice(-2)];
    plain = false;
  } else {
    const host = p.host.toLowerCase();
    const pathSegs = p.path.split('/').filter((s) => s !== '');
    if (isGithub(host)) {
      segments = pathSegs;
      // An owner with a dot could mimic another host's prefix; GitHub owners never have one.
      plain = pathSegs.length === 2 && !pathSegs[0]!.includes('.');
    } else {
      segments = [host, ...pathSegs];
      // A dotless host could mimic a GitHub owner.
      plain = host.includes('.');
    }
    if (p.kind === 'scp' || p.scheme !== 'https' || p.userinfo !== undefined || p.suffix !== '') plain = false;
  }
  if (segments.length === 0) segments = ['_'];
  const clean = segments.map(sanitizeSegment);
  if (clean.some((s, i) => s !== segments[i]!.toLowerCase())) plain = false;
  let name = clean.join('--');
  if (plain && name.length <= MAX_NAME) return name;
  if (name.length > TRUNCATE_TO) name = name.slice(0, TRUNCATE_TO).replace(/-+$/, '');
  return `${name}---${hash}`;
}
