// The one place that spawns git. Everything else goes through `git()` / `gitText()` (or
// `spawnGit()` for long-lived processes) so that the safety settings below can't be forgotten.

import { spawn, type ChildProcess } from 'node:child_process';
import { GitError, redactUrl } from '../errors.js';

export interface GitConfigPair {
  key: string;
  value: string;
}

export interface GitRunOptions {
  gitDir?: string;
  cwd?: string;
  input?: string | Buffer;
  /** Passed through GIT_CONFIG_* environment variables, never argv: values may be secrets. */
  config?: GitConfigPair[];
  env?: Record<string, string>;
  timeoutMs?: number;
  allowExitCodes?: number[];
  /** Names the repository in error messages (a URL is redacted). Defaults to gitDir. */
  label?: string;
  /**
   * Non-secret settings passed as `-c key=value` before the subcommand. Unlike `config`, they
   * are not scrubbed from messages (scrubbing "never" or "always" would garble them).
   */
  settings?: GitConfigPair[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

// Inherited from a parent git (e.g. when run from a hook) these would silently redirect our
// commands to another repository.
const REPO_ENV_VARS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
  'GIT_QUARANTINE_PATH',
];

// Keep the tail of stderr only: a failing fetch over thousands of refs can be chatty, and the
// message only ever shows the last lines.
const STDERR_CAP = 64 * 1024;

/** Environment for a git child: non-interactive, C locale, config pairs appended. */
export function gitEnv(opts: Pick<GitRunOptions, 'config' | 'env'> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REPO_ENV_VARS) delete env[k];
  Object.assign(env, opts.env);
  env.GIT_TERMINAL_PROMPT = '0';
  // `echo` answers any credential prompt with an empty line, so git fails instead of hanging.
  env.GIT_ASKPASS = 'echo';
  env.SSH_ASKPASS = 'echo';
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  const pairs = opts.config ?? [];
  if (pairs.length > 0) {
    // Append to pairs the operator may already pass this way (e.g. http.sslCAInfo).
    const inherited = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10);
    const base = Number.isFinite(inherited) && inherited > 0 ? inherited : 0;
    pairs.forEach((p, i) => {
      if (!/^[A-Za-z][A-Za-z0-9-]*\.[^\n\0]+$/.test(p.key)) {
        throw new GitError('git', ['config'], null, `invalid config key ${JSON.stringify(p.key)}`);
      }
      env[`GIT_CONFIG_KEY_${base + i}`] = p.key;
      env[`GIT_CONFIG_VALUE_${base + i}`] = p.value;
    });
    env.GIT_CONFIG_COUNT = String(base + pairs.length);
  }
  return env;
}

/** Full argv after `git`: the global safety options, --git-dir, then the caller's args. */
export function gitArgv(args: readonly string[], gitDir?: string, settings: readonly GitConfigPair[] = []): string[] {
  const argv = ['-c', 'protocol.ext.allow=never'];
  for (const { key, value } of settings) {
    if (!/^[A-Za-z][A-Za-z0-9-]*\.[^\n\0=]+$/.test(key) || /[\n\0]/.test(value)) {
      throw new GitError('git', ['-c'], null, `invalid setting ${JSON.stringify(key)}`);
    }
    argv.push('-c', `${key}=${value}`);
  }
  if (gitDir !== undefined) argv.push(`--git-dir=${gitDir}`);
  argv.push(...args);
  return argv;
}

/**
 * Removes secrets from text meant for humans: every config value given to git (and, for values
 * like `Authorization: Bearer <tok>`, each long word of it), and credentials inside URLs.
 */
export function scrubSecrets(text: string, config: readonly GitConfigPair[] = []): string {
  let out = text;
  const secrets = new Set<string>();
  for (const { value } of config) {
    if (value.length >= 4) secrets.add(value);
    for (const word of value.split(/[\s:=,]+/)) if (word.length >= 8) secrets.add(word);
  }
  // Longest first, so a whole value is replaced before a word inside it.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

function redactArgs(args: readonly string[], config: readonly GitConfigPair[]): string[] {
  return args.map((a) => scrubSecrets(/^[a-z][a-z0-9+.-]*:\/\//i.test(a) ? redactUrl(a) : a, config));
}

function repoLabel(opts: GitRunOptions): string {
  const raw = opts.label ?? opts.gitDir ?? opts.cwd ?? process.cwd();
  return scrubSecrets(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? redactUrl(raw) : raw, opts.config);
}

/** A GitError with every secret scrubbed from args, repo and stderr. */
export function makeGitError(
  args: readonly string[],
  opts: GitRunOptions,
  exitCode: number | null,
  stderr: string,
): GitError {
  const config = opts.config ?? [];
  return new GitError(repoLabel(opts), redactArgs(args, config), exitCode, scrubSecrets(stderr, config));
}

/**
 * Spawns git with the safety settings, for callers that drive stdin/stdout themselves
 * (the cat-file reader). The caller owns the process.
 */
export function spawnGit(args: readonly string[], opts: GitRunOptions = {}): ChildProcess {
  return spawn('git', gitArgv(args, opts.gitDir, opts.settings), {
    cwd: opts.cwd,
    env: gitEnv(opts),
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
}

/**
 * Runs git to completion. Throws GitError (secrets scrubbed) on a non-zero exit not listed in
 * allowExitCodes, on spawn failure and on timeout.
 */
export async function git(args: string[], opts: GitRunOptions = {}): Promise<GitResult> {
  const env = gitEnv(opts);
  const argv = gitArgv(args, opts.gitDir, opts.settings);
  return new Promise<GitResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn('git', argv, {
        cwd: opts.cwd,
        env,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        // Own process group, so a timeout also kills git's helpers (remote-https, ssh), and
        // no controlling terminal, so ssh cannot prompt.
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      reject(makeGitError(args, opts, null, `cannot start git: ${(err as Error).message}`));
      return;
    }
    live.add(child);
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const timer =
      opts.timeoutMs !== undefined && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child);
          }, opts.timeoutMs)
        : undefined;

    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      err += s;
      if (err.length > 2 * STDERR_CAP) err = err.slice(-STDERR_CAP);
    });
    child.on('error', (e) => {
      live.delete(child);
      finish(() => reject(makeGitError(args, opts, null, `cannot run git: ${e.message}`)));
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      finish(() => {
        if (timedOut) {
          reject(makeGitError(args, opts, null, `${err}\ntimed out after ${opts.timeoutMs} ms`));
          return;
        }
        if (code === null) {
          reject(makeGitError(args, opts, null, `${err}\nkilled by ${signal}`));
          return;
        }
        if (code !== 0 && !(opts.allowExitCodes ?? []).includes(code)) {
          reject(makeGitError(args, opts, code, err));
          return;
        }
        resolve({ stdout: Buffer.concat(out), stderr: err, code });
      });
    });
    if (opts.input !== undefined && child.stdin) {
      // git may exit before reading all input (e.g. on a bad argument); its exit status is the
      // error worth reporting, not EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

// git() children run in their own process group (so a timeout reaches git's helpers), which
// also shields them from the terminal's Ctrl-C. Kill them when this process exits; a CLI that
// traps SIGINT/SIGTERM should call process.exit() so this runs.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** stdout as UTF-8 without its final newline. */
export async function gitText(args: string[], opts?: GitRunOptions): Promise<string> {
  const { stdout } = await git(args, opts);
  return stdout.toString('utf8').replace(/\r?\n$/, '');
}
