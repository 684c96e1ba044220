// End to end with the `http` store: `sync` of the world fixture publishing artifacts by PUT to a
// real nginx DAV server (git stays `dir`, served by `julia-airgap serve`'s server), a client-side
// download of a patched URL, a search for the upload token everywhere the run writes, and the
// "URL scheme fixed at first sync" rule: a changed artifacts.url is refused without
// --rebase-urls, and with it every patched tree and URL moves to the new base.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { silentReporter } from '../../src/sync/report.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, writeWorldConfig, type World } from '../fixtures/world.js';
import { nginxHasDav, startDav, type DavServer } from './nginx-dav.js';

const canRun = nginxHasDav();
if (!canRun) console.warn('skipping the http-store end-to-end test: nginx with http_dav_module is not installed (CI installs nginx-light)');

const USER = 'airgap-up';
const PASSWORD = 'Pw-e2e-4b9d0a7c31f2';
const TOKEN = `${USER}:${PASSWORD}`;

async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } });
  return stdout.trim();
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!canRun)('sync with the http store (nginx DAV)', () => {
  const tmp = tempDir('julia-airgap-http-e2e-');
  const stateDir = path.join(tmp.dir, 'state');
  const env = { ...process.env, AIRGAP_DAV_TOKEN: TOKEN };
  let world: World;
  let mirror: RunningServer;
  let dav: DavServer;
  let config: Config;
  let first: SyncReport;
  const rep = silentReporter();

  const writeConfig = async (name: string, artifactsPath: string, uploadPath: string) => {
    const file = path.join(tmp.dir, name);
    writeWorldConfig(file, {
      registry: world.registryDir,
      stateDir: 'state',
      git: [`url = "${mirror.url}/git"`],
      artifacts: ['kind = "http"', `url = "${dav.url}/${artifactsPath}"`, `upload_url = "${dav.url}/${uploadPath}"`, 'token_env = "AIRGAP_DAV_TOKEN"'],
    });
    return loadConfig(file);
  };

  /** Clones the fork and returns the patched Artifacts.toml download URLs of Foo_jll 1.0.0+0. */
  const clientView = async (label: string) => {
    const client = path.join(tmp.dir, `client-${label}`);
    mkdirSync(client, { recursive: true });
    const registry = path.join(client, 'General');
    await git(['clone', '--quiet', `${mirror.url}/git/General.git`, registry]);
    const versions = parseToml(readFileSync(path.join(registry, 'jll/F/Foo_jll/Versions.toml'), 'utf8')) as Record<string, { 'git-tree-sha1': string }>;
    const tree = versions['1.0.0+0']!['git-tree-sha1'];
    const pkg = parseToml(readFileSync(path.join(registry, 'jll/F/Foo_jll/Package.toml'), 'utf8')) as { repo: string };
    const clone = path.join(client, 'Foo_jll.git');
    await git(['clone', '--quiet', '--bare', pkg.repo, clone]);
    const toml = await git(['--git-dir', clone, 'show', `${tree}:Artifacts.toml`]);
    const parsed = parseToml(toml) as Record<string, Array<{ arch: string; download: Array<{ url: string; sha256: string }> }>>;
    const linux = parsed.Foo!.find((e) => e.arch === 'x86_64')!;
    return { registry, tree, downloads: linux.download, allUrls: Object.values(parsed).flat().flatMap((e) => e.download.map((d) => d.url)) };
  };

  /** Downloads each URL that the mirror serves; at least one must match its sha256. */
  const downloadOne = async (downloads: Array<{ url: string; sha256: string }>) => {
    let ok = 0;
    for (const d of downloads) {
      const res = await fetch(d.url);
      if (res.status !== 200) continue; // the upstream 404 URL maps to bytes nobody has
      expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(d.sha256);
      ok++;
    }
    return ok;
  };

  beforeAll(async () => {
    world = await makeWorld(path.join(tmp.dir, 'world'));
    mkdirSync(path.join(stateDir, 'mirror', 'git'), { recursive: true });
    mirror = await startServer({ host: '127.0.0.1', port: 0, gitRoot: path.join(stateDir, 'mirror', 'git') });
    dav = await startDav(path.join(tmp.dir, 'nginx'), { user: USER, password: PASSWORD, bearer: 'unused-bearer' });
    config = await writeConfig('airgap.toml', 'artifacts', 'dav');
    first = await sync(config, { env, reporter: rep });
  });

  afterAll(async () => {
    await world?.close().catch(() => undefined);
    await mirror?.close();
    await dav?.close();
    tmp.cleanup();
  });

  it('publishes every stored artifact with one authenticated PUT each', () => {
    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(3); // Bar_jll 2.0.0+0's only artifact URL 404s upstream, as in the dir e2e
    expect(first.counts.artifactsStored).toBeGreaterThan(0);
    const puts = dav.puts();
    expect(puts.length).toBeGreaterThanOrEqual(first.counts.artifactsStored);
    for (const p of puts) expect(p).toMatch(new RegExp(`^PUT /dav/[0-9a-f]{64}/[A-Za-z0-9._+-]+ 201 ${USER}$`));
  });

  it('a client downloads a patched artifact URL from nginx with the right sha256', async () => {
    const view = await clientView('first');
    for (const u of view.allUrls) expect(u.startsWith(`${dav.url}/artifacts/`)).toBe(true);
    expect(await downloadOne(view.downloads)).toBeGreaterThan(0);
  });

  it('the token appears in no log line, the JSON report, the state dir or the fork', async () => {
    expect(rep.lines.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, PASSWORD, Buffer.from(TOKEN).toString('base64')]) {
      for (const line of rep.lines) expect(line).not.toContain(secret);
      expect(JSON.stringify(first)).not.toContain(secret);
      for (const f of filesUnder(stateDir)) expect(readFileSync(f).includes(secret), f).toBe(false);
      const view = path.join(tmp.dir, 'client-first', 'General');
      expect(await git(['-C', view, 'log', '-p', '--all'])).not.toContain(secret);
    }
    const state = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { artifactsUrlScheme: string };
    expect(state.artifactsUrlScheme).toBe(`${dav.url}/artifacts/<sha256>/<file>`);
  });

  it('a second sync sends no PUT', async () => {
    const before = dav.puts().length;
    const again = await sync(config, { env });
    expect(again.exitCode).toBe(3);
    expect(dav.puts().length).toBe(before);
  });

  it('a changed artifacts.url is refused without --rebase-urls, and nothing is published', async () => {
    const moved = await writeConfig('airgap-moved.toml', 'artifacts2', 'dav2');
    const forkRepo = path.join(stateDir, 'mirror', 'git', 'General.git');
    const headBefore = await git(['--git-dir', forkRepo, 'rev-parse', 'HEAD']);
    const logBefore = dav.log().length;
    const refused = await sync(moved, { env });
    expect(refused.exitCode).toBe(1);
    expect(refused.error?.message).toContain(`${dav.url}/artifacts/<sha256>/<file>`);
    expect(refused.error?.message).toContain(`${dav.url}/artifacts2/<sha256>/<file>`);
    expect(refused.error?.message).toContain('--rebase-urls');
    expect(refused.error?.message).toContain('re-patches and republishes');
    expect(dav.log().length).toBe(logBefore);
    expect(await git(['--git-dir', forkRepo, 'rev-parse', 'HEAD'])).toBe(headBefore);
  });

  it('with --rebase-urls the fork lists new trees whose Artifacts.toml point at the new base', async () => {
    const before = await clientView('before-rebase');
    const moved = await loadConfig(path.join(tmp.dir, 'airgap-moved.toml'));
    const rebased = await sync(moved, { env, rebaseUrls: true });
    expect(rebased.error).toBeUndefined();
    expect(rebased.exitCode).toBe(3);
    expect(rebased.fork?.created).toBe(true);
    expect(dav.puts().filter((p) => p.startsWith('PUT /dav2/')).length).toBeGreaterThan(0);
    const after = await clientView('after-rebase');
    expect(after.tree).not.toBe(before.tree);
    for (const u of after.allUrls) expect(u.startsWith(`${dav.url}/artifacts2/`)).toBe(true);
    expect(await downloadOne(after.downloads)).toBeGreaterThan(0);
    const state = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { artifactsUrlScheme: string };
    expect(state.artifactsUrlScheme).toBe(`${dav.url}/artifacts2/<sha256>/<file>`);
    // and the new scheme is now the fixed one: a plain sync with it is accepted
    expect((await sync(moved, { env })).exitCode).toBe(3);
  });
});
