import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** A git environment isolated from the user's and system config, with proxies removed. */
export function gitEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || /proxy/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

export interface GitResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs git asynchronously. It must never be the sync variant: the server under test lives in
 * this same process and would be blocked from answering.
 */
export async function git(
  home: string,
  cwd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<GitResult> {
  const { stdout, stderr } = await execFileP('git', args, {
    cwd,
    env: gitEnv(home, extraEnv),
    maxBuffer: 64 * 1024 * 1024,
  });
  return { stdout, stderr };
}

/** Like git() but resolves with the failure instead of throwing. */
export async function gitFails(home: string, cwd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await git(home, cwd, args);
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
  throw new Error(`git ${args.join(' ')} unexpectedly succeeded`);
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `julia-airgap-serve-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface FixtureRepo {
  bare: string;
  /** Tree of the commit behind refs/tags/julia-airgap/X/1.0.0, reachable from no branch. */
  pinnedTree: string;
  pinnedCommit: string;
  /** Every ref of the bare repo: refname → object id. */
  refs: Map<string, string>;
  commitsOnMain: number;
}

/**
 * Builds `<gitRoot>/<name>.git` with three commits on main, a side branch, an annotated tag, a
 * lightweight tag, and a julia-airgap pin whose commit is on no branch (like a registered tree
 * that upstream only had on a deleted branch).
 */
export async function makeBareRepo(home: string, gitRoot: string, name: string): Promise<FixtureRepo> {
  const work = path.join(home, `work-${name}`);
  await git(home, home, ['init', '-q', '-b', 'main', work]);
  await writeFile(path.join(work, 'Project.toml'), `name = "${name}"\nversion = "0.1.0"\n`);
  await git(home, work, ['add', '.']);
  await git(home, work, ['commit', '-q', '-m', 'first']);
  await git(home, work, ['tag', '-a', 'v0.1.0', '-m', 'release 0.1.0']);
  await writeFile(path.join(work, 'README.md'), 'hello\n');
  await git(home, work, ['add', '.']);
  await git(home, work, ['commit', '-q', '-m', 'second']);
  await git(home, work, ['tag', 'light']);
  await git(home, work, ['checkout', '-q', '-b', 'side']);
  await writeFile(path.join(work, 'side.txt'), 'side\n');
  await git(home, work, ['add', '.']);
  await git(home, work, ['commit', '-q', '-m', 'side']);
  await git(home, work, ['checkout', '-q', 'main']);
  await writeFile(path.join(work, 'src.jl'), 'module X end\n');
  await git(home, work, ['add', '.']);
  await git(home, work, ['commit', '-q', '-m', 'third']);

  // The pinned tree: main's tree plus a patched Artifacts.toml, committed outside any branch.
  await writeFile(path.join(work, 'Artifacts.toml'), '[X]\ngit-tree-sha1 = "00"\n');
  await git(home, work, ['add', 'Artifacts.toml']);
  const pinnedTree = (await git(home, work, ['write-tree'])).stdout.trim();
  await git(home, work, ['reset', '-q', '--hard']);
  const pinnedCommit = (
    await git(home, work, ['commit-tree', pinnedTree, '-p', 'HEAD', '-m', 'julia-airgap pin X 1.0.0'])
  ).stdout.trim();
  await git(home, work, ['update-ref', 'refs/tags/julia-airgap/X/1.0.0', pinnedCommit]);
  await git(home, work, ['update-ref', 'refs/airgap/extra', 'side']);

  const bare = path.join(gitRoot, `${name}.git`);
  await git(home, home, ['init', '-q', '--bare', '-b', 'main', bare]);
  await git(home, work, ['push', '-q', '--mirror', bare]);

  const out = (await git(home, bare, ['for-each-ref', '--format=%(refname) %(objectname)'])).stdout;
  const refs = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const [ref, oid] = line.split(' ');
    if (ref && oid) refs.set(ref, oid);
  }
  return { bare, pinnedTree, pinnedCommit, refs, commitsOnMain: 3 };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends a request with a literal path: fetch() and URL would normalise `..` away. */
export function rawRequest(
  baseUrl: string,
  rawPath: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: rawPath, method: init.method ?? 'GET', headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** PIDs and names of this process's direct children (Linux `ps`). */
export async function childProcesses(): Promise<Array<{ pid: number; comm: string }>> {
  try {
    const { stdout } = await execFileP('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
    return stdout
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [pid, comm] = l.trim().split(/\s+/);
        return { pid: Number(pid), comm: comm ?? '' };
      });
  } catch {
    // ps exits 1 when nothing matches.
    return [];
  }
}

export async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/**
 * A bare repo with `count` commits, each reachable only through its own tag, so that fetching
 * every ref makes the client send `count` distinct wants: a request body big enough for git to
 * gzip it (or, with a small http.postBuffer, to stream it chunked without a Content-Length).
 */
export async function makeManyRefsRepo(home: string, gitRoot: string, name: string, count: number): Promise<string> {
  const bare = path.join(gitRoot, `${name}.git`);
  await git(home, home, ['init', '-q', '--bare', '-b', 'main', bare]);
  let stream = '';
  for (let i = 1; i <= count; i++) {
    const data = `file ${i}\n`;
    const msg = `commit ${i}\n`;
    stream +=
      `commit refs/tags/t${i}\nmark :${i}\ncommitter T <t@example.invalid> 1700000000 +0000\n` +
      `data ${Buffer.byteLength(msg)}\n${msg}` +
      `M 100644 inline f.txt\ndata ${Buffer.byteLength(data)}\n${data}\n`;
  }
  stream += `reset refs/heads/main\nfrom :${count}\n\n`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('git', ['fast-import', '--quiet'], { cwd: bare, env: gitEnv(home) }, (err) =>
      err ? reject(err) : resolve(),
    );
    child.stdin?.end(stream);
  });
  return bare;
}
