// An upstream token (upstream.token_env) through a whole CLI sync, with git asked to be as
// chatty as it can (GIT_TRACE, GIT_CURL_VERBOSE print commands and HTTP headers on stderr) and a
// fetch that fails, so git's stderr reaches error messages: the token appears in no output
// (text or --json), no file of the state dir, and no published repo.

import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles, runCli, writeWorldConfig, type CliResult } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';

const TOKEN = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const tmp = tempDir('julia-airgap-secrets-');
const stateDir = path.join(tmp.dir, 'state');
let world: World;
const runs: CliResult[] = [];

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  const cfg = path.join(tmp.dir, 'airgap.toml');
  // The registry is served by the same upstream git server as the package repos: the token is
  // scoped to that origin, so every upstream fetch of this run carries it.
  cpSync(world.registryDir, path.join(world.root, 'upstream-git', 'registry.git'), { recursive: true });
  const registry = `${world.gitServer.url}/git/registry.git`;
  writeWorldConfig(cfg, { registry, stateDir, mirrorUrl: 'http://mirror.invalid:8080', upstream: ['token_env = "AIRGAP_TEST_TOKEN"'] });
  const env = { AIRGAP_TEST_TOKEN: TOKEN, GIT_TRACE: '1', GIT_CURL_VERBOSE: '1', GIT_TRACE_CURL: '1' };
  runs.push(await runCli(['sync', '--config', cfg, '--verbose'], { cwd: tmp.dir, env }));
  // The second run fetches a repo that has gone: git's stderr goes into messages.
  rmSync(path.join(world.root, 'upstream-git', 'Bar_jll.jl.git'), { recursive: true, force: true });
  runs.push(await runCli(['sync', '--config', cfg, '--full', '--json'], { cwd: tmp.dir, env }));
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('an upstream token', () => {
  it('is used (the runs work) and named nowhere in their output', () => {
    expect(runs.map((r) => r.code)).toEqual([3, 3]);
    expect(runs[1]!.stdout + runs[1]!.stderr).toMatch(/Bar_jll\.jl\.git/); // the failing fetch was reported
    for (const r of runs) {
      expect(r.stdout).not.toContain(TOKEN);
      expect(r.stderr).not.toContain(TOKEN);
      // nor a long piece of it
      expect(r.stdout + r.stderr).not.toContain(TOKEN.slice(4, 24));
    }
  });

  it('is in no file of the state dir, loose objects and packs included', async () => {
    for (const f of listFiles(stateDir)) {
      expect(readFileSync(path.join(stateDir, f)).includes(TOKEN), f).toBe(false);
    }
    // Objects are compressed: search the published repos' content through git itself.
    const hostRoot = path.join(stateDir, 'mirror', 'git');
    let searched = 0;
    for (const repo of listFiles(hostRoot).filter((f) => f.endsWith('/HEAD')).map((f) => path.join(hostRoot, path.dirname(f)))) {
      const hits = await promisify(execFile)('git', ['--git-dir', repo, 'grep', '-I', '-l', '-F', TOKEN, ...(await refsOf(repo))], { encoding: 'utf8' }).then(
        (r) => r.stdout,
        // exit 1 is "no match"; anything else is a broken check, not a pass
        (e: { code?: number }) => {
          if (e.code === 1) return '';
          throw e;
        },
      );
      expect(hits, repo).toBe('');
      searched++;
    }
    expect(searched).toBe(6);
  });
});

async function refsOf(repo: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('git', ['--git-dir', repo, 'for-each-ref', '--format=%(objectname)'], { encoding: 'utf8' });
  return [...new Set(stdout.split('\n').filter(Boolean))];
}
