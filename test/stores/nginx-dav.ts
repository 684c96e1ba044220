// A real nginx with the DAV module (`dav_methods PUT; create_full_put_path on;`) on a free
// 127.0.0.1 port, configured in a temp prefix: the WebDAV-style artifact server the `http` store
// is meant for. Its access log (method, path, status, user) lets tests count PUTs.
//
// Locations, all mapping onto the same directories so uploads are readable at once:
//   /artifacts/  read-only view of www/          /dav/        PUT into www/, Basic auth (htpasswd)
//   /dav-open/   PUT into www/, no auth          /dav-bearer/ PUT into www/, only with the bearer token
//   /decoy/      read-only view of decoy/ (tests put wrong-sized files there)
//   /artifacts2/, /dav2/  the same pair over www2/ (a second store location)

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NGINX, startNginx } from '../fixtures/daemon.js';

export { NGINX };

export function nginxHasDav(): boolean {
  if (!NGINX) return false;
  // `nginx -V` prints its configure flags on stderr.
  const r = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes('http_dav_module');
}

export interface DavServer {
  url: string;
  www: string;
  www2: string;
  decoy: string;
  /** access log lines: `<method> <uri> <status> <user>` */
  log(): string[];
  puts(): string[];
  close(): Promise<void>;
}

export async function startDav(dir: string, auth: { user: string; password: string; bearer: string }): Promise<DavServer> {
  const www = path.join(dir, 'www');
  const www2 = path.join(dir, 'www2');
  const decoy = path.join(dir, 'decoy');
  for (const d of [www, www2, decoy]) mkdirSync(d, { recursive: true });
  const htpasswd = path.join(dir, 'htpasswd');
  // nginx reads the {SHA} scheme: base64 of the SHA-1 of the password.
  writeFileSync(htpasswd, `${auth.user}:{SHA}${createHash('sha1').update(auth.password).digest('base64')}\n`);
  const dav = 'dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r;';
  const server = await startNginx(dir, {
    logFormat: '$request_method $uri $status $remote_user',
    http: 'default_type application/octet-stream;',
    server: () => `
    location /artifacts/ { alias ${www}/; limit_except GET { deny all; } }
    location /artifacts2/ { alias ${www2}/; limit_except GET { deny all; } }
    location /decoy/ { alias ${decoy}/; limit_except GET { deny all; } }
    location /dav/ { alias ${www}/; ${dav} limit_except GET { auth_basic "upload"; auth_basic_user_file ${htpasswd}; } }
    location /dav2/ { alias ${www2}/; ${dav} limit_except GET { auth_basic "upload"; auth_basic_user_file ${htpasswd}; } }
    location /dav-open/ { alias ${www}/; ${dav} }
    location /dav-bearer/ { alias ${www}/; ${dav} if ($http_authorization != "Bearer ${auth.bearer}") { return 401; } }`,
  });
  const log = server.log;
  return {
    url: server.url,
    www,
    www2,
    decoy,
    log,
    puts: () => log().filter((l) => l.startsWith('PUT ')),
    close: server.close,
  };
}
