import { afterAll, describe, expect, it } from 'vitest';
import { GitError } from '../../src/errors.js';
import { git, gitText, scrubSecrets } from '../../src/git/run.js';
import { initBare, tempDir } from '../fixtures/gitrepo.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const repo = initBare(`${tmp.dir}/r.git`);
const SECRET = 'Authorization: Bearer s3cr3t-t0ken-value';

describe('git()', () => {
  it('runs git and trims text output', async () => {
    expect(await gitText(['rev-parse', '--is-bare-repository'], { gitDir: repo })).toBe('true');
    const r = await git(['rev-parse', '--is-bare-repository'], { gitDir: repo });
    expect(r.stdout.toString()).toBe('true\n');
    expect(r.code).toBe(0);
  });

  it('passes config through the environment', async () => {
    const v = await gitText(['config', '--get', 'http.extraHeader'], { gitDir: repo, config: [{ key: 'http.extraHeader', value: SECRET }] });
    expect(v).toBe(SECRET);
  });

  it('sets the non-interactive, C-locale environment', async () => {
    const out = await gitText(['var', 'GIT_EDITOR'], { gitDir: repo, env: { GIT_EDITOR: 'true' } });
    expect(out).toBe('true');
    const v = await gitText(['config', '--get', 'protocol.ext.allow'], { gitDir: repo });
    expect(v).toBe('never');
  });

  it('never shows a config value in a GitError', async () => {
    const err = await git(['rev-parse', 'HEAD'], {
      gitDir: repo,
      config: [{ key: 'core.packedGitLimit', value: SECRET }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    const g = err as GitError;
    expect(g.exitCode).not.toBe(0);
    // git itself echoes the bad value; it must be scrubbed.
    expect(g.stderr).toContain('bad numeric config value');
    for (const text of [g.message, g.stderr, g.args.join(' '), g.repo]) {
      expect(text).not.toContain('s3cr3t');
    }
  });

  it('redacts credentials in URL arguments', async () => {
    const err = (await git(['ls-remote', 'https://user:hunter2secret@127.0.0.1:1/x.git'], {
      label: 'https://user:hunter2secret@127.0.0.1:1/x.git',
      timeoutMs: 20_000,
    }).catch((e: unknown) => e)) as GitError;
    expect(err).toBeInstanceOf(GitError);
    expect(err.message).not.toContain('hunter2');
    expect(err.args.join(' ')).not.toContain('hunter2');
    expect(err.stderr).not.toContain('hunter2');
  });

  it('honours allowExitCodes', async () => {
    const r = await git(['rev-parse', '--verify', '--quiet', 'refs/heads/nope'], { gitDir: repo, allowExitCodes: [1] });
    expect(r.code).toBe(1);
    await expect(git(['rev-parse', '--verify', '--quiet', 'refs/heads/nope'], { gitDir: repo })).rejects.toBeInstanceOf(GitError);
  });

  it('feeds stdin', async () => {
    expect(await gitText(['hash-object', '--stdin'], { input: 'hello\n' })).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const err = await git(['ls-remote', 'ssh://example.invalid/x'], {
      env: { GIT_SSH_COMMAND: 'sleep 30; true' },
      timeoutMs: 300,
      label: 'slow',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('passes settings as -c, unscrubbed', async () => {
    expect(await gitText(['config', '--get', 'protocol.file.allow'], { gitDir: repo, settings: [{ key: 'protocol.file.allow', value: 'never' }] })).toBe('never');
    const err = (await git(['rev-parse', 'HEAD'], { gitDir: repo, settings: [{ key: 'core.packedGitLimit', value: 'notanumber' }] }).catch((e: unknown) => e)) as GitError;
    expect(err.message).toContain('notanumber');
    await expect(git(['version'], { settings: [{ key: 'a.b', value: 'x\ny' }] })).rejects.toBeInstanceOf(GitError);
  });

  it('rejects a malformed config key', async () => {
    await expect(git(['version'], { config: [{ key: 'nodot', value: 'x' }] })).rejects.toBeInstanceOf(GitError);
  });
});

describe('scrubSecrets', () => {
  it('removes whole values, long words of them and URL credentials', () => {
    const cfg = [{ key: 'http.extraHeader', value: SECRET }];
    expect(scrubSecrets(`x ${SECRET} y`, cfg)).toBe('x *** y');
    expect(scrubSecrets('token s3cr3t-t0ken-value leaked', cfg)).toBe('token *** leaked');
    expect(scrubSecrets('see https://bob:pw@host/x')).toBe('see https://***@host/x');
  });
});
