// `init`: the written airgap.toml loads with the real config loader, carries the options given,
// keeps the template's comments, and never replaces an existing file. The CLI is run as a child
// process from dist (built by `npm test`'s pretest).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderInitConfig, writeInitConfig } from '../../src/commands/init.js';
import { loadConfig } from '../../src/config.js';
import { templatesDir } from '../../src/demo/templates.js';
import { tempDir } from '../fixtures/gitrepo.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const tmp = tempDir('julia-airgap-init-');
let n = 0;
const fresh = () => path.join(tmp.dir, `case-${++n}`, 'airgap.toml');

afterAll(() => tmp.cleanup());

async function cli(args: string[], cwd = tmp.dir): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('init (library)', () => {
  it('finds the templates from source', () => {
    expect(existsSync(path.join(templatesDir(), 'airgap.toml'))).toBe(true);
  });

  it('with no options writes the template as is, and it loads', async () => {
    const file = await writeInitConfig(fresh(), {});
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(path.join(templatesDir(), 'airgap.toml'), 'utf8'));
    const c = await loadConfig(file);
    expect(c.upstream.registry).toBe('https://github.com/JuliaRegistries/General.git');
    expect(c.git.kind).toBe('dir');
    // nothing but the file itself: the temp name was renamed into place
    expect(readdirSync(path.dirname(file))).toEqual(['airgap.toml']);
  });

  it('fills in packages and the registry; a local registry path becomes absolute', async () => {
    const file = fresh();
    const cwdRelative = path.relative(process.cwd(), path.join(tmp.dir, 'General'));
    await writeInitConfig(file, { packages: ['Plots', 'DataFrames', '7876af07-990d-54b4-ab0e-23690620f79a'], registry: cwdRelative });
    const c = await loadConfig(file);
    expect(c.select.packages).toEqual(['Plots', 'DataFrames', '7876af07-990d-54b4-ab0e-23690620f79a']);
    expect(c.upstream.registry).toBe(path.join(tmp.dir, 'General'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# Package names or UUIDs; their dependency closure');
    expect(text).not.toContain('"Example"');
  });

  it('sets the kinds, leaves their other keys commented and says what each kind needs', async () => {
    const file = fresh();
    await writeInitConfig(file, { gitKind: 'gitea', gitUrl: 'https://gitea.internal', artifactsKind: 'gitlab', artifactsUrl: 'https://gitlab.internal' });
    const c = await loadConfig(file);
    expect(c.git).toMatchObject({ kind: 'gitea', url: 'https://gitea.internal', owner: undefined, tokenEnv: undefined });
    expect(c.artifacts).toMatchObject({ kind: 'gitlab', url: 'https://gitlab.internal', project: undefined });
    const text = readFileSync(file, 'utf8');
    const section = (name: string) => text.slice(text.indexOf(`[${name}]`)).split(/\n(?=\[)/)[0]!;
    const git = section('git');
    const art = section('artifacts');
    // one uncommented kind per section, followed by what that kind needs
    expect(git.match(/^kind = .*$/gm)).toEqual(['kind = "gitea"']);
    expect(art.match(/^kind = .*$/gm)).toEqual(['kind = "gitlab"']);
    expect(git).toMatch(/^kind = "gitea"\n# kind = "gitea" needs url .*owner, token_env/m);
    expect(art).toMatch(/^kind = "gitlab"\n# kind = "gitlab" needs url .*project, token_env/m);
    expect(git.match(/^url = .*$/gm)).toEqual(['url = "https://gitea.internal"']);
    // the kind's other keys are shown, commented
    for (const key of ['owner', 'token_env', 'api_url']) expect(git).toMatch(new RegExp(`^# ${key} = `, 'm'));
    for (const key of ['project', 'token_env', 'package_name']) expect(art).toMatch(new RegExp(`^# ${key} = `, 'm'));
  });

  it('without a kind block in the template, adds the kind and lists its keys', () => {
    const out = renderInitConfig('[upstream]\nregistry = "x"\n[select]\npackages = ["A"]\n[git]\n# url = "http://127.0.0.1:8080/git"\n[artifacts]\n', { gitKind: 'gitlab', gitUrl: 'https://gl.internal' });
    expect(out).toContain('[git]\nkind = "gitlab"\n# kind = "gitlab" needs url');
    expect(out).toMatch(/^# group = "julia-mirror" /m);
    expect(out).toMatch(/^url = "https:\/\/gl.internal"$/m);
  });

  it('an explicit dir kind needs nothing else and loads', async () => {
    const file = fresh();
    await writeInitConfig(file, { gitKind: 'dir', artifactsKind: 'dir' });
    const c = await loadConfig(file);
    expect(c.git.kind).toBe('dir');
    expect(readFileSync(file, 'utf8')).toMatch(/^kind = "dir"\n# kind = "dir" needs nothing else/m);
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const file = fresh();
    await expect(writeInitConfig(file, { gitKind: 'gitlab' })).rejects.toThrow(/--git gitlab needs --git-url too: url \(the instance/);
    await expect(writeInitConfig(file, { packages: ['Not-A-Name'] })).rejects.toThrow(/"Not-A-Name" is neither a Julia package name nor a UUID/);
    await expect(writeInitConfig(file, { gitKind: 'gitea', gitUrl: 'ftp://x/y' })).rejects.toThrow(/\[git\.url\]: "ftp:\/\/x\/y" must be an http/);
    expect(existsSync(file)).toBe(false);
  });

  it('never overwrites an existing file', async () => {
    const file = fresh();
    await writeInitConfig(file, {});
    writeFileSync(file, 'mine\n');
    await expect(writeInitConfig(file, { packages: ['Plots'] })).rejects.toThrow(/already exists; refusing to overwrite/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('renders against the template text alone (no file system)', () => {
    const out = renderInitConfig('[upstream]\nregistry = "x"\n[select]\n# packages = []\n[git]\n[artifacts]\n', { packages: ['A'], registry: 'https://h/r.git' });
    expect(out).toBe('[upstream]\nregistry = "https://h/r.git"\n[select]\npackages = ["A"]\n[git]\n[artifacts]\n');
  });
});

describe('init (CLI)', () => {
  it('--packages comma-separated and repeated; second run refuses with exit 1', async () => {
    const dir = path.dirname(fresh());
    const first = await cli(['init', '--packages', 'Plots,DataFrames', '--packages', 'CSV', '--output', path.join(dir, 'site.toml')]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('wrote ');
    const c = await loadConfig(path.join(dir, 'site.toml'));
    expect(c.select.packages).toEqual(['Plots', 'DataFrames', 'CSV']);

    const again = await cli(['init', '--packages', 'Other', '--output', path.join(dir, 'site.toml')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; refusing to overwrite');
    expect((await loadConfig(path.join(dir, 'site.toml'))).select.packages).toEqual(['Plots', 'DataFrames', 'CSV']);
  });

  it('defaults to ./airgap.toml, templates found from dist', async () => {
    const dir = path.dirname(fresh());
    mkdirSync(dir, { recursive: true });
    const r = await cli(['init'], dir);
    expect(r.code).toBe(0);
    expect((await loadConfig(path.join(dir, 'airgap.toml'))).select.packages).toEqual(['Example']);
  });

  it('--help names the options and gives an example', async () => {
    const r = await cli(['init', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--output', '--registry', '--packages', '--git', '--git-url', '--artifacts', '--artifacts-url']) expect(r.stdout).toContain(opt);
    expect(r.stdout).toMatch(/Examples:\n\s+julia-airgap init --packages Plots,DataFrames/);
  });
});
