// Typed errors. Every error names the thing at fault (file, package, URL, repo) so an
// administrator can act on the message alone. Messages never contain secrets: callers pass
// URLs through `redactUrl` before building one.

export class AirgapError extends Error {
  /** Short machine-readable kind, used in --json output and the ledger. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** airgap.toml is malformed or has an unknown/missing/wrongly typed key. */
export class ConfigError extends AirgapError {
  constructor(readonly file: string, readonly key: string | undefined, message: string) {
    super('config', `${file}${key ? ` [${key}]` : ''}: ${message}`);
  }
}

/** A data file (registry, Manifest, Artifacts.toml) is malformed or hostile. */
export class InputError extends AirgapError {
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super('input', `${file}: ${message}`, options);
  }
}

/** A package name, UUID or version that cannot be selected. */
export class SelectionError extends AirgapError {
  constructor(message: string) {
    super('selection', message);
  }
}

/** A git command failed. `repo` is the repository directory or URL (redacted). */
export class GitError extends AirgapError {
  constructor(
    readonly repo: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    super('git', `git ${args.slice(0, 2).join(' ')} failed for ${repo} (exit ${exitCode}): ${tail}`);
  }
}

/** An HTTP request failed with a status or a network error. */
export class HttpError extends AirgapError {
  constructor(readonly url: string, readonly status: number | undefined, message: string, options?: { cause?: unknown }) {
    super('http', `${url}: ${message}`, options);
  }
}

/** Downloaded bytes did not match the hash the registry or Artifacts.toml promised. */
export class IntegrityError extends AirgapError {
  constructor(readonly url: string, readonly what: 'sha256' | 'git-tree-sha1' | 'size' | 'tar', message: string) {
    super('integrity', `${url}: ${message}`);
  }
}

/** Another sync holds the lock. */
export class LockError extends AirgapError {
  constructor(readonly lockFile: string, message: string) {
    super('lock', `${lockFile}: ${message}`);
  }
}

/** A publish target (git host, artifact store) refused or failed. */
export class PublishError extends AirgapError {
  constructor(readonly target: string, message: string, options?: { cause?: unknown }) {
    super('publish', `${target}: ${message}`, options);
  }
}

/**
 * A forge refused our credentials (HTTP 401/403). Fatal for the whole run: retrying with the same
 * token only adds failed logins, and GitLab bans an address after repeated ones.
 */
export class AuthError extends AirgapError {
  constructor(readonly target: string, readonly status: number, message: string) {
    super('auth', `${target}: ${message}`);
  }
}

/** Removes userinfo (user:password@) and token-like query parameters from a URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    for (const k of [...u.searchParams.keys()]) {
      if (/token|key|secret|password|sig/i.test(k)) u.searchParams.set(k, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
