// Shared setup for the resync and status tests: a world, a config pointing at it, a fake clock,
// and async git (the world's git server runs in this process, so no synchronous children).

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../../src/config.js';
import { writeWorldConfig } from '../fixtures/world.js';

const run = promisify(execFile);

export const FIXTURE_ENV = {
  GIT_AUTHOR_NAME: 'Fixture Author',
  GIT_AUTHOR_EMAIL: 'author@example.invalid',
  GIT_COMMITTER_NAME: 'Fixture Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

export async function git(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('git', args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...FIXTURE_ENV, ...env } });
  return stdout.replace(/\n$/, '');
}

export async function writeConfig(dir: string, registryDir: string, extra: string[] = []): Promise<Config> {
  const file = path.join(dir, 'airgap.toml');
  writeWorldConfig(file, { registry: registryDir, stateDir: 'state', select: extra });
  return loadConfig(file);
}

/**
 * Replaces one file on the registry's master with a new commit (committer date `date`, Unix
 * seconds), as upstream would: `edit` gets the current text and returns the new one.
 */
export async function commitRegistryFile(registryDir: string, file: string, edit: (text: string) => string, date: number): Promise<string> {
  const gd = ['--git-dir', registryDir];
  const head = await git([...gd, 'rev-parse', 'refs/heads/master']);
  const text = await git([...gd, 'show', `${head}:${file}`]);
  const newBlob = await hashText(registryDir, edit(text + '\n'));
  const index = path.join(path.dirname(registryDir), `index-${process.pid}-${Date.now()}`);
  const env = { GIT_INDEX_FILE: index };
  await git([...gd, 'read-tree', head], env);
  await git([...gd, 'update-index', '--cacheinfo', `100644,${newBlob},${file}`], env);
  const tree = await git([...gd, 'write-tree'], env);
  return redate(registryDir, tree, head, date);
}

/** Moves master to a new commit with `tree` on top of `parent`, committed at `date` (Unix seconds). */
export async function redate(registryDir: string, tree: string, parent: string, date: number): Promise<string> {
  const gd = ['--git-dir', registryDir];
  const stamp = `${date} +0000`;
  const commit = await git([...gd, 'commit-tree', tree, '-p', parent, '-m', 'registry update'], { GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp });
  await git([...gd, 'update-ref', 'refs/heads/master', commit]);
  return commit;
}

async function hashText(gitDir: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['--git-dir', gitDir, 'hash-object', '-w', '--stdin'], { env: { ...process.env, ...FIXTURE_ENV } }, (err, stdout) =>
      err ? reject(err) : resolve(String(stdout).trim()),
    );
    child.stdin!.end(text);
  });
}

/** A fake clock the tests move by hand. */
export function fakeClock(start: number): { now: () => Date; set(ms: number): void; advance(ms: number): void; get(): number } {
  let t = start;
  return { now: () => new Date(t), set: (ms) => void (t = ms), advance: (ms) => void (t += ms), get: () => t };
}

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;
