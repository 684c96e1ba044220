// `demo` end to end: the sample upstream from templates/demo, a real sync over loopback HTTP,
// the upstream stopped, and verify against the mirror alone. Then the CLI, as a child process
// from dist (built by `npm test`'s pretest).

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { demoInstructions, runDemo, type DemoResult } from '../../src/demo/index.js';
import { tempDir } from '../fixtures/gitrepo.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const tmp = tempDir('julia-airgap-demo-');

afterAll(() => tmp.cleanup());

async function git(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout;
}

describe('demo (library)', () => {
  let r: DemoResult;
  const dir = path.join(tmp.dir, 'lib');

  beforeAll(async () => {
    r = await runDemo({ dir });
  }, 240_000);

  it('sync is complete and verify passes with the upstream stopped', () => {
    expect(r.sync.error).toBeUndefined();
    expect(r.sync.failures).toEqual([]);
    expect(r.sync.exitCode).toBe(0);
    expect(r.sync.counts).toMatchObject({ packagesSelected: 4, packagesKept: 4, versionsKept: 5, versionsPatched: 1, repos: 3, artifactsRequired: 4, artifactsStored: 4 });
    expect(r.verify?.failures).toEqual([]);
    expect(r.verify?.ok).toBe(true);
    expect(r.verify?.counts).toMatchObject({ packages: 4, versions: 5, artifacts: 4 });
    expect(r.exitCode).toBe(0);
    expect(r.server).toBeUndefined();
  });

  it('the fork lists the packages and points at the inside server', async () => {
    const clone = path.join(tmp.dir, 'fork');
    await git(['clone', '--quiet', path.join(dir, 'state', 'mirror', 'git', 'DemoRegistry.git'), clone]);
    const registry = readFileSync(path.join(clone, 'Registry.toml'), 'utf8');
    for (const name of ['DemoGreet', 'DemoCore', 'DemoPlots', 'DemoTool_jll']) expect(registry).toContain(`name = "${name}"`);
    expect(readFileSync(path.join(clone, 'D', 'DemoCore', 'Package.toml'), 'utf8')).toMatch(new RegExp(`repo = "${r.insideUrl}/git/[^"]+"\\nsubdir = "lib/DemoCore"`));
    expect(readFileSync(path.join(clone, 'D', 'DemoGreet', 'Versions.toml'), 'utf8')).toMatch(/\["0\.1\.0"\][\s\S]*\["0\.2\.0"\]/);
  });

  it('packs every platform of the JLL and writes a config that loads', async () => {
    expect(r.upstream.artifacts.map((a) => a.platform).sort()).toEqual(['aarch64-linux-gnu', 'x86_64-apple-darwin', 'x86_64-linux-gnu', 'x86_64-w64-mingw32']);
    // The mirror holds exactly those tarballs, byte for byte what was packed (named by sha256).
    // (dot entries are the store's staging dir, never served; it must hold nothing half-copied)
    const artRoot = path.join(dir, 'state', 'mirror', 'artifacts');
    const stored = readdirSync(artRoot).filter((n) => !n.startsWith('.')).sort();
    expect(stored).toEqual(r.upstream.artifacts.map((a) => a.sha256).sort());
    expect(existsSync(path.join(artRoot, '.tmp')) ? readdirSync(path.join(artRoot, '.tmp')) : []).toEqual([]);
    const c = await loadConfig(r.configFile);
    expect(c.git.url).toBe(`${r.insideUrl}/git`);
    const text = demoInstructions(r, false);
    expect(text).toContain(`pkg> registry add ${r.insideUrl}/git/DemoRegistry.git`);
    expect(text).toContain('export JULIA_PKG_SERVER=""');
    expect(text).toContain(`serve --config ${r.configFile}`);
  });

  it('builds the same upstream every time (deterministic tarballs and commits)', async () => {
    const again = await runDemo({ dir, force: true });
    expect(again.exitCode).toBe(0);
    expect(again.upstream.artifacts.map((a) => [a.sha256, a.treeSha1])).toEqual(r.upstream.artifacts.map((a) => [a.sha256, a.treeSha1]));
    // The JLL's Artifacts.toml names the upstream server's (ephemeral) port; every other tree is the same.
    const trees = (d: DemoResult) => d.upstream.packages.filter((p) => !p.name.endsWith('_jll')).map((p) => [p.name, p.versions.map((v) => v.tree)]);
    expect(trees(again)).toHaveLength(3);
    expect(trees(again)).toEqual(trees(r));
  }, 240_000);

  it('refuses a non-empty directory without --force, and never deletes what a demo did not make', async () => {
    const other = path.join(tmp.dir, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'notes.txt'), 'mine\n');
    await expect(runDemo({ dir: other })).rejects.toThrow(/other is not empty; pass --force/);
    mkdirSync(path.join(other, 'state'));
    await expect(runDemo({ dir: other, force: true })).rejects.toThrow(/already has state from something other than a demo/);
    expect(readFileSync(path.join(other, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(path.join(other, 'upstream'))).toBe(false);
  });
});

describe('demo (CLI)', () => {
  it('`demo --dir` exits 0 and prints the registry add line', async () => {
    const dir = path.join(tmp.dir, 'cli');
    const child = spawn(process.execPath, [CLI, 'demo', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // Bounded: a hung demo is killed (and fails the test) rather than outliving it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 200_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() => clearTimeout(timer));
    expect(err).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(out).toMatch(/pkg> registry add http:\/\/127\.0\.0\.1:\d+\/git\/DemoRegistry\.git/);
    expect(out).toContain('JULIA_PKG_SERVER=""');
    expect(out).toMatch(/julia-airgap serve --config \S+airgap\.toml --port \d+/);
  }, 240_000);

  it('--help names the options and gives an example', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'demo', '--help'], { encoding: 'utf8', timeout: 60_000 });
    for (const opt of ['--dir', '--force', '--keep-serving']) expect(stdout).toContain(opt);
    expect(stdout).toMatch(/Examples:\n\s+julia-airgap demo/);
  });
});
