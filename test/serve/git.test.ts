import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import {
  childProcesses,
  git,
  gitFails,
  makeBareRepo,
  makeManyRefsRepo,
  rawRequest,
  removeDir,
  tempDir,
  waitFor,
  type FixtureRepo,
} from './helpers.js';

let home: string;
let gitRoot: string;
let server: RunningServer;
let repo: FixtureRepo;
const logLines: string[] = [];
const MANY = 2000;

async function gitChildren(): Promise<number> {
  return (await childProcesses()).filter((p) => p.comm.startsWith('git')).length;
}

beforeAll(async () => {
  home = await tempDir('git');
  gitRoot = path.join(home, 'root');
  await git(home, home, ['init', '-q', '--bare', path.join(gitRoot, 'placeholder.git')]);
  repo = await makeBareRepo(home, gitRoot, 'Example.jl');
  await makeManyRefsRepo(home, gitRoot, 'Many.jl', MANY);
  server = await startServer({ port: 0, gitRoot, log: (l) => logLines.push(l) });
});

afterAll(async () => {
  await server?.close();
  await removeDir(home);
});

function refsIn(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const [oid, ref] = line.split(/\s+/);
    if (oid && ref) m.set(ref, oid);
  }
  return m;
}

describe('git smart HTTP', () => {
  it('clones over http', async () => {
    const dest = path.join(home, 'clone-full');
    await git(home, home, ['clone', '-q', `${server.url}/git/Example.jl.git`, dest]);
    expect((await git(home, dest, ['rev-parse', 'HEAD'])).stdout.trim()).toBe(repo.refs.get('refs/heads/main'));
    expect((await git(home, dest, ['rev-list', '--count', 'HEAD'])).stdout.trim()).toBe(String(repo.commitsOnMain));
    const tags = (await git(home, dest, ['tag', '-l'])).stdout.split('\n');
    expect(tags).toContain('v0.1.0');
    expect(tags).toContain('julia-airgap/X/1.0.0');
    expect(logLines.some((l) => /^GET \/git\/Example\.jl\.git\/info\/refs\?service=git-upload-pack 200 \d+ \d+ms$/.test(l))).toBe(
      true,
    );
    expect(logLines.some((l) => /^POST \/git\/Example\.jl\.git\/git-upload-pack 200 \d+ \d+ms$/.test(l))).toBe(true);
  });

  it('shallow-clones with --depth=1 and then unshallows', async () => {
    const dest = path.join(home, 'clone-shallow');
    await git(home, home, ['clone', '-q', '--depth=1', `${server.url}/git/Example.jl.git`, dest]);
    expect((await git(home, dest, ['rev-parse', '--is-shallow-repository'])).stdout.trim()).toBe('true');
    expect((await git(home, dest, ['rev-list', '--count', 'HEAD'])).stdout.trim()).toBe('1');
    await git(home, dest, ['fetch', '-q', '--unshallow']);
    expect((await git(home, dest, ['rev-parse', '--is-shallow-repository'])).stdout.trim()).toBe('false');
    expect((await git(home, dest, ['rev-list', '--count', 'HEAD'])).stdout.trim()).toBe(String(repo.commitsOnMain));
  });

  for (const version of ['0', '2']) {
    it(`fetches every ref with +refs/*:refs/remotes/x/* (protocol v${version}), making pinned trees reachable`, async () => {
      const dest = path.join(home, `fetch-all-v${version}`);
      await git(home, home, ['init', '-q', dest]);
      await git(home, dest, [
        '-c',
        `protocol.version=${version}`,
        'fetch',
        '-q',
        '--no-tags',
        `${server.url}/git/Example.jl.git`,
        '+refs/*:refs/remotes/x/*',
      ]);
      const got = refsIn(
        (await git(home, dest, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/remotes/x/'])).stdout,
      );
      const expected = new Map([...repo.refs].map(([ref, oid]) => [`refs/remotes/x/${ref.slice('refs/'.length)}`, oid]));
      expect(got).toEqual(expected);
      expect((await git(home, dest, ['cat-file', '-t', repo.pinnedTree])).stdout.trim()).toBe('tree');
      expect((await git(home, dest, ['cat-file', '-t', repo.pinnedCommit])).stdout.trim()).toBe('commit');
    });
  }

  for (const [label, extra] of [
    ['gzipped', [] as string[]],
    ['chunked (no Content-Length)', ['-c', 'http.postBuffer=66000']],
  ] as const) {
    for (const version of ['0', '2']) {
      it(`accepts ${label} request bodies (protocol v${version})`, async () => {
        const dest = path.join(home, `many-${label.split(' ')[0]}-v${version}`);
        await git(home, home, ['init', '-q', dest]);
        const r = await git(
          home,
          dest,
          [...extra, '-c', `protocol.version=${version}`, 'fetch', '-q', `${server.url}/git/Many.jl.git`, '+refs/*:refs/remotes/x/*'],
          { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' },
        );
        const sent = r.stderr.split('\n').filter((l) => l.includes('=> Send header'));
        if (label === 'gzipped') expect(sent.some((l) => /Content-Encoding: gzip/i.test(l))).toBe(true);
        else expect(sent.some((l) => /Transfer-Encoding: chunked/i.test(l))).toBe(true);
        const count = (await git(home, dest, ['for-each-ref', 'refs/remotes/x/tags/'])).stdout.trim().split('\n').length;
        expect(count).toBe(MANY);
      });
    }
  }

  it('answers ls-remote with protocol v2 when asked, and v0 otherwise', async () => {
    const url = `${server.url}/git/Example.jl.git`;
    const v2 = await git(home, home, ['-c', 'protocol.version=2', 'ls-remote', url], { GIT_TRACE_PACKET: '1' });
    const v0 = await git(home, home, ['-c', 'protocol.version=0', 'ls-remote', url], { GIT_TRACE_PACKET: '1' });
    // The server's capability advertisement starts with "version 2" only under v2.
    expect(v2.stderr).toMatch(/< version 2/);
    expect(v0.stderr).not.toMatch(/< version 2/);
    for (const out of [v2.stdout, v0.stdout]) {
      const refs = refsIn(out);
      for (const [ref, oid] of repo.refs) expect(refs.get(ref)).toBe(oid);
      expect(refs.get('HEAD')).toBe(repo.refs.get('refs/heads/main'));
    }
  });

  it('refuses git push, even when the repository itself enables http.receivepack', async () => {
    await git(home, repo.bare, ['config', 'http.receivepack', 'true']);
    const dest = path.join(home, 'clone-push');
    await git(home, home, ['clone', '-q', `${server.url}/git/Example.jl.git`, dest]);
    await git(home, dest, ['commit', '-q', '--allow-empty', '-m', 'attempt']);
    for (const version of ['0', '2']) {
      const r = await gitFails(home, dest, ['-c', `protocol.version=${version}`, 'push', 'origin', 'HEAD:refs/heads/pushed']);
      expect(r.code).not.toBe(0);
    }
    const after = (await git(home, repo.bare, ['for-each-ref', '--format=%(refname)'])).stdout;
    expect(after).not.toContain('refs/heads/pushed');

    const adv = await rawRequest(server.url, '/git/Example.jl.git/info/refs?service=git-receive-pack');
    expect(adv.status).toBe(403);
    const post = await rawRequest(server.url, '/git/Example.jl.git/git-receive-pack', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-git-receive-pack-request' },
    });
    expect(post.status).toBe(403);
  });

  it('404s unknown repos and traversal out of the git root', async () => {
    expect((await rawRequest(server.url, '/git/Nope.git/info/refs?service=git-upload-pack')).status).toBe(404);
    for (const p of [
      '/git/../root/Example.jl.git/info/refs?service=git-upload-pack',
      '/git/%2e%2e/root/Example.jl.git/info/refs?service=git-upload-pack',
      '/git/Example.jl.git/%2E%2E%2F%2E%2E/HEAD',
      '/git/Example.jl.git%00/HEAD',
      '/git//etc/passwd',
    ]) {
      expect((await rawRequest(server.url, p)).status, p).toBe(404);
    }
    const failed = await gitFails(home, home, ['ls-remote', `${server.url}/git/Nope.git`]);
    expect(failed.code).not.toBe(0);
  });

  it('kills the CGI when the client aborts mid-request', async () => {
    expect(await waitFor(async () => (await gitChildren()) === 0)).toBe(true);
    const u = new URL(server.url);
    const sock = connect(Number(u.port), u.hostname);
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    // A declared body that never fully arrives keeps http-backend waiting on stdin.
    sock.write(
      'POST /git/Example.jl.git/git-upload-pack HTTP/1.1\r\nHost: x\r\n' +
        'Content-Type: application/x-git-upload-pack-request\r\nContent-Length: 100000\r\n\r\n0032want ',
    );
    expect(await waitFor(async () => (await gitChildren()) > 0)).toBe(true);
    sock.destroy();
    expect(await waitFor(async () => (await gitChildren()) === 0)).toBe(true);
  });
});

describe('server close', () => {
  it('ends keep-alive sockets and in-flight CGI processes', async () => {
    const s = await startServer({ port: 0, gitRoot });
    const u = new URL(s.url);
    const sock = connect(Number(u.port), u.hostname);
    sock.on('error', () => undefined);
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    // Without a consumer the socket never reads the server's FIN and never closes.
    sock.resume();
    sock.write(
      'POST /git/Example.jl.git/git-upload-pack HTTP/1.1\r\nHost: x\r\n' +
        'Content-Type: application/x-git-upload-pack-request\r\nContent-Length: 100000\r\n\r\n',
    );
    expect(await waitFor(async () => (await gitChildren()) > 0)).toBe(true);
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    await ended;
    expect(await waitFor(async () => (await gitChildren()) === 0)).toBe(true);
  });
});
