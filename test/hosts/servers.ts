// Real push-to-create git servers for the `push` host tests, each on a free 127.0.0.1 port in a
// temp dir: gitolite3 behind a private sshd (wild repos, symbolic-ref enabled), and
// `git http-backend` behind nginx + fcgiwrap with a small CGI wrapper that creates a repo on its
// first push.

import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { freePort, listening, NGINX, startNginx, stop, waitFor, type Nginx } from '../fixtures/daemon.js';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BIN = {
  sshd: ['/usr/sbin/sshd'].find((p) => existsSync(p)),
  gitolite: ['/usr/bin/gitolite', '/usr/share/gitolite3/gitolite'].find((p) => existsSync(p)),
  nginx: NGINX,
  fcgiwrap: ['/usr/sbin/fcgiwrap', '/usr/bin/fcgiwrap'].find((p) => existsSync(p)),
  gitoliteShell: ['/usr/share/gitolite3/gitolite-shell'].find((p) => existsSync(p)),
};

export interface Gitolite {
  /** ssh://user@127.0.0.1:port */
  sshBase: string;
  /** GIT_SSH_COMMAND that authenticates with the throwaway key */
  sshCommand: string;
  /** gitolite's repositories directory */
  repos: string;
  close(): Promise<void>;
}

export async function startGitolite(dir: string, opts: { symbolicRef: boolean }): Promise<Gitolite> {
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const key = path.join(dir, 'client_key');
  const hostKey = path.join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mirror', '-f', key]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  // gitolite names the user after the key file
  const adminPub = path.join(dir, 'mirror.pub');
  writeFileSync(adminPub, readFileSync(`${key}.pub`));
  await run(BIN.gitolite!, ['setup', '-pk', adminPub], { env });
  const rcFile = path.join(home, '.gitolite.rc');
  let rc = readFileSync(rcFile, 'utf8');
  if (opts.symbolicRef) rc = rc.replace(/(\n\s*)'help',/, `$1'help',$1'symbolic-ref',`);
  writeFileSync(rcFile, rc);
  const conf = path.join(home, '.gitolite', 'conf', 'gitolite.conf');
  writeFileSync(conf, 'repo gitolite-admin\n    RW+ = mirror\n\nrepo julia/..*\n    C = @all\n    RW+ = @all\n');
  await run(BIN.gitolite!, ['compile'], { env });
  await run(BIN.gitolite!, ['trigger', 'POST_COMPILE'], { env });
  // gitolite-shell finds its rc through $HOME; sshd would give it the login user's real home.
  const pub = readFileSync(`${key}.pub`, 'utf8').trim();
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, `command="env HOME=${home} ${BIN.gitoliteShell} mirror",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty ${pub}\n`);
  const port = await freePort();
  const user = userInfo().username;
  const sshdConf = path.join(dir, 'sshd_config');
  writeFileSync(
    sshdConf,
    [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authorized}`, 'StrictModes no', 'UsePAM no',
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes', 'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`, `PidFile ${path.join(dir, 'sshd.pid')}`, 'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  // sshd refuses to start without its privilege-separation directory
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const child = spawn(BIN.sshd!, ['-D', '-e', '-f', sshdConf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitFor(listening(port), child, 'sshd', () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    sshBase: `ssh://${user}@127.0.0.1:${port}`,
    sshCommand: `ssh -i ${key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`,
    repos: path.join(home, 'repositories'),
    close: () => stop(child),
  };
}

export interface NginxGit {
  url: string;
  root: string;
  /** request lines `<method> <uri> <status>` */
  log(): string[];
  close(): Promise<void>;
}

export async function startNginxGit(dir: string): Promise<NginxGit> {
  const root = path.join(dir, 'git');
  for (const d of [root, path.join(dir, 'logs'), path.join(dir, 'tmp')]) mkdirSync(d, { recursive: true });
  // http-backend cannot create repos; this wrapper does, for a first push under /julia/ only.
  const wrapper = path.join(dir, 'git-create.cgi');
  writeFileSync(
    wrapper,
    `#!/bin/sh
repo=""
case "$PATH_INFO" in
  */info/refs) repo="\${PATH_INFO%/info/refs}" ;;
  */git-receive-pack) repo="\${PATH_INFO%/git-receive-pack}" ;;
esac
case "$repo" in
  *..*|*[!A-Za-z0-9._/-]*) ;;
  /julia/?*.git)
    if [ "$QUERY_STRING" = "service=git-receive-pack" ] && [ ! -d "$GIT_PROJECT_ROOT$repo" ]; then
      git init --bare --quiet "$GIT_PROJECT_ROOT$repo" >&2
    fi ;;
esac
exec git http-backend
`,
  );
  chmodSync(wrapper, 0o755);
  const sock = path.join(dir, 'fcgi.sock');
  const fcgi = spawn(BIN.fcgiwrap!, ['-c', '2', '-s', `unix:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let fcgiErr = '';
  fcgi.stderr!.on('data', (d: Buffer) => (fcgiErr += d.toString()));
  await waitFor(async () => existsSync(sock), fcgi, 'fcgiwrap', () => fcgiErr);
  let ng: Nginx;
  try {
    ng = await startNginx(dir, {
      logFormat: '$request_method $request_uri $status',
      server: () => `
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME ${wrapper};
      fastcgi_param GIT_PROJECT_ROOT ${root};
      fastcgi_param GIT_HTTP_EXPORT_ALL 1;
      fastcgi_param PATH_INFO $uri;
      fastcgi_param GIT_PROTOCOL $http_git_protocol;
      # stands in for the site's authentication: with REMOTE_USER set, http-backend allows pushes
      fastcgi_param REMOTE_USER mirror;
      fastcgi_request_buffering off;
      fastcgi_pass unix:${sock};
    }`,
    });
  } catch (err) {
    fcgi.kill('SIGKILL');
    throw err;
  }
  return {
    url: ng.url,
    root,
    log: ng.log,
    close: async () => {
      await ng.close();
      await stop(fcgi);
    },
  };
}
