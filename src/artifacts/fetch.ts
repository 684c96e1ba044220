// Verified artifact downloads. Bytes become visible in the cache only after their sha256 and
// unpacked tree hash both match what Artifacts.toml promised (pkg-internals, implication 15),
// so everything downstream (store upload, patched URLs) can trust a cache hit.

import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Agent, buildConnector, getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici';
import { InputError, IntegrityError, errorMessage, redactUrl } from '../errors.js';
import type { ArtifactDownload } from './parse.js';
import { digestArchive, writeWithBackpressure, type ArchiveDigest } from './treehash.js';

export interface FetchOptions {
  dispatcher?: Dispatcher;
  /** Retries per URL after the first try, for network errors, timeouts, 5xx and 429. Default 3. */
  retries?: number;
  /** First backoff delay; doubles per retry. Default 500. */
  retryBaseMs?: number;
  /** Per request: time to response headers, and longest idle gap in the body. Default 60000. */
  timeoutMs?: number;
  /** Largest accepted download (compressed). Default 8 GiB. */
  maxBytes?: number;
  /** Largest accepted unpacked tar stream; unlimited by default. */
  maxUnpackedBytes?: number;
  /** false: refuse loopback, private, link-local and similar addresses (checked at connect time, redirects included). Default true. */
  allowPrivateAddresses?: boolean;
  userAgent?: string;
  /** Called with the number of bytes just received (a delta; sum it for a total). */
  onProgress?: (bytes: number) => void;
}

export interface UrlAttempt {
  /** redacted */
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  kind?: 'http' | 'network' | 'sha256' | 'tree' | 'tar' | 'size' | 'timeout';
}

export interface FetchResult {
  ok: boolean;
  /** sha256 of the stored file; on failure the first download's sha256 */
  sha256: string;
  size?: number;
  /** path of the verified tarball in the cache */
  file?: string;
  /** redacted URL the bytes came from; absent on a cache hit */
  url?: string;
  attempts: UrlAttempt[];
}

const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;
const RETRY_AFTER_CAP_MS = 30_000;
const MAX_REDIRECTIONS = 5;
const SHA1_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

export function cachedArtifactPath(cacheDir: string, sha256: string): string {
  const h = sha256.toLowerCase();
  if (!SHA256_RE.test(h)) throw new InputError(cacheDir, `"${sha256}" is not a sha256`);
  return join(cacheDir, h.slice(0, 2), h);
}

/**
 * Empties `<cacheDir>/tmp`. Call it only while holding the sync lock: then every file there is
 * the download of a run that was killed, and nothing else would ever remove it.
 */
export async function removeStaleDownloads(cacheDir: string): Promise<void> {
  await rm(join(cacheDir, 'tmp'), { recursive: true, force: true });
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function redactText(s: string): string {
  return s.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1***@');
}

export async function fetchArtifact(
  downloads: ArtifactDownload[],
  treeSha1: string,
  cacheDir: string,
  opts: FetchOptions = {},
): Promise<FetchResult> {
  const tree = treeSha1.toLowerCase();
  if (!SHA1_RE.test(tree)) throw new InputError('Artifacts.toml', `git-tree-sha1 "${treeSha1}" is not 40 hex characters`);
  const wanted = downloads.map((d) => ({ url: d.url, sha256: d.sha256.toLowerCase() }));
  for (const d of wanted) {
    let scheme = '';
    try {
      scheme = new URL(d.url).protocol;
    } catch {
      // reported below
    }
    if (scheme !== 'http:' && scheme !== 'https:') {
      throw new InputError(redactUrl(d.url), 'artifact URLs must be http or https');
    }
    if (!SHA256_RE.test(d.sha256)) throw new InputError(redactUrl(d.url), `sha256 "${d.sha256}" is not 64 hex characters`);
  }

  for (const d of wanted) {
    const file = cachedArtifactPath(cacheDir, d.sha256);
    const size = await fileSize(file);
    if (size !== undefined) return { ok: true, sha256: d.sha256, size, file, attempts: [] };
  }
  if (wanted.length === 0) return { ok: false, sha256: '', attempts: [] };

  await mkdir(join(cacheDir, 'tmp'), { recursive: true });
  const base = opts.dispatcher ?? (opts.allowPrivateAddresses === false ? publicOnlyAgent() : getGlobalDispatcher());
  const dispatcher = base.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
  const retries = opts.retries ?? 3;
  const retryBaseMs = opts.retryBaseMs ?? 500;
  const attempts: UrlAttempt[] = [];
  try {
    for (const d of wanted) {
      for (let i = 0; i <= retries; i++) {
        const r = await tryOnce(d, tree, cacheDir, dispatcher, opts);
        attempts.push(r.attempt);
        if (r.ok) return { ok: true, sha256: d.sha256, size: r.size, file: r.file, url: r.attempt.url, attempts };
        if (!r.retryable || i === retries) break;
        await sleep(r.retryAfterMs ?? retryBaseMs * 2 ** i);
      }
    }
  } finally {
    if (base !== opts.dispatcher && base !== getGlobalDispatcher()) await base.close().catch(() => {});
  }
  return { ok: false, sha256: wanted[0]!.sha256, attempts };
}

interface Outcome {
  ok: boolean;
  attempt: UrlAttempt;
  retryable: boolean;
  retryAfterMs?: number;
  file?: string;
  size?: number;
}

function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const secs = Number(s);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(s) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS);
}

function classify(err: unknown): { kind: UrlAttempt['kind']; retryable: boolean } {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof IntegrityError) return { kind: err.what === 'size' ? 'size' : 'tar', retryable: false };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { kind: 'timeout', retryable: true };
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return { kind: 'size', retryable: true };
  if (code === 'UND_ERR_INVALID_ARG' || code === 'PRIVATE_ADDRESS') return { kind: 'network', retryable: false };
  return { kind: 'network', retryable: true };
}

async function tryOnce(
  d: ArtifactDownload,
  tree: string,
  cacheDir: string,
  dispatcher: Dispatcher,
  opts: FetchOptions,
): Promise<Outcome> {
  const url = redactUrl(d.url);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeout = opts.timeoutMs ?? 60_000;
  const fail = (kind: UrlAttempt['kind'], error: string, retryable: boolean, status?: number, retryAfterMs?: number): Outcome => ({
    ok: false,
    attempt: { url, ok: false, kind, error: redactText(error), ...(status !== undefined ? { status } : {}) },
    retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

  let res: Dispatcher.ResponseData;
  try {
    res = await request(d.url, {
      dispatcher,
      method: 'GET',
      headers: { 'user-agent': opts.userAgent ?? 'julia-airgap', 'accept-encoding': 'identity' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  } catch (err) {
    const c = classify(err);
    return fail(c.kind, errorMessage(err), c.retryable);
  }
  const status = res.statusCode;
  if (status !== 200) {
    await res.body.dump().catch(() => {});
    const retryable = status >= 500 || status === 429;
    return fail('http', `HTTP ${status}`, retryable, status, retryable ? parseRetryAfter(res.headers['retry-after']) : undefined);
  }
  const clHeader = res.headers['content-length'];
  const contentLength = typeof clHeader === 'string' && /^\d+$/.test(clHeader) ? Number(clHeader) : undefined;
  if (contentLength !== undefined && contentLength > maxBytes) {
    await res.body.dump().catch(() => {});
    return fail('size', `Content-Length ${contentLength} exceeds the limit of ${maxBytes} bytes`, false, status);
  }

  const tmp = join(cacheDir, 'tmp', randomBytes(12).toString('hex'));
  let fh: FileHandle | undefined;
  let stored = false;
  const toDigest = new PassThrough({ highWaterMark: 1 << 20 });
  let digestErr: unknown;
  const digestP: Promise<ArchiveDigest | undefined> = digestArchive(toDigest, url, {
    maxBytes,
    ...(opts.maxUnpackedBytes !== undefined ? { maxUnpackedBytes: opts.maxUnpackedBytes } : {}),
  }).catch((err: unknown) => {
    digestErr = err;
    toDigest.destroy();
    return undefined;
  });
  try {
    fh = await open(tmp, 'wx', 0o644);
    const sha256 = createHash('sha256');
    let size = 0;
    let bodyErr: unknown;
    try {
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > maxBytes) throw new IntegrityError(url, 'size', `download exceeds the limit of ${maxBytes} bytes`);
        sha256.update(b);
        await fh.write(b);
        opts.onProgress?.(b.length);
        // A refused archive stops being parsed, but hashing continues so a wrong-bytes download
        // is reported as a sha256 mismatch rather than as whatever the parser tripped on.
        if (digestErr === undefined && !toDigest.destroyed) await writeWithBackpressure(toDigest, b).catch(() => {});
      }
    } catch (err) {
      bodyErr = err;
      res.body.destroy();
    }
    if (bodyErr !== undefined) {
      toDigest.destroy();
      await digestP;
      const c = classify(bodyErr);
      if (c.kind === 'network' && contentLength !== undefined && size < contentLength) {
        return fail('size', `truncated: ${size} of ${contentLength} bytes (${errorMessage(bodyErr)})`, true, status);
      }
      return fail(c.kind, errorMessage(bodyErr), c.retryable, status);
    }
    toDigest.end();
    const digest = await digestP;
    if (contentLength !== undefined && size !== contentLength) {
      return fail('size', `body has ${size} bytes, Content-Length said ${contentLength}`, true, status);
    }
    const got = sha256.digest('hex');
    if (got !== d.sha256) return fail('sha256', `sha256 mismatch: expected ${d.sha256}, got ${got} (${size} bytes)`, false, status);
    if (digest === undefined) {
      const c = classify(digestErr);
      return fail(c.kind, errorMessage(digestErr), false, status);
    }
    if (digest.treeSha1 !== tree) {
      return fail('tree', `git-tree-sha1 mismatch: expected ${tree}, unpacked content hashes to ${digest.treeSha1}`, false, status);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    const dest = cachedArtifactPath(cacheDir, d.sha256);
    await mkdir(join(cacheDir, d.sha256.slice(0, 2)), { recursive: true });
    await rename(tmp, dest);
    stored = true;
    await syncDir(join(cacheDir, d.sha256.slice(0, 2)));
    return { ok: true, attempt: { url, ok: true, status }, retryable: false, file: dest, size };
  } finally {
    toDigest.destroy();
    await digestP;
    if (fh !== undefined) await fh.close().catch(() => {});
    if (!stored) await unlink(tmp).catch(() => {});
  }
}

/** Makes the rename durable; not every filesystem allows opening a directory, hence best effort. */
async function syncDir(dir: string): Promise<void> {
  let h: FileHandle | undefined;
  try {
    h = await open(dir, 'r');
    await h.sync();
  } catch {
    // best effort
  } finally {
    await h?.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Refusing private addresses. Checked where the socket is opened, on the address actually
// dialled, so neither redirects nor DNS answers that change between check and connect get past it.

const BLOCKED = (() => {
  const b = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
    ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3],
  ] as const) b.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) b.addSubnet(net, prefix, 'ipv6');
  return b;
})();

export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return BLOCKED.check(ip, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
    return BLOCKED.check(ip, 'ipv6');
  }
  return true;
}

function publicOnlyAgent(): Agent {
  const connector = buildConnector({});
  return new Agent({
    connect: (options, callback) => {
      const host = options.hostname.replace(/^\[|\]$/g, '');
      const refuse = (ip: string): void => {
        const err = Object.assign(new Error(`${host} resolves to ${ip}, a private or local address (allowPrivateAddresses is false)`), {
          code: 'PRIVATE_ADDRESS',
        });
        callback(err, null);
      };
      const dial = (ip: string): void => {
        if (isPrivateAddress(ip)) return refuse(ip);
        connector({ ...options, hostname: ip, servername: options.servername ?? (isIP(host) ? undefined : host) } as typeof options, callback);
      };
      if (isIP(host)) return dial(host);
      lookup(host).then(
        (a) => dial(a.address),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
      );
    },
  });
}
