// Any git server that creates a repository on its first push: gitolite wild repos, Gitea with
// push-to-create, http-backend behind a creation hook. There is no API: the push creates the
// repo, and authentication is git's own (ssh keys and config, GIT_SSH_COMMAND, credential
// helpers). The one thing a push cannot do is set HEAD; gitolite's `symbolic-ref` command can,
// over ssh, when the site enabled it.

import { spawn } from 'node:child_process';
import { ConfigError, errorMessage } from '../errors.js';
import { checkRefFormat } from '../git/pins.js';
import { gitEnv } from '../git/run.js';
import { checkRepoName, type GitHost } from './host.js';

export interface PushCreateOptions {
  /** clone URL template with {name}, e.g. http://git.internal/julia/{name}.git */
  url: string;
  /** push URL template with {name}, e.g. gitolite3@git.internal:julia/{name}; default: url */
  pushUrl?: string;
  configFile: string;
  warn: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const NAME = '{name}';

/** ssh destination and remote repo path of an ssh push URL, or undefined for other transports. */
export function sshParts(url: string): { dest: string; port?: string; repo: string } | undefined {
  const m = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/(.*)$/.exec(url);
  const trim = (p: string) => p.replace(/^\/+/, '').replace(/\.git$/, '');
  if (m) return { dest: `${m[1] ? `${m[1]}@` : ''}${m[2]!.replace(/^\[|\]$/g, '')}`, port: m[3], repo: trim(m[4]!) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  const s = /^(?:([^@/:]+)@)?([^@/:]+):(.+)$/.exec(url);
  if (s) return { dest: `${s[1] ? `${s[1]}@` : ''}${s[2]}`, repo: trim(s[3]!) };
  return undefined;
}

/** Runs the ssh command git would run (GIT_SSH_COMMAND, GIT_SSH or ssh) with `args`. */
function runSsh(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  const cmd = env.GIT_SSH_COMMAND ?? (env.GIT_SSH ? `'${env.GIT_SSH.replace(/'/g, `'\\''`)}'` : 'ssh');
  return new Promise((resolve) => {
    // Like git, the command is a shell snippet and our arguments follow it as "$@".
    const child = spawn('sh', ['-c', `${cmd} "$@"`, 'ssh', '-o', 'BatchMode=yes', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

export function pushCreateHost(opts: PushCreateOptions): GitHost {
  const pushUrl = opts.pushUrl ?? opts.url;
  if (!opts.url.includes(NAME)) throw new ConfigError(opts.configFile, 'git.url', `must contain ${NAME} for kind = "push" (e.g. "http://git.internal/julia/{name}.git")`);
  if (opts.pushUrl !== undefined && !opts.pushUrl.includes(NAME)) {
    throw new ConfigError(opts.configFile, 'git.push_url', `must contain ${NAME} (e.g. "gitolite3@git.internal:julia/{name}")`);
  }
  const fill = (template: string, name: string) => {
    checkRepoName(template, name);
    return template.split(NAME).join(name);
  };
  let headWarned = false;
  const cannotSetHead = (why: string) => {
    if (headWarned) return;
    headWarned = true;
    opts.warn(`push host: HEAD (the default branch) cannot be set remotely: ${why}. Set it on the server (git symbolic-ref HEAD refs/heads/<branch>) for repos whose default branch matters, above all the registry.`);
  };

  return {
    kind: 'push',

    async ensureRepo(name) {
      // The first push creates it; only the name is checked here.
      fill(pushUrl, name);
    },

    cloneUrl(name) {
      return fill(opts.url, name);
    },

    pushTarget(name) {
      return { url: fill(pushUrl, name), config: [] };
    },

    async setDefaultBranch(name, branch) {
      checkRefFormat(`refs/heads/${branch}`);
      const ssh = sshParts(fill(pushUrl, name));
      if (!ssh) {
        cannotSetHead(`${pushUrl.split(NAME).join('<name>')} is not an ssh URL`);
        return;
      }
      const args = [...(ssh.port ? ['-p', ssh.port] : []), '--', ssh.dest, 'symbolic-ref', ssh.repo, 'HEAD', `refs/heads/${branch}`];
      try {
        const env = gitEnv({ env: opts.env as Record<string, string> | undefined });
        const { code, stderr } = await runSsh(args, env, opts.timeoutMs ?? 60_000);
        if (code !== 0) cannotSetHead(`"ssh ${ssh.dest} symbolic-ref" failed (exit ${code}: ${stderr.trim().split('\n').pop() ?? ''}); enable gitolite's symbolic-ref command`);
      } catch (err) {
        cannotSetHead(errorMessage(err));
      }
    },
  };
}
