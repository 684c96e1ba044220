// Static artifact files. Names are content-addressed (tree hash or sha256), so a file never
// changes once it is in place: that is what makes the year-long immutable caching safe.

import { constants as fsc } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { artifactSegments } from './paths.js';
import { parseRange } from './range.js';
import type { RequestStats } from './respond.js';
import { sendText } from './respond.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Resolves the on-disk file for a request, or undefined for anything that must 404. */
async function resolveArtifact(root: string, rawRest: string): Promise<string | undefined> {
  const segments = artifactSegments(rawRest);
  if (!segments) return undefined;
  let rootReal: string;
  let real: string;
  try {
    rootReal = await realpath(root);
    real = await realpath(path.join(rootReal, ...segments));
  } catch {
    return undefined;
  }
  const rel = path.relative(rootReal, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  // A symlink inside the root may still land on a dot file (e.g. a `.tmp-…` being written).
  if (rel.split(path.sep).some((s) => s.startsWith('.'))) return undefined;
  return real;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export async function serveArtifact(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  rawRest: string,
  stats: RequestStats,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, stats, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const file = await resolveArtifact(root, rawRest);
  if (!file) {
    sendText(res, stats, 404, 'not found\n');
    return;
  }
  let handle;
  try {
    // O_NOFOLLOW: the final component was just resolved; refuse it if it has since been
    // swapped for a symlink.
    handle = await open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    sendText(res, stats, 404, 'not found\n');
    return;
  }
  let handedOff = false;
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      sendText(res, stats, 404, 'not found\n');
      return;
    }
    const size = st.size;
    const etag = `"${Math.trunc(st.mtimeMs).toString(16)}-${size.toString(16)}"`;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'Cache-Control': IMMUTABLE,
      ETag: etag,
      'Last-Modified': st.mtime.toUTCString(),
    };

    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }

    // If-Range with a stale validator means "the range was for another version: send it all".
    const ifRange = req.headers['if-range'];
    const rangeHeader = typeof ifRange === 'string' && ifRange.trim() !== etag ? undefined : req.headers.range;
    const range = parseRange(rangeHeader, size);

    if (range.kind === 'unsatisfiable') {
      sendText(res, stats, 416, 'range not satisfiable\n', {
        'Content-Range': `bytes */${size}`,
        'Accept-Ranges': 'bytes',
      });
      return;
    }

    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range.kind === 'partial') {
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    const length = size === 0 ? 0 : end - start + 1;
    headers['Content-Length'] = length;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }

    const stream = handle.createReadStream({ start, end, autoClose: true });
    handedOff = true;
    stream.on('data', (chunk: string | Buffer) => {
      stats.bytes += chunk.length;
    });
    try {
      await pipeline(stream, res);
    } catch {
      // The client went away mid-transfer; pipeline has already closed the file and socket.
    }
  } finally {
    if (!handedOff) await handle.close().catch(() => undefined);
  }
}
