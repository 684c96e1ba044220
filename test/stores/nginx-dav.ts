// A real nginx with the DAV module (`dav_methods PUT; create_full_put_path on;`) on a free
// 127.0.0.1 port, configured in a temp prefix: the WebDAV-style artifact server the `http` store
// is meant for. Its access log (method, path, status, user) lets tests count PUTs.
//
// Locations, all mapping onto the same directories so uploads are readable at once:
//   /artifacts/  read-only view of www/          /dav/        PUT into www/, Basic auth (htpasswd)
//   /dav-open/   PUT into www/, no auth          /dav-bearer/ PUT into www/, only with the bearer token
//   /decoy/      read-only view of decoy/ (tests put wrong-sized files there)
//   /artifacts2/, /dav2/  the same pair over www2/ (a second store location)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import path from 'node:path';

export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => existsSync(p));

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

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port} within 10 s`);
}

export async function startDav(dir: string, auth: { user: string; password: string; bearer: string }): Promise<DavServer> {
  if (!NGINX) throw new Error('nginx is not installed');
  const www = path.join(dir, 'www');
  const www2 = path.join(dir, 'www2');
  const decoy = path.join(dir, 'decoy');
  for (const d of [www, www2, decoy, path.join(dir, 'logs'), path.join(dir, 'tmp')]) mkdirSync(d, { recursive: true });
  const htpasswd = path.join(dir, 'htpasswd');
  // nginx reads the {SHA} scheme: base64 of the SHA-1 of the password.
  writeFileSync(htpasswd, `${auth.user}:{SHA}${createHash('sha1').update(auth.password).digest('base64')}\n`);
  const accessLog = path.join(dir, 'logs', 'access.log');
  const errorLog = path.join(dir, 'logs', 'error.log');
  const port = await freePort();
  const dav = 'dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r;';
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} info;
events { worker_connections 64; }
http {
  log_format airgap '$request_method $uri $status $remote_user';
  access_log ${accessLog} airgap;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  client_max_body_size 0;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    location /artifacts/ { alias ${www}/; limit_except GET { deny all; } }
    location /artifacts2/ { alias ${www2}/; limit_except GET { deny all; } }
    location /decoy/ { alias ${decoy}/; limit_except GET { deny all; } }
    location /dav/ { alias ${www}/; ${dav} limit_except GET { auth_basic "upload"; auth_basic_user_file ${htpasswd}; } }
    location /dav2/ { alias ${www2}/; ${dav} limit_except GET { auth_basic "upload"; auth_basic_user_file ${htpasswd}; } }
    location /dav-open/ { alias ${www}/; ${dav} }
    location /dav-bearer/ { alias ${www}/; ${dav} if ($http_authorization != "Bearer ${auth.bearer}") { return 401; } }
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child = spawn(NGINX, ['-p', dir, '-c', confFile, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, child, errorLog);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  const log = () => (existsSync(accessLog) ? readFileSync(accessLog, 'utf8').split('\n').filter(Boolean) : []);
  return {
    url: `http://127.0.0.1:${port}`,
    www,
    www2,
    decoy,
    log,
    puts: () => log().filter((l) => l.startsWith('PUT ')),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
