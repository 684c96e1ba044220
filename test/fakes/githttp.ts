// Real git smart HTTP for the forge contract fakes: each request runs `git http-backend` as a
// CGI, so clones and pushes against a fake are real git transfers. The fake checks the token
// first; receive-pack is then enabled the way a web server enables it, by setting REMOTE_USER.

import { execFile, spawn } from 'node:child_process';
import { writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** git for the fakes' own bookkeeping: asynchronous, the server lives in the test process. */
export async function gitAsync(gitDir: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') && !['GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL'].includes(k)) delete env[k];
  const { stdout } = await run('git', [`--git-dir=${gitDir}`, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout.trim();
}

export async function initBareAsync(dir: string): Promise<void> {
  mkdirSync(path.dirname(dir), { recursive: true });
  await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', dir]);
}

/** Installs an `update` hook refusing refs that match `pattern` (an extended regex), like a forge pre-receive rule. */
export function installRejectHook(gitDir: string, pattern: string): void {
  const hook = path.join(gitDir, 'hooks', 'update');
  mkdirSync(path.dirname(hook), { recursive: true });
  writeFileSync(
    hook,
    `#!/bin/sh\nif printf '%s\\n' "$1" | grep -Eq '${pattern.replace(/'/g, `'\\''`)}'; then\n  echo "policy: $1 is not allowed here" >&2\n  exit 1\nfi\nexit 0\n`,
  );
  chmodSync(hook, 0o755);
}

export function isReceivePack(pathInfo: string, query: string): boolean {
  return pathInfo.endsWith('/git-receive-pack') || new URLSearchParams(query).get('service') === 'git-receive-pack';
}

/**
 * Runs http-backend for one request. `remoteUser` set = authenticated (receive-pack allowed).
 * Resolves when the response is finished.
 */
export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  opts: { projectRoot: string; pathInfo: string; query: string; remoteUser?: string; beforeEnd?: () => Promise<void> },
): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  Object.assign(env, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    PATH_INFO: opts.pathInfo,
    QUERY_STRING: opts.query,
    REQUEST_METHOD: req.method ?? 'GET',
    REMOTE_ADDR: '127.0.0.1',
  });
  if (opts.remoteUser) env.REMOTE_USER = opts.remoteUser;
  if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  const gp = req.headers['git-protocol'];
  if (typeof gp === 'string') env.GIT_PROTOCOL = gp;

  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stderr.resume();
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, crlf + 4] : lf >= 0 ? [lf, lf + 2] : undefined;
      if (!end) return;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end[0]).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i).trim().toLowerCase();
        const v = line.slice(i + 1).trim();
        if (k === 'status') status = Number.parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end[1]));
    });
    child.on('close', () => {
      if (!headerDone) {
        res.writeHead(502).end('http-backend failed\n');
        resolve();
        return;
      }
      // the forge's post-receive work is done before the pusher hears back
      void (opts.beforeEnd ?? (async () => undefined))()
        .catch(() => undefined)
        .then(() => {
          res.end();
          resolve();
        });
    });
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
      resolve();
    });
  });
}
