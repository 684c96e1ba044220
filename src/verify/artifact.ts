// One artifact URL from the client's side: GET it and check what Pkg checks after a download
// (sha256 of the bytes, git tree hash of the unpacked content), in one streaming pass with
// nothing written to disk; or, quick, a HEAD that must answer 200 with a Content-Length.

import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici';
import { digestArchive, writeWithBackpressure, type ArchiveDigest } from '../artifacts/treehash.js';
import { errorMessage, IntegrityError, redactUrl } from '../errors.js';

export interface ArtifactTarget {
  url: string;
  sha256: string;
  treeSha1: string;
}

export interface ArtifactCheckOptions {
  quick: boolean;
  dispatcher: Dispatcher;
  timeoutMs: number;
  maxBytes: number;
  /** extra attempts after network errors, 5xx and 429 */
  retries: number;
  retryBaseMs?: number;
}

export interface ArtifactCheck {
  ok: boolean;
  /** bytes verified (quick: the announced Content-Length) */
  bytes: number;
  error?: string;
}

interface Attempt extends ArtifactCheck {
  retryable: boolean;
}

// Downloads.jl, which Pkg uses, follows redirects; a store behind a CDN may rely on that.
export function clientDispatcher(base: Dispatcher = getGlobalDispatcher()): Dispatcher {
  return base.compose(interceptors.redirect({ maxRedirections: 5 }));
}

export async function checkArtifact(t: ArtifactTarget, opts: ArtifactCheckOptions): Promise<ArtifactCheck> {
  for (let i = 0; ; i++) {
    const r = opts.quick ? await headOnce(t, opts) : await getOnce(t, opts);
    if (r.ok || !r.retryable || i >= opts.retries) return { ok: r.ok, bytes: r.bytes, ...(r.error !== undefined ? { error: r.error } : {}) };
    await new Promise((resolve) => setTimeout(resolve, (opts.retryBaseMs ?? 500) * 2 ** i));
  }
}

function failed(error: string, retryable: boolean): Attempt {
  return { ok: false, bytes: 0, error, retryable };
}

function contentLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = headers['content-length'];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function send(t: ArtifactTarget, method: 'GET' | 'HEAD', opts: ArtifactCheckOptions): Promise<Dispatcher.ResponseData | Attempt> {
  try {
    return await request(t.url, {
      dispatcher: opts.dispatcher,
      method,
      headers: { 'user-agent': 'julia-airgap-verify', 'accept-encoding': 'identity' },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  } catch (err) {
    return failed(errorMessage(err), true);
  }
}

function badStatus(status: number): Attempt {
  return failed(`HTTP ${status}`, status >= 500 || status === 429);
}

async function headOnce(t: ArtifactTarget, opts: ArtifactCheckOptions): Promise<Attempt> {
  const res = await send(t, 'HEAD', opts);
  if (!('statusCode' in res)) return res;
  await res.body.dump().catch(() => undefined);
  if (res.statusCode !== 200) return badStatus(res.statusCode);
  const length = contentLength(res.headers);
  if (length === undefined) return failed('HEAD answered 200 without a Content-Length', false);
  return { ok: true, bytes: length, retryable: false };
}

async function getOnce(t: ArtifactTarget, opts: ArtifactCheckOptions): Promise<Attempt> {
  const shown = redactUrl(t.url);
  const res = await send(t, 'GET', opts);
  if (!('statusCode' in res)) return res;
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    return badStatus(res.statusCode);
  }
  const announced = contentLength(res.headers);
  const sha256 = createHash('sha256');
  let size = 0;
  const toDigest = new PassThrough({ highWaterMark: 1 << 20 });
  let digestErr: unknown;
  const digestP: Promise<ArchiveDigest | undefined> = digestArchive(toDigest, shown, { maxBytes: opts.maxBytes }).catch((err: unknown) => {
    digestErr = err;
    toDigest.destroy();
    return undefined;
  });
  try {
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > opts.maxBytes) throw new IntegrityError(shown, 'size', `larger than the limit of ${opts.maxBytes} bytes`);
      sha256.update(b);
      // An archive the parser refused still gets hashed to the end, so wrong bytes are
      // reported as a sha256 mismatch rather than as whatever the parser tripped on.
      if (digestErr === undefined && !toDigest.destroyed) await writeWithBackpressure(toDigest, b).catch(() => undefined);
    }
  } catch (err) {
    res.body.destroy();
    toDigest.destroy();
    await digestP;
    return failed(errorMessage(err), !(err instanceof IntegrityError));
  }
  toDigest.end();
  const digest = await digestP;
  if (announced !== undefined && size !== announced) return failed(`body has ${size} bytes, Content-Length said ${announced}`, true);
  const got = sha256.digest('hex');
  if (got !== t.sha256.toLowerCase()) return failed(`sha256 mismatch: expected ${t.sha256}, got ${got} (${size} bytes)`, false);
  if (digest === undefined) return failed(`cannot unpack: ${errorMessage(digestErr)}`, false);
  if (digest.treeSha1 !== t.treeSha1.toLowerCase()) {
    return failed(`git-tree-sha1 mismatch: expected ${t.treeSha1}, unpacked content hashes to ${digest.treeSha1}`, false);
  }
  return { ok: true, bytes: size, retryable: false };
}
