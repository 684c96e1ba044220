// `julia-airgap serve`: serves the `dir` targets of a mirror (bare repos and artifact files)
// over HTTP with nothing but Node and git installed, for sites without nginx or a forge.

import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AirgapError, errorMessage } from '../errors.js';
import { serveGit } from './cgi.js';
import { listRepos, renderIndexPage } from './index-page.js';
import { gitPathInfo, logSafeTarget, splitTarget } from './paths.js';
import { sendText, type RequestStats } from './respond.js';
import { serveArtifact } from './static.js';

export interface ServeOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // default 8080; 0 = ephemeral
  gitRoot?: string; // directory of bare repos (<name>.git), served at /git/
  artifactsRoot?: string; // directory of artifact files, served at /artifacts/
  registryRepo?: string; // e.g. 'General' — for the index page's `registry add` line
  publicUrl?: string; // base URL clients use, for the index page (default http://host:port)
  log?: (line: string) => void; // one line per request (method, path, status, bytes, ms) — never headers
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function requireDir(what: string, dir: string): Promise<string> {
  const abs = path.resolve(dir);
  let ok = false;
  try {
    ok = (await stat(abs)).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new AirgapError('serve', `${what} ${abs} is not a directory`);
  return abs;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AirgapError('serve', `port ${port} is not a valid TCP port`);
  }
  const gitRoot = opts.gitRoot !== undefined ? await requireDir('git root', opts.gitRoot) : undefined;
  const artifactsRoot =
    opts.artifactsRoot !== undefined ? await requireDir('artifacts root', opts.artifactsRoot) : undefined;
  const log = opts.log;

  const children = new Set<ChildProcess>();
  const tracker = { add: (c: ChildProcess) => children.add(c), delete: (c: ChildProcess) => children.delete(c) };
  let publicUrl = opts.publicUrl;

  async function route(req: IncomingMessage, res: ServerResponse, stats: RequestStats): Promise<void> {
    const target = splitTarget(req.url ?? '');
    if (!target) {
      sendText(res, stats, 400, 'bad request target\n');
      return;
    }
    const { path: p, query } = target;

    if (p.startsWith('/git/')) {
      const pathInfo = gitRoot ? gitPathInfo(p.slice('/git'.length)) : undefined;
      if (!gitRoot || !pathInfo) {
        sendText(res, stats, 404, 'not found\n');
        return;
      }
      await serveGit(req, res, gitRoot, pathInfo, query, stats, tracker);
      return;
    }

    if (p.startsWith('/artifacts/')) {
      if (!artifactsRoot) {
        sendText(res, stats, 404, 'not found\n');
        return;
      }
      await serveArtifact(req, res, artifactsRoot, p.slice('/artifacts/'.length), stats);
      return;
    }

    if (p === '/' || p === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendText(res, stats, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
        return;
      }
      if (p === '/healthz') {
        sendText(res, stats, 200, 'ok', { 'Cache-Control': 'no-store' });
        return;
      }
      const page = renderIndexPage({
        publicUrl: publicUrl ?? '',
        registryRepo: opts.registryRepo,
        hasGit: gitRoot !== undefined,
        hasArtifacts: artifactsRoot !== undefined,
        repos: gitRoot ? await listRepos(gitRoot) : [],
      });
      sendText(res, stats, 200, page, { 'Cache-Control': 'no-cache' }, 'text/html; charset=utf-8');
      return;
    }

    sendText(res, stats, 404, 'not found\n');
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const stats: RequestStats = { bytes: 0 };
    // An aborted upload errors the request stream; the response's 'close' does the cleanup.
    req.on('error', () => undefined);
    res.on('close', () => {
      if (!log) return;
      const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
      const status = res.writableFinished ? String(res.statusCode) : `${res.statusCode}-aborted`;
      try {
        log(`${req.method ?? '-'} ${logSafeTarget(req.url ?? '')} ${status} ${stats.bytes} ${ms}ms`);
      } catch {
        // A failing logger must not take the server down.
      }
    });
    route(req, res, stats).catch((err: unknown) => {
      if (!res.headersSent) {
        sendText(res, stats, 500, 'internal error\n');
      } else {
        res.destroy(err instanceof Error ? err : new Error(errorMessage(err)));
      }
    });
  });
  // Clones of big repos send negotiation bodies slowly and packs for a long time; Node's default
  // 5-minute whole-request timeout would cut slow links off. Idle sockets still time out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new AirgapError('serve', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(host)}:${bound}`;
  publicUrl ??= url;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      const exits = [...children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('close', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 2000).unref();
          }),
      );
      await Promise.all([closed, ...exits]);
    })();
    return closing;
  }

  return { url, port: bound, close };
}
