// A small JSON client for forge REST APIs (Gitea/Forgejo `/api/v1`, GitLab `/api/v4`). One job:
// send a request with the token header, retry what the forge says is temporary (429 with
// Retry-After, 5xx, network errors) a bounded number of times, and turn everything else into an
// error that names the repo, the HTTP status and the forge's own message.

import { request, type Dispatcher } from 'undici';
import { AuthError, PublishError, errorMessage } from '../errors.js';

export interface ForgeApiOptions {
  /** "gitea" or "gitlab", for messages */
  kind: string;
  /** API base without trailing slash, e.g. https://git.internal/api/v1 */
  baseUrl: string;
  /** the token header: never logged, never part of a message */
  authHeader: { name: string; value: string };
  /** retries of 429/5xx/network errors per request (default 4) */
  retries?: number;
  /** cap on one wait, whatever Retry-After asks (default 60 s) */
  maxWaitMs?: number;
  /** first backoff when the forge gives no Retry-After (default 500 ms, doubling) */
  baseDelayMs?: number;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** What both forge hosts take besides their own location keys. */
export interface ForgeHostOptions extends Pick<ForgeApiOptions, 'retries' | 'maxWaitMs' | 'baseDelayMs' | 'dispatcher'> {
  /** the forge's root URL as developers see it */
  url: string;
  apiUrl?: string;
  token: string;
  visibility: string;
  warn: (msg: string) => void;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface CallOptions {
  /** the repo or namespace this call is about, named in every error */
  what: string;
  body?: unknown;
  /** non-2xx statuses the caller handles itself (e.g. 404 "missing", 409 "already exists") */
  ok?: number[];
}

export interface ForgeApi {
  call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: CallOptions): Promise<ApiResponse<T>>;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** The human part of a forge error body: Gitea `{message}`, GitLab `{message}` (string or field map) or `{error}`. */
export function forgeMessage(body: unknown, raw: string): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown; error_description?: unknown };
    const m = b.message ?? b.error_description ?? b.error;
    if (typeof m === 'string' && m !== '') return m;
    if (m && typeof m === 'object') {
      // GitLab validation errors: {"path": ["has already been taken"]}
      return Object.entries(m as Record<string, unknown>)
        .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`)
        .join('; ');
    }
  }
  const text = raw.trim().replace(/\s+/g, ' ');
  return text === '' ? '(no message)' : text.slice(0, 300);
}

/** Milliseconds to wait as a Retry-After header asks (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makeForgeApi(opts: ForgeApiOptions): ForgeApi {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const retries = opts.retries ?? 4;
  const maxWait = opts.maxWaitMs ?? 60_000;
  const baseDelay = opts.baseDelayMs ?? 500;
  const secret = opts.authHeader.value;
  const clean = (s: string) => (secret.length >= 4 ? s.split(secret).join('***') : s);
  // After one refused token every later call fails without a request: GitLab bans an address
  // after repeated failed logins, and the first refusal already says all there is to say.
  let refused: AuthError | undefined;
  // The first request goes alone, so a wrong token costs one failed login, not one per worker.
  let firstDone: Promise<unknown> | undefined;

  const once = async <T>(method: string, path: string, o: CallOptions): Promise<ApiResponse<T>> => {
    const url = `${base}${path}`;
    const where = `${opts.kind} ${o.what}`;
    for (let attempt = 0; ; attempt++) {
      let status: number;
      let raw: string;
      let retryAfter: string | string[] | undefined;
      try {
        const res = await request(url, {
          method: method as Dispatcher.HttpMethod,
          headers: {
            [opts.authHeader.name]: opts.authHeader.value,
            accept: 'application/json',
            'user-agent': 'julia-airgap',
            ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
          dispatcher: opts.dispatcher,
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
        });
        status = res.statusCode;
        retryAfter = res.headers['retry-after'];
        raw = await res.body.text();
      } catch (err) {
        if (attempt < retries) {
          await sleep(Math.min(maxWait, baseDelay * 2 ** attempt));
          continue;
        }
        throw new PublishError(where, `${method} ${path} failed: ${clean(errorMessage(err))}`);
      }
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      if (status >= 200 && status < 300) return { status, body: body as T };
      if ((o.ok ?? []).includes(status)) return { status, body: body as T };
      const msg = clean(forgeMessage(body, raw));
      if (status === 401 || status === 403) {
        refused = new AuthError(
          where,
          status,
          `${method} ${path}: HTTP ${status}: ${msg}. The ${opts.kind} token was refused; stopping here so the address is not ` +
            'banned for repeated failed logins. Check the token named by git.token_env and its scopes.',
        );
        throw refused;
      }
      if (RETRYABLE.has(status) && attempt < retries) {
        await sleep(Math.min(maxWait, retryAfterMs(retryAfter) ?? baseDelay * 2 ** attempt));
        continue;
      }
      const tries = attempt > 0 ? ` (after ${attempt + 1} attempts)` : '';
      throw new PublishError(where, `${method} ${path}: HTTP ${status}${tries}: ${msg}`);
    }
  };

  return {
    async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, o: CallOptions) {
      if (refused) throw refused;
      if (firstDone === undefined) {
        const p = once<T>(method, path, o);
        firstDone = p.catch(() => undefined);
        return p;
      }
      await firstDone;
      if (refused) throw refused;
      return once<T>(method, path, o);
    },
  };
}

/** Path segment encoding for forge URLs; GitLab wants `/` inside a full path as %2F too. */
export const seg = (s: string) => encodeURIComponent(s);
