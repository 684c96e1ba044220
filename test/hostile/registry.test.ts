// Hostile and broken registries: malformed TOML in each registry file, names that are not
// Julia identifiers or try `../`, tree hashes that are not 40 hex, and repo URLs that try option
// injection, `ext::` commands, local files from a remote registry, or carry credentials. Each
// gets a clear error naming the culprit; packages that can safely go on are published; nothing
// is written outside the state dir; a secret in a URL reaches no report, state file or fork.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { validateRemoteUrl } from '../../src/git/url.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { git, listFiles, runCli, writeWorldConfig } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, UUIDS, type World } from '../fixtures/world.js';
import { addPackage, commitRegistry, filesOutside, registryFiles } from './variant.js';

const tmp = tempDir('julia-airgap-hostile-reg-');
const MIRROR_URL = 'http://mirror.invalid:8080';
const SECRET = 's3cretTOKENvalue';
let world: World;
let base: Record<string, string>;
let n = 0;

async function syncVariant(files: Record<string, string>, o: { served?: boolean; packages?: string[] } = {}) {
  const name = `v${++n}`;
  const registry = commitRegistry(world, name, files, o.served);
  const stateDir = path.join(tmp.dir, 'runs', name);
  const cfg = path.join(tmp.dir, 'runs', `${name}.toml`);
  mkdirSync(path.dirname(cfg), { recursive: true });
  writeWorldConfig(cfg, { registry, stateDir, mirrorUrl: MIRROR_URL, packages: o.packages });
  const before = filesOutside(tmp.dir, [stateDir]);
  const report = await sync(await loadConfig(cfg));
  // Nothing outside the state dir (which holds the dir targets) was created or removed.
  expect(filesOutside(tmp.dir, [stateDir])).toEqual(before);
  return { report, stateDir, cfg };
}

const copy = () => ({ ...base });

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  base = registryFiles(world.registryDir);
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('malformed registry files', () => {
  const fatal = (r: SyncReport, stateDir: string, culprit: string) => {
    expect(r.exitCode).toBe(1);
    expect(r.error?.message).toContain(culprit);
    expect(r.fork).toBeUndefined();
    expect(existsSync(path.join(stateDir, 'mirror', 'git', 'General.git'))).toBe(false);
  };
  /** One package's files are broken: it is left out, naming the file; the rest is published. */
  const leftOut = async (r: SyncReport, stateDir: string, culprit: string) => {
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(3); // Bar_jll 2.0.0+0's artifact 404s in the world, always
    expect(r.warnings.join('\n')).toContain(culprit);
    const item = r.failures.find((f) => f.key === `package:${UUIDS.Example}`);
    expect(item?.code).toBe('bad-registry-file');
    expect(item?.reason).toContain(culprit);
    const registry = await git(['--git-dir', path.join(stateDir, 'mirror', 'git', 'General.git'), 'show', 'HEAD:Registry.toml']);
    expect(registry).not.toContain('name = "Example"');
    // packages that do not need it are published; those that require it are left out with it
    expect(registry).toContain('name = "Foo_jll"');
    expect(registry).toContain('name = "MonoA"');
    expect(registry).not.toContain('name = "UsesFoo"');
  };

  it('Registry.toml: fatal, naming the file, nothing published', async () => {
    const f = copy();
    f['Registry.toml'] += '\n[packages\n';
    const { report, stateDir } = await syncVariant(f);
    fatal(report, stateDir, 'Registry.toml');
  });

  it('Package.toml: that package is left out, the rest published', async () => {
    const f = copy();
    f['E/Example/Package.toml'] = 'name = "Example\nuuid = 1\n';
    const { report, stateDir } = await syncVariant(f);
    await leftOut(report, stateDir, 'E/Example/Package.toml');
  });

  it('Versions.toml, and a tree hash that is not 40 hex: that package is left out', async () => {
    const f = copy();
    f['E/Example/Versions.toml'] = '["0.1.0"]\ngit-tree-sha1 = "abc"\n';
    const { report, stateDir } = await syncVariant(f);
    await leftOut(report, stateDir, 'E/Example/Versions.toml');
    expect(report.warnings.join('\n')).toMatch(/0\.1\.0: git-tree-sha1 must be 40 hex digits, got "abc"/);
    const g = copy();
    g['E/Example/Versions.toml'] = '["0.1.0"\ngit-tree-sha1 = \n';
    await leftOut((await syncVariant(g)).report, path.join(tmp.dir, 'runs', `v${n}`), 'E/Example/Versions.toml');
  });

  it('a registered path that climbs out with ../', async () => {
    const f = copy();
    f['Registry.toml'] = f['Registry.toml']!.replace('path = "E/Example"', 'path = "../../etc"');
    const { report, stateDir } = await syncVariant(f);
    fatal(report, stateDir, '../../etc');
  });
});

describe('names', () => {
  it('a registry name that is not a Julia identifier is refused, naming it', async () => {
    const f = copy();
    addPackage(f, { name: '../evil', uuid: 'e0000000-0000-4000-8000-0000000000e0', path: 'X/Evil', repo: world.repoUrl('Example.jl'), versions: { '1.0.0': world.trees.Example!['0.1.0']! } });
    const { report } = await syncVariant(f);
    const text = [report.error?.message ?? '', ...report.warnings].join('\n');
    expect(text).toContain('../evil');
    // Whether fatal or skipped, no path is ever built from it.
    expect(listFiles(path.join(tmp.dir, 'runs')).some((p) => p.includes('evil'))).toBe(false);
  });

  it('select.packages with ../ or a non-identifier: exit 1 naming it (CLI)', async () => {
    for (const bad of ['../Example', 'Exa mple', 'Example;rm']) {
      const cfg = path.join(tmp.dir, `sel-${n++}.toml`);
      writeWorldConfig(cfg, { registry: world.registryDir, stateDir: path.join(tmp.dir, `sel-${n}`), mirrorUrl: MIRROR_URL, packages: [bad] });
      const res = await runCli(['sync', '--config', cfg], { cwd: tmp.dir });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(bad);
      expect(res.stderr).not.toContain('internal error');
    }
  });
});

describe('hostile repo URLs in Package.toml (remote registry)', () => {
  let report: SyncReport;
  let stateDir: string;
  const marker = () => path.join(tmp.dir, 'PWNED');
  const hostile = () => ({
    Dash: '-uhelp',
    DashScp: '-oProxyCommand=touch% PWNED:x',
    Ext: `ext::sh -c touch% ${marker()}`,
    ExtBare: 'ext::/usr/bin/true',
    FileUrl: `file://${path.join(world.root, 'upstream-git', 'Example.jl.git')}`,
    LocalPath: path.join(world.root, 'upstream-git', 'Example.jl.git'),
    Creds: `http://user:${SECRET}@127.0.0.1:1/x.git`,
    CredsQuery: `https://example.invalid/x.git?access_token=${SECRET}`,
    CredsScp: `git:${SECRET}@example.invalid:x.git`,
  });

  beforeAll(async () => {
    const f = copy();
    let i = 0;
    for (const [name, repo] of Object.entries(hostile())) {
      addPackage(f, { name, uuid: `d0000000-0000-4000-8000-00000000000${i++}`, path: `H/${name}`, repo, versions: { '1.0.0': world.trees.Example!['0.1.0']! } });
    }
    ({ report, stateDir } = await syncVariant(f, { served: true, packages: ['UsesFoo', 'MonoB', 'Bar_jll', ...Object.keys(hostile())] }));
  });

  it('refuses each before git sees it, naming the URL and the rule; the rest is published', () => {
    expect(report.error, report.error?.message).toBeUndefined();
    expect(report.exitCode).toBe(3);
    const reasons = (pkg: string) => report.failures.filter((f) => f.package === pkg).map((f) => f.reason).join('\n');
    expect(reasons('Dash')).toMatch(/-uhelp.*must not start with "-"/);
    expect(reasons('DashScp')).toMatch(/-oProxyCommand.*(must not start with "-"|whitespace)/);
    expect(reasons('Ext')).toMatch(/ext::sh.*(whitespace|"<transport>::" URLs are not allowed)/);
    expect(reasons('ExtBare')).toMatch(/ext::\/usr\/bin\/true: git "<transport>::" URLs are not allowed/);
    expect(reasons('FileUrl')).toMatch(/file:\/\/.*only allowed for local test upstreams/);
    expect(reasons('LocalPath')).toMatch(/local paths are only allowed/);
    for (const c of ['Creds', 'CredsQuery', 'CredsScp']) expect(reasons(c), c).toMatch(/credentials embedded in the URL are not allowed/);
    expect(existsSync(marker())).toBe(false);
    // Everything else went on: 9 versions of the world's 6 packages, as in a clean run.
    expect(report.counts.versionsKept).toBe(9);
    for (const p of Object.keys(hostile())) expect(report.warnings.join('\n')).toContain(`${p}: no complete version`);
  });

  it('the secret in a URL reaches no report, no state file, no log line and no fork', () => {
    expect(JSON.stringify(report)).not.toContain(SECRET);
    for (const f of listFiles(stateDir)) {
      if (f.includes('/objects/')) continue; // compressed; the fork's files are checked through git below
      expect(readFileSync(path.join(stateDir, f)).includes(SECRET), f).toBe(false);
    }
  });

  it('the fork keeps no hostile package', async () => {
    const reg = await git(['--git-dir', path.join(stateDir, 'mirror', 'git', 'General.git'), 'show', 'HEAD:Registry.toml']);
    for (const p of Object.keys(hostile())) expect(reg).not.toContain(`name = "${p}"`);
    expect(await git(['--git-dir', path.join(stateDir, 'mirror', 'git', 'General.git'), 'grep', '-c', SECRET, 'HEAD']).catch(() => '')).toBe('');
    expect(reg).toContain(UUIDS.UsesFoo);
  });

  it('file:// and local paths are allowed exactly when the registry itself is local', () => {
    const { FileUrl, LocalPath } = hostile();
    expect(() => validateRemoteUrl(FileUrl, { allowFile: true })).not.toThrow();
    expect(() => validateRemoteUrl(LocalPath, { allowFile: true })).not.toThrow();
    expect(() => validateRemoteUrl('file://remote-host/x.git', { allowFile: true })).toThrow(/must name a local path/);
    expect(() => validateRemoteUrl(FileUrl, { allowFile: false })).toThrow(/only allowed for local test upstreams/);
  });
});
