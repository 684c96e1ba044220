// HTTP plumbing shared by the remote artifact stores: a streaming PUT that retries with a fresh
// file stream per attempt (undici cannot replay a stream body), a probe that reads a remote
// file's size without downloading it, and a bounded retry loop that honours Retry-After.
// Credentials travel only in the headers a store hands in per URL; they never enter a message.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { getGlobalDispatcher, request, type Dispatcher } from 'undici';
import { PublishError, errorMessage, redactUrl } from '../errors.js';

export interface HttpOptions {
  dispatcher?: Dispatcher;
  /** Retries after the first try, on network errors, 5xx and 429. Default 3. */
  retries?: number;
  /** First backoff delay; doubles per retry. Default 500. */
  retryBaseMs?: number;
  /** Idle limit per request, for headers and body alike. Default 120000. */
  timeoutMs?: number;
  /** Longest Retry-After honoured; longer values are clamped. Default 60000. */
  maxRetryAfterMs?: number;
  /** How to wait between attempts; replaceable so tests can observe delays without sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** Values to blank out of any server text quoted in a message (tokens, passwords). */
  secrets?: readonly string[];
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The start of the response body, as text, with secrets blanked out. */
  text: string;
  /** How many requests this took, retries included. */
  attempts: number;
}

/** Headers to send to a given URL: stores scope credentials by origin, so a redirect elsewhere gets none. */
export type HeadersFor = (url: string) => Record<string, string>;

const MAX_TEXT = 2048;
const MAX_REDIRECTS = 5;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

export function parseRetryAfter(v: string | string[] | undefined, capMs: number): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const secs = Number(s);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(s) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), capMs);
}

const retryableStatus = (status: number) => status >= 500 || status === 429;

async function readText(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length >= MAX_TEXT) break;
    }
  } finally {
    body.destroy();
  }
  return text.slice(0, MAX_TEXT);
}

/**
 * Runs `once` until it gives a non-retryable answer or the retries run out. A network error on
 * the last attempt becomes a PublishError naming the (redacted) URL; a retryable status on the
 * last attempt is returned for the caller to judge.
 */
async function withRetries(url: string, what: string, opts: HttpOptions, once: () => Promise<Dispatcher.ResponseData>): Promise<Reply> {
  const retries = opts.retries ?? 3;
  const base = opts.retryBaseMs ?? 500;
  const sleep = opts.sleep ?? defaultSleep;
  const cap = opts.maxRetryAfterMs ?? 60_000;
  for (let i = 0; ; i++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await once();
    } catch (err) {
      if (isLocalFileError(err)) throw new PublishError(redactUrl(url), `${what}: cannot read the local file: ${errorMessage(err)}`, { cause: err });
      if (i >= retries) {
        throw new PublishError(redactUrl(url), `${what} failed after ${i + 1} attempts: ${scrubText(errorMessage(err), opts.secrets)}`, { cause: err });
      }
      await sleep(base * 2 ** i);
      continue;
    }
    const text = scrubText(await readText(res.body), opts.secrets);
    if (!retryableStatus(res.statusCode) || i >= retries) return { status: res.statusCode, headers: res.headers, text, attempts: i + 1 };
    await sleep(parseRetryAfter(res.headers['retry-after'], cap) ?? base * 2 ** i);
  }
}

function isLocalFileError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  return typeof e?.syscall === 'string' && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR');
}

/**
 * PUTs a local file with its Content-Length, streaming it from disk. Every attempt opens the file
 * afresh, so a retry after a server error sends the whole file again, from the first byte.
 */
export async function putFile(url: string, file: string, size: number, headersFor: HeadersFor, opts: HttpOptions = {}): Promise<Reply> {
  let actual: number;
  try {
    actual = (await stat(file)).size;
  } catch (err) {
    throw new PublishError(file, `cannot read the artifact to upload: ${errorMessage(err)}`, { cause: err });
  }
  if (actual !== size) throw new PublishError(file, `is ${actual} bytes, expected ${size}; refusing to upload`);
  const timeout = opts.timeoutMs ?? 120_000;
  return withRetries(url, 'upload', opts, () =>
    request(url, {
      dispatcher: opts.dispatcher ?? getGlobalDispatcher(),
      method: 'PUT',
      body: createReadStream(file),
      headers: { ...headersFor(url), 'content-type': 'application/octet-stream', 'content-length': String(size), 'user-agent': 'julia-airgap' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    }),
  );
}

/** A bodiless request (DELETE, or anything whose answer is only a status), with retries. */
export async function send(method: 'GET' | 'HEAD' | 'DELETE', url: string, headersFor: HeadersFor, opts: HttpOptions = {}): Promise<Reply> {
  const timeout = opts.timeoutMs ?? 120_000;
  return withRetries(url, method, opts, () =>
    request(url, {
      dispatcher: opts.dispatcher ?? getGlobalDispatcher(),
      method,
      headers: { ...headersFor(url), 'user-agent': 'julia-airgap' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    }),
  );
}

export interface Probe {
  /** status of the final answer, after redirects */
  status: number;
  /** the file's full size when the server said it */
  size?: number;
  /** the URL that answered (redacted), for messages */
  url: string;
  text: string;
}

/**
 * Asks for a remote file's size without downloading it. HEAD suits plain servers; GET with
 * `Range: bytes=0-0` suits forges, whose downloads may redirect to storage URLs presigned for GET
 * only. Redirects are followed by hand so credentials are re-chosen for each origin.
 */
export async function probeSize(method: 'HEAD' | 'GET', url: string, headersFor: HeadersFor, opts: HttpOptions = {}): Promise<Probe> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const extra: Record<string, string> = method === 'GET' ? { range: 'bytes=0-0' } : {};
    const reply = await send(method, current, (u) => ({ ...headersFor(u), ...extra }), opts);
    const location = reply.headers.location;
    if (reply.status >= 300 && reply.status < 400 && typeof location === 'string' && hop < MAX_REDIRECTS) {
      current = new URL(location, current).toString();
      continue;
    }
    return { status: reply.status, size: sizeFrom(reply), url: redactUrl(current), text: reply.text };
  }
}

function sizeFrom(reply: Reply): number | undefined {
  if (reply.status === 206) {
    const m = /\/(\d+)\s*$/.exec(String(reply.headers['content-range'] ?? ''));
    return m ? Number(m[1]) : undefined;
  }
  const cl = reply.headers['content-length'];
  return typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined;
}

/** Present iff the server has it with the expected size (when one is given). */
export function probeSays(p: Probe, expectedSize: number | undefined): 'present' | 'absent' | 'wrong-size' | 'error' {
  if (p.status === 404 || p.status === 410) return 'absent';
  if (p.status !== 200 && p.status !== 206) return 'error';
  if (expectedSize !== undefined && p.size !== undefined && p.size !== expectedSize) return 'wrong-size';
  return 'present';
}

/** True when two URLs share scheme, host and port: the scope of a credential. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
