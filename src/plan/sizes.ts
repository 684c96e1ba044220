// Download sizes for `plan --sizes`: from the state dir's verified artifact cache when the
// tarball is already there, otherwise from a HEAD request (Content-Length) to its URLs in
// order. A failure is reported per artifact and never stops the plan.

import { lookup } from 'node:dns/promises';
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici';
import { cachedArtifactPath, isPrivateAddress } from '../artifacts/fetch.js';
import { errorMessage, redactUrl } from '../errors.js';
import type { Requirement } from '../sync/artifacts.js';
import { mapLimit } from '../sync/report.js';

export interface ArtifactSize {
  name: string;
  platform: string;
  treeSha1: string;
  lazy: boolean;
  /** redacted URL the size came from (absent for a cache hit or a failure) */
  url?: string;
  bytes?: number;
  from?: 'cache' | 'head';
  /** why no size is known; names every URL tried */
  error?: string;
}

export interface SizeOptions {
  cacheDir: string;
  jobs: number;
  timeoutMs: number;
  allowPrivateAddresses: boolean;
  dispatcher?: Dispatcher;
}

async function cachedSize(cacheDir: string, r: Requirement): Promise<number | undefined> {
  for (const d of r.downloads) {
    try {
      const st = await stat(cachedArtifactPath(cacheDir, d.sha256));
      if (st.isFile()) return st.size;
    } catch {
      // not cached (or not a sha256 Pkg would accept): ask the server
    }
  }
  return undefined;
}

async function refusePrivate(url: string): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const ip = isIP(host) ? host : (await lookup(host)).address;
  return isPrivateAddress(ip) ? `${host} resolves to ${ip}, a private or local address (upstream.allow_private_addresses = false)` : undefined;
}

async function headSize(url: string, opts: SizeOptions, dispatcher: Dispatcher): Promise<number> {
  const scheme = new URL(url).protocol;
  if (scheme !== 'http:' && scheme !== 'https:') throw new Error('not an http(s) URL');
  if (!opts.allowPrivateAddresses) {
    const why = await refusePrivate(url);
    if (why) throw new Error(why);
  }
  const res = await request(url, { method: 'HEAD', dispatcher, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
  const len = Number(res.headers['content-length']);
  if (!Number.isSafeInteger(len) || len < 0) throw new Error('no Content-Length');
  return len;
}

export async function artifactSizes(reqs: readonly Requirement[], opts: SizeOptions): Promise<ArtifactSize[]> {
  const dispatcher = (opts.dispatcher ?? getGlobalDispatcher()).compose(interceptors.redirect({ maxRedirections: 5 }));
  return mapLimit(reqs, opts.jobs, async (r) => {
    const base = { name: r.name, platform: r.platform, treeSha1: r.treeSha1, lazy: r.lazy };
    const cached = await cachedSize(opts.cacheDir, r);
    if (cached !== undefined) return { ...base, bytes: cached, from: 'cache' as const };
    const errors: string[] = [];
    // The first URL normally answers; later ones are what a sync would fall back to.
    for (const d of r.downloads) {
      try {
        return { ...base, url: redactUrl(d.url), bytes: await headSize(d.url, opts, dispatcher), from: 'head' as const };
      } catch (err) {
        errors.push(`${redactUrl(d.url)}: ${errorMessage(err)}`);
      }
    }
    return { ...base, error: errors.join('; ') || 'no download URL' };
  });
}
