// Contract fakes of the two forges' generic package endpoints, for the artifact stores. Neither
// Gitea nor GitLab can run here, so these follow the published API shapes and status codes, and
// nothing more:
//  - Gitea/Forgejo: https://docs.gitea.com/usage/packages/generic (PUT -> 201 Created; 400 invalid
//    name/version/file name; 401 without valid credentials; 409 when the file already exists in the
//    version; GET downloads the file), as implemented in routers/api/packages/generic/generic.go.
//    Older releases answered 400 "package file already exists"-style for duplicates (`legacy400`).
//  - GitLab: https://docs.gitlab.com/user/packages/generic_packages/ (PUT -> 201; duplicates are
//    accepted by default and the newest file wins; 400 "Duplicate package is not allowed" when the
//    group disallows them; 400 for invalid names; 400 "File is too large" over the plan limit;
//    401 without a valid PRIVATE-TOKEN; GET downloads the newest file), per lib/api/generic_packages.rb,
//    and https://docs.gitlab.com/security/rate_limits/ (429 with Retry-After).
// Both serve Range requests on downloads, as Gitea's ServeContent and GitLab Workhorse do.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PackageRequest {
  method: string;
  /** path as sent (percent-encoding kept) */
  path: string;
  /** the credential header was present and correct */
  authed: boolean;
  /** the raw credential header value as received, so tests can prove where a token went */
  credential?: string;
  status: number;
  /** bytes of a PUT body */
  bodyBytes?: number;
}

export interface PackagesScript {
  /** answer this many next requests with 429 and Retry-After */
  rateLimited: number;
  retryAfter: string;
  /** answer this many next PUTs with this 5xx after reading the body */
  serverErrors: number;
  serverErrorStatus: number;
  /** answer this many next downloads with 404 even when the file exists: another uploader's file
   *  appearing between a client's look and its PUT */
  staleReads: number;
}

export interface FakePackages {
  url: string;
  requests: PackageRequest[];
  script: PackagesScript;
  /** stored files by decoded path below the package API prefix: `<name>/<version>/<file>` -> versions, newest last */
  files: Map<string, Buffer[]>;
  puts(): PackageRequest[];
  close(): Promise<void>;
}

interface Flavour {
  /** the path prefix before `<name>/<version>/<file>` */
  prefix: RegExp;
  isAuthed(req: IncomingMessage): { authed: boolean; credential?: string };
  nameOk(name: string): boolean;
  versionOk(version: string): boolean;
  fileOk(file: string): boolean;
  /** the answer to a PUT of an existing file, or undefined to store it as another file */
  duplicate(): { status: number; body: string } | undefined;
  unauthorized: string;
  notFound: string;
  created: string;
  maxBytes: number;
  tooLarge: string;
  anonymousRead: boolean;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function startFake(flavour: Flavour): Promise<FakePackages> {
  const requests: PackageRequest[] = [];
  const files = new Map<string, Buffer[]>();
  const script: PackagesScript = { rateLimited: 0, retryAfter: '1', serverErrors: 0, serverErrorStatus: 503, staleReads: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const { authed, credential } = flavour.isAuthed(req);
    const rec: PackageRequest = { method: req.method ?? '?', path: rawPath, authed, ...(credential !== undefined ? { credential } : {}), status: 0 };
    requests.push(rec);
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(req.method === 'HEAD' ? undefined : body);
    };
    const m = flavour.prefix.exec(rawPath);
    const parts = m ? rawPath.slice(m[0].length).split('/') : [];
    if (!m || parts.length !== 3) {
      if (req.method === 'PUT') await readBody(req);
      return answer(404, flavour.notFound);
    }
    if (script.rateLimited > 0) {
      script.rateLimited--;
      if (req.method === 'PUT') await readBody(req);
      return answer(429, JSON.stringify({ message: 'Retry later' }), { 'retry-after': script.retryAfter });
    }
    const [name, version, file] = parts.map((p) => decodeURIComponent(p)) as [string, string, string];
    const key = `${name}/${version}/${file}`;
    if (req.method === 'PUT') {
      const body = await readBody(req);
      rec.bodyBytes = body.length;
      if (!authed) return answer(401, flavour.unauthorized, { 'www-authenticate': 'Basic realm="packages"' });
      if (!flavour.nameOk(name) || !flavour.versionOk(version) || !flavour.fileOk(file)) {
        return answer(400, JSON.stringify({ message: 'package name, version or filename is invalid' }));
      }
      if (body.length > flavour.maxBytes) return answer(400, flavour.tooLarge);
      if (script.serverErrors > 0) {
        script.serverErrors--;
        return answer(script.serverErrorStatus, JSON.stringify({ message: 'internal error' }));
      }
      const existing = files.get(key);
      if (existing) {
        const dup = flavour.duplicate();
        if (dup) return answer(dup.status, dup.body);
        existing.push(body);
      } else {
        files.set(key, [body]);
      }
      return answer(201, flavour.created);
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const cred = req.headers.authorization ?? req.headers['private-token'];
      if (cred !== undefined && !authed) return answer(401, flavour.unauthorized);
      if (!authed && !flavour.anonymousRead) return answer(401, flavour.unauthorized);
      const stored = files.get(key);
      if (!stored || script.staleReads > 0) {
        if (script.staleReads > 0) script.staleReads--;
        return answer(404, flavour.notFound);
      }
      const bytes = stored[stored.length - 1]!;
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      if (range && bytes.length > 0) {
        const start = Number(range[1]);
        const end = Math.min(Number(range[2]), bytes.length - 1);
        rec.status = 206;
        res.writeHead(206, {
          'content-type': 'application/octet-stream', 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${bytes.length}`,
        });
        res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
        return;
      }
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    return answer(405, JSON.stringify({ message: 'method not allowed' }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script,
    files,
    puts: () => requests.filter((r) => r.method === 'PUT'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface GiteaPackagesOptions {
  owner: string;
  token: string;
  /** answer duplicates as older Gitea did: 400 with a message naming the duplicate */
  legacy400?: boolean;
  /** the owner is a public organisation (anonymous download allowed) */
  publicOwner?: boolean;
}

/** Contract fake of Gitea's generic package registry (see the header for the documented shapes). */
export function startGiteaPackages(opts: GiteaPackagesOptions): Promise<FakePackages> {
  const basicOk = (h: string) => {
    const m = /^basic\s+(.+)$/i.exec(h);
    if (!m) return false;
    const [, pass] = Buffer.from(m[1]!, 'base64').toString('utf8').split(/:(.*)/s);
    return pass === opts.token;
  };
  return startFake({
    prefix: new RegExp(`^/api/packages/${opts.owner}/generic/`),
    isAuthed: (req) => {
      const h = req.headers.authorization;
      if (h === undefined) return { authed: false };
      const m = /^(?:token|bearer)\s+(.+)$/i.exec(h);
      return { authed: (m !== null && m[1] === opts.token) || basicOk(h), credential: h };
    },
    nameOk: (n) => /^[-_+.\w]+$/.test(n) && (n.length > 1 || /^[A-Za-z0-9]$/.test(n)),
    versionOk: (v) => v.length > 0 && v.trim() === v,
    fileOk: (f) => /^[^/\s][^/]*$/.test(f) && f.trim() === f && f !== '.' && f !== '..',
    duplicate: () =>
      opts.legacy400
        ? { status: 400, body: JSON.stringify({ message: 'package file already exists: duplicate package' }) }
        : { status: 409, body: JSON.stringify({ message: 'package file already exists' }) },
    unauthorized: JSON.stringify({ message: 'Unauthorized' }),
    notFound: JSON.stringify({ message: 'package does not exist' }),
    created: '',
    maxBytes: Number.MAX_SAFE_INTEGER,
    tooLarge: '',
    anonymousRead: opts.publicOwner ?? true,
  });
}

export interface GitlabPackagesOptions {
  /** numeric id and full path of the one project */
  projectId: number;
  projectPath: string;
  token: string;
  /** the group setting "Allow duplicates" turned off */
  rejectDuplicates?: boolean;
  /** plan limit generic_packages_max_file_size */
  maxBytes?: number;
  /** public project: anonymous download allowed */
  publicProject?: boolean;
}

/** Contract fake of GitLab's generic packages API (see the header for the documented shapes). */
export function startGitlabPackages(opts: GitlabPackagesOptions): Promise<FakePackages> {
  const ids = [String(opts.projectId), encodeURIComponent(opts.projectPath)].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const fileRe = /^[A-Za-z0-9._+-]+$/;
  return startFake({
    prefix: new RegExp(`^/api/v4/projects/(?:${ids.join('|')})/packages/generic/`),
    isAuthed: (req) => {
      const h = req.headers['private-token'];
      if (h === undefined) return { authed: false };
      const v = Array.isArray(h) ? h[0] : h;
      return { authed: v === opts.token, credential: v };
    },
    nameOk: (n) => fileRe.test(n),
    versionOk: (v) => /^(?!.*\.\.)[\w+.-]+$/.test(v),
    fileOk: (f) => fileRe.test(f),
    duplicate: () => (opts.rejectDuplicates ? { status: 400, body: JSON.stringify({ message: 'Duplicate package is not allowed' }) } : undefined),
    unauthorized: JSON.stringify({ message: '401 Unauthorized' }),
    notFound: JSON.stringify({ message: '404 Not Found' }),
    created: JSON.stringify({ message: '201 Created' }),
    maxBytes: opts.maxBytes ?? 5 * 1024 ** 3,
    tooLarge: JSON.stringify({ message: 'File is too large' }),
    anonymousRead: opts.publicProject ?? true,
  });
}
