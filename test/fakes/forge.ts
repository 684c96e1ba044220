// What the Gitea and GitLab contract fakes share: a node:http server on 127.0.0.1 that records
// every API request, answers scripted failures (401 always, 429 with Retry-After N times), and
// serves real git over smart HTTP (./githttp.ts) at the clone URL paths, recording every push.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { installRejectHook, isReceivePack, serveGitHttp } from './githttp.js';

export interface Recorded {
  method: string;
  /** path and query, as sent */
  path: string;
  body: unknown;
  status: number;
}

export interface Script {
  /** answer every API and git request with 401 */
  unauthorized: boolean;
  /** answer this many API requests with 429 */
  rateLimited: number;
  retryAfter: string;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
}

export interface ForgeHooks {
  apiPrefix: string;
  /** is the API token header right? */
  apiAuthorized(req: IncomingMessage): boolean;
  /** is the git request authenticated (the header git sends via http.extraHeader)? */
  gitAuthorized(req: IncomingMessage): boolean;
  /** the API proper; `p` is the path after apiPrefix, still percent-encoded */
  api(method: string, p: string, query: URLSearchParams, body: unknown): Promise<ApiAnswer>;
  /** repo known to the forge at this clone path ("/group/name.git")? and is it public? */
  repoAt(repoPath: string): { public: boolean } | undefined;
  /** after a push finished (the forge's post-receive work) */
  afterPush(repoPath: string): Promise<void>;
}

export interface FakeForge {
  url: string;
  /** git repos live here, at the clone URL paths */
  root: string;
  requests: Recorded[];
  /** clone paths of every receive-pack POST (a push that sent refs) */
  receivePacks: string[];
  script: Script;
  /** API requests that change something */
  writes(): Recorded[];
  /** refuse refs matching this extended regex in every repo, present and future (a pre-receive rule) */
  rejectRefs(pattern: string): void;
  rejectPattern?: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

export async function startFakeForge(root: string, hooks: ForgeHooks, unauthorizedBody: unknown): Promise<FakeForge> {
  const requests: Recorded[] = [];
  const receivePacks: string[] = [];
  const script: Script = { unauthorized: false, rateLimited: 0, retryAfter: '1' };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath.startsWith(`${hooks.apiPrefix}/`)) {
      const text = await readBody(req);
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // recorded as text
      }
      const rec: Recorded = { method: req.method ?? 'GET', path: req.url!.slice(hooks.apiPrefix.length), body, status: 0 };
      requests.push(rec);
      let answer: ApiAnswer;
      let headers: Record<string, string> = {};
      if (script.unauthorized || !hooks.apiAuthorized(req)) {
        answer = { status: 401, body: unauthorizedBody };
      } else if (script.rateLimited > 0) {
        script.rateLimited--;
        answer = { status: 429, body: { message: 'rate limit exceeded' } };
        headers = { 'retry-after': script.retryAfter };
      } else {
        answer = await hooks.api(rec.method, rawPath.slice(hooks.apiPrefix.length), u.searchParams, body);
      }
      rec.status = answer.status;
      send(res, answer.status, answer.body, headers);
      return;
    }
    const m = /^(\/.+?\.git)(\/.*)$/.exec(u.pathname);
    const repo = m ? hooks.repoAt(m[1]!) : undefined;
    if (!m || !repo || !existsSync(path.join(root, m[1]!))) {
      send(res, 404, { message: 'Not found' });
      return;
    }
    const push = isReceivePack(m[2]!, u.search.slice(1));
    const authed = !script.unauthorized && hooks.gitAuthorized(req);
    if ((push || !repo.public) && !authed) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake forge"' }).end();
      return;
    }
    const posted = push && req.method === 'POST';
    if (posted) receivePacks.push(m[1]!);
    await serveGitHttp(req, res, {
      projectRoot: root, pathInfo: u.pathname, query: u.search.slice(1), remoteUser: authed ? 'mirror' : undefined,
      beforeEnd: posted ? () => hooks.afterPush(m[1]!) : undefined,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const forge: FakeForge = {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    receivePacks,
    script,
    writes: () => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    rejectRefs(pattern) {
      forge.rejectPattern = pattern;
      // repos already created get the hook now; new ones when they are created
      for (const r of allRepoPaths(root)) installRejectHook(path.join(root, r), pattern);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return forge;
}

function allRepoPaths(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 4) return;
    const abs = path.join(root, rel);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) return;
    if (rel.endsWith('.git')) {
      out.push(rel);
      return;
    }
    for (const e of readdirSync(abs)) walk(`${rel}/${e}`, depth + 1);
  };
  walk('', 0);
  return out;
}
