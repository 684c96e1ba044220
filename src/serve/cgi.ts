// Smart HTTP through the real `git http-backend`, run as a CGI per request. Using git itself
// (rather than reimplementing upload-pack) gives protocol v0 and v2, shallow clones, filters and
// every future capability for free, and is exactly what Apache/nginx deployments run.

import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestStats } from './respond.js';
import { sendText } from './respond.js';

/** CGI header block larger than this is not git talking to us; stop waiting for its end. */
const MAX_CGI_HEADER = 64 * 1024;

/** Headers that describe the connection, not the content, and so must not be forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'status']);

export interface CgiTracker {
  add(child: ChildProcess): void;
  delete(child: ChildProcess): void;
}

/**
 * Environment for http-backend. The parent's GIT_* variables are dropped: a server started from a
 * git hook or alias would otherwise pass GIT_DIR and friends straight into upload-pack.
 */
function cgiEnv(req: IncomingMessage, gitRoot: string, pathInfo: string, query: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GIT_') && k !== 'REMOTE_USER' && k !== 'AUTH_TYPE') env[k] = v;
  }
  Object.assign(env, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: 'julia-airgap',
    GIT_PROJECT_ROOT: gitRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: pathInfo,
    QUERY_STRING: query,
    REQUEST_METHOD: req.method ?? 'GET',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    // Read-only by construction: REMOTE_USER stays unset (so http-backend never enables
    // receive-pack on its own), and this command-line-level config outranks any
    // `http.receivepack = true` that a repository's own config might carry.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'false',
  });
  const ct = req.headers['content-type'];
  if (ct) env.CONTENT_TYPE = ct;
  const cl = req.headers['content-length'];
  if (cl) env.CONTENT_LENGTH = cl;
  const ce = req.headers['content-encoding'];
  if (ce) env.HTTP_CONTENT_ENCODING = ce;
  // Without this, http-backend answers every client with protocol v0.
  const gp = req.headers['git-protocol'];
  if (typeof gp === 'string' && gp !== '') env.GIT_PROTOCOL = gp;
  return env;
}

function isReceivePack(pathInfo: string, query: string): boolean {
  if (pathInfo.endsWith('/git-receive-pack')) return true;
  return new URLSearchParams(query).getAll('service').includes('git-receive-pack');
}

interface CgiHead {
  status: number;
  headers: Array<[string, string]>;
}

function parseCgiHead(block: string): CgiHead | undefined {
  let status = 200;
  let location = false;
  const headers: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const code = Number.parseInt(value, 10);
      if (!(code >= 100 && code <= 599)) return undefined;
      status = code;
      continue;
    }
    if (lower === 'location') location = true;
    if (HOP_BY_HOP.has(lower)) continue;
    headers.push([name, value]);
  }
  // CGI/1.1 §6.2.3: a Location without a Status is a redirect.
  if (location && !block.match(/^status:/im)) status = 302;
  return { status, headers };
}

/** Finds the blank line ending the CGI header block: returns [headerEnd, bodyStart]. */
function findHeaderEnd(buf: Buffer): [number, number] | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return [crlf, crlf + 4];
  if (lf >= 0) return [lf, lf + 2];
  return undefined;
}

export function serveGit(
  req: IncomingMessage,
  res: ServerResponse,
  gitRoot: string,
  pathInfo: string,
  query: string,
  stats: RequestStats,
  tracker: CgiTracker,
): Promise<void> {
  if (isReceivePack(pathInfo, query)) {
    sendText(res, stats, 403, 'this mirror is read-only\n');
    return Promise.resolve();
  }

  return new Promise<void>((resolve) => {
    const child = spawn('git', ['http-backend'], {
      env: cgiEnv(req, gitRoot, pathInfo, query),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    tracker.add(child);

    let exited = false;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      resolve();
    };
    const kill = (): void => {
      if (exited) return;
      // git forwards the signal to http-backend, which forwards it to upload-pack
      // (run_command's clean_on_exit), so one signal tears down the whole chain.
      child.kill('SIGTERM');
      const hard = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000);
      hard.unref();
    };

    child.on('error', () => {
      // With a pid the process exists and this was a failed kill(); 'close' still follows.
      if (child.pid !== undefined) return;
      if (!res.headersSent && !res.destroyed) sendText(res, stats, 502, 'git http-backend could not be started\n');
      exited = true;
      tracker.delete(child);
      finish();
    });
    // The response is ended here rather than on stdout's end so that the exit status is known:
    // a pack cut short by a failing upload-pack must reach the client as a broken transfer,
    // not as a clean end of a chunked body.
    child.on('close', (code) => {
      exited = true;
      tracker.delete(child);
      if (!res.headersSent && !res.destroyed) sendText(res, stats, 502, 'git http-backend produced no response\n');
      else if (!res.writableEnded && !res.destroyed) {
        if (code === 0) res.end();
        else res.destroy();
      }
      finish();
    });

    // http-backend's diagnostics ("fatal: ...") would otherwise fill the pipe and stall it.
    // They are not logged: the access log is one line per request by contract.
    child.stderr.resume();

    // An early CGI exit (e.g. 404 for an unknown repo) closes stdin while the client is still
    // sending; that EPIPE is expected and harmless.
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);

    res.on('close', () => {
      if (!res.writableFinished) kill();
    });

    let head: Buffer | undefined = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (res.writableEnded || res.destroyed) return;
      if (head === undefined) {
        stats.bytes += chunk.length;
        // Packs can be gigabytes: honour backpressure rather than buffering them in memory.
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = findHeaderEnd(head);
      if (!end) {
        if (head.length > MAX_CGI_HEADER) {
          head = undefined;
          sendText(res, stats, 502, 'git http-backend sent malformed headers\n');
          kill();
        }
        return;
      }
      const parsed = parseCgiHead(head.subarray(0, end[0]).toString('latin1'));
      const rest = head.subarray(end[1]);
      head = undefined;
      if (!parsed) {
        sendText(res, stats, 502, 'git http-backend sent malformed headers\n');
        kill();
        return;
      }
      res.statusCode = parsed.status;
      for (const [name, value] of parsed.headers) res.appendHeader(name, value);
      if (res.req.method === 'HEAD') {
        res.end();
        return;
      }
      res.flushHeaders();
      if (rest.length > 0) {
        stats.bytes += rest.length;
        if (!res.write(rest)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
      }
    });
  });
}
