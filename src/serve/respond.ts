import type { ServerResponse } from 'node:http';

/** Per-request counters for the access log. Only body bytes are counted, never headers. */
export interface RequestStats {
  bytes: number;
}

export function sendText(
  res: ServerResponse,
  stats: RequestStats,
  status: number,
  body: string,
  headers: Record<string, string | number> = {},
  contentType = 'text/plain; charset=utf-8',
): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': buf.length,
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  stats.bytes += buf.length;
  res.end(buf);
}
