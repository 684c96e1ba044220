// Shared by the forge tests: a config for the world fixture with a given [git] section, a
// reporter that keeps every line, and an independent check of a published fork with plain git.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { loadConfig, type Config } from '../../src/config.js';
import { makeReporter, type Reporter } from '../../src/sync/report.js';
import { writeWorldConfig, type World } from '../fixtures/world.js';

/** Asynchronous: the servers under test run in this process. */
export async function gitA(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', ...opts.env },
  });
  return stdout.trim();
}

export async function worldConfig(dir: string, world: World, git: string[], stateDir = 'state'): Promise<Config> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `airgap-${stateDir}.toml`);
  writeWorldConfig(file, {
    registry: world.registryDir,
    stateDir,
    git,
    // never fetched by these tests: only written into patched Artifacts.toml files
    artifacts: ['url = "http://127.0.0.1:8080/artifacts"'],
  });
  return loadConfig(file);
}

/** The reporter the CLI uses, minus its secret scrubbing: a leak must show up here. */
export function capturingReporter(): { reporter: Reporter; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
  return { reporter: makeReporter({ stream, verbose: true }), text: () => chunks.join('') };
}

/** Every regular file under `dir`. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  return out;
}

export const PACKAGE_DIRS = ['E/Example', 'M/MonoA', 'M/MonoB', 'jll/F/Foo_jll', 'jll/B/Bar_jll', 'U/UsesFoo'];

/**
 * Clones the fork from `forkUrl`, then every package repo it lists, and checks each listed tree
 * (and the original upstream tree) is a tree there. Returns the registry clone and the count.
 */
export async function checkFork(
  forkUrl: string,
  world: World,
  client: string,
  opts: { env?: NodeJS.ProcessEnv; branch?: string } = {},
): Promise<{ registry: string; checked: number; versions: Record<string, string[]> }> {
  mkdirSync(client, { recursive: true });
  const registry = path.join(client, 'registry');
  const env = opts.env;
  await gitA(['clone', '--quiet', ...(opts.branch ? ['--branch', opts.branch] : []), forkUrl, registry], { env });
  let checked = 0;
  const versions: Record<string, string[]> = {};
  for (const dir of PACKAGE_DIRS) {
    if (!existsSync(path.join(registry, dir))) continue;
    const pkg = parseToml(readFileSync(path.join(registry, dir, 'Package.toml'), 'utf8')) as { name: string; repo: string };
    const vs = parseToml(readFileSync(path.join(registry, dir, 'Versions.toml'), 'utf8')) as Record<string, { 'git-tree-sha1': string }>;
    versions[pkg.name] = Object.keys(vs).sort();
    const clone = path.join(client, 'clones', pkg.name);
    if (!existsSync(clone)) {
      await gitA(['clone', '--quiet', '--bare', pkg.repo, clone], { env });
      await gitA(['--git-dir', clone, 'fetch', '--quiet', pkg.repo, '+refs/*:refs/remotes/all/*'], { env });
    }
    for (const [v, info] of Object.entries(vs)) {
      if ((await gitA(['--git-dir', clone, 'cat-file', '-t', info['git-tree-sha1']])) !== 'tree') throw new Error(`${pkg.name} ${v}: listed tree missing`);
      if ((await gitA(['--git-dir', clone, 'cat-file', '-t', world.trees[pkg.name]![v]!])) !== 'tree') throw new Error(`${pkg.name} ${v}: original tree missing`);
      checked++;
    }
  }
  return { registry, checked, versions };
}

/** Every ref of every bare repo under `root` (a fake's backing store). */
export async function allRefs(root: string): Promise<string[]> {
  const repos = filesUnder(root).filter((f) => f.endsWith(`${path.sep}HEAD`) && !f.includes(`${path.sep}logs${path.sep}`)).map((f) => path.dirname(f));
  const out: string[] = [];
  for (const r of repos) {
    const refs = await gitA(['--git-dir', r, 'for-each-ref', '--format=%(refname)']);
    out.push(...refs.split('\n').filter(Boolean).map((x) => `${path.relative(root, r)} ${x}`));
  }
  return out;
}
