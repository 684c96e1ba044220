// The CLI as a user runs it: `npm test` builds dist/ first (pretest), so this spawns the real
// entry point asynchronously (the upstream servers live in this process).

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/sync/state.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { makeWorld, type World } from '../fixtures/world.js';

const CLI = path.resolve('dist/src/cli.js');
const tmp = tempDir('julia-airgap-cli-');
let world: World;
let cfg: string;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: tmp.dir, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  mkdirSync(path.join(tmp.dir, 'state'), { recursive: true });
  cfg = path.join(tmp.dir, 'airgap.toml');
  writeFileSync(
    cfg,
    `state_dir = "state"\n[upstream]\nregistry = "${world.registryDir}"\n[select]\npackages = ["UsesFoo"]\nplatforms = ["x86_64-linux-gnu"]\n[sync]\nretries = 1\ntimeout_seconds = 10\n`,
  );
});

afterAll(async () => {
  await world?.close();
  tmp.cleanup();
});

describe('julia-airgap sync (CLI)', () => {
  it('--json prints the report on stdout and the exit code follows it', async () => {
    const r = await run(['sync', '--config', cfg, '--json']);
    const report = JSON.parse(r.stdout) as { exitCode: number; counts: { packagesKept: number; versionsKept: number }; fork: { url: string } };
    expect(r.code).toBe(report.exitCode);
    // UsesFoo closes over Foo_jll (lazy artifact missing: reported, not blocking) and Example (one lost version: a warning)
    expect(report.exitCode).toBe(0);
    expect(report.counts.packagesKept).toBe(3);
    expect(report.fork.url).toBe('http://127.0.0.1:8080/git/General.git');
  });

  it('prints a human summary on stderr without --json', async () => {
    const r = await run(['sync', '--config', cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('sync complete');
    expect(r.stderr).toContain('unchanged');
  });

  it('a second run while the lock is held exits 1 naming the holder', async () => {
    const lock = await acquireLock(path.join(tmp.dir, 'state'), 'test');
    try {
      const r = await run(['sync', '--config', cfg]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('another julia-airgap run holds the lock');
      expect(r.stderr).toContain(`pid ${process.pid}`);
    } finally {
      await lock.release();
    }
  });

  it('a config error exits 1 naming the key', async () => {
    const bad = path.join(tmp.dir, 'bad.toml');
    writeFileSync(bad, '[upstream]\nregistry = "x"\n[select]\npackages = ["A"]\nplatfroms = ["x"]\n');
    const r = await run(['sync', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('select.platfroms');
  });

  it('an unknown package exits 1 with suggestions', async () => {
    const bad = path.join(tmp.dir, 'unknown.toml');
    writeFileSync(bad, `state_dir = "state2"\n[upstream]\nregistry = "${world.registryDir}"\n[select]\npackages = ["Exampel"]\n`);
    const r = await run(['sync', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Exampel');
    expect(r.stderr).toContain('Example');
  });

  it('unknown commands and options exit 2 with a hint', async () => {
    const r = await run(['snyc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--help');
  });
});
