import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseDuration, parseSize } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'julia-airgap-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(text: string): string {
  const f = path.join(dir, `airgap-${n++}.toml`);
  writeFileSync(f, text);
  return f;
}

async function errorOf(text: string): Promise<ConfigError> {
  const err = await loadConfig(write(text)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('config', () => {
  it('the template parses and gives dir targets matching serve defaults', async () => {
    const c = await loadConfig(path.resolve('templates/airgap.toml'));
    expect(c.git.kind).toBe('dir');
    expect(c.git.url).toBe('http://127.0.0.1:8080/git');
    expect(c.artifacts.url).toBe('http://127.0.0.1:8080/artifacts');
    expect(c.git.path).toBe(path.resolve('templates/.julia-airgap/mirror/git'));
    expect(c.select.packages).toEqual(['Example']);
    expect(c.registry.repo).toBe('General');
  });

  it('defaults: state dir and targets relative to the config file', async () => {
    const f = write('[upstream]\nregistry = "reg"\n[select]\npackages = ["A"]\n');
    const c = await loadConfig(f);
    expect(c.stateDir).toBe(path.join(dir, '.julia-airgap'));
    expect(c.upstream.registry).toBe(path.join(dir, 'reg'));
    expect(c.artifacts.path).toBe(path.join(dir, '.julia-airgap', 'mirror', 'artifacts'));
    expect(c.sync.jobs).toBe(4);
    expect(c.select.platforms).toBeUndefined();
  });

  it('keeps URLs as URLs', async () => {
    const c = await loadConfig(write('[upstream]\nregistry = "https://example.invalid/General.git"\n[select]\nall = true\n'));
    expect(c.upstream.registry).toBe('https://example.invalid/General.git');
  });

  it('names unknown keys and suggests the right one', async () => {
    const e = await errorOf('[upstream]\nregistry = "r"\n[select]\npackage = ["A"]\n');
    expect(e.message).toContain('select.package');
    expect(e.message).toContain('select.packages');
  });

  it('names unknown top-level sections', async () => {
    const e = await errorOf('[upstream]\nregistry = "r"\n[selct]\npackages = ["A"]\n');
    expect(e.message).toContain('selct');
  });

  it('names wrongly typed keys', async () => {
    const e = await errorOf('[upstream]\nregistry = "r"\n[select]\npackages = "A"\n');
    expect(e.message).toContain('select.packages');
    expect(e.message).toContain('array of strings');
  });

  it('requires upstream.registry', async () => {
    const e = await errorOf('[select]\npackages = ["A"]\n');
    expect(e.message).toContain('upstream.registry');
  });

  it('requires a selection', async () => {
    const e = await errorOf('[upstream]\nregistry = "r"\n');
    expect(e.message).toContain('nothing selected');
  });

  it('reports malformed TOML with its position', async () => {
    const e = await errorOf('[upstream\nregistry = "r"\n');
    expect(e.message).toMatch(/malformed TOML at line 1/);
  });

  it('refuses credentials in URLs and odd schemes', async () => {
    const e1 = await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[git]\nurl = "https://u:p@host/git"\n');
    expect(e1.message).toContain('git.url');
    expect(e1.message).not.toContain('u:p');
    const e2 = await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[artifacts]\nurl = "ftp://host/a"\n');
    expect(e2.message).toContain('artifacts.url');
  });

  it('validates enums, repo names and uuids', async () => {
    expect((await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[git]\nkind = "svn"\n')).message).toContain('git.kind');
    expect((await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[registry]\nrepo = "../x"\n')).message).toContain('registry.repo');
    expect((await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[registry]\nuuid = "nope"\n')).message).toContain('registry.uuid');
  });

  it('a missing file says how to make one', async () => {
    const err = (await loadConfig(path.join(dir, "absent.toml")).then(() => new Error("loaded"), (e: unknown) => e as Error));
    expect(err.message).toContain('julia-airgap init');
  });

  it('sync.retries may be 0 but not negative or fractional', async () => {
    const ok = await loadConfig(write('[upstream]\nregistry = "r"\n[select]\nall = true\n[sync]\nretries = 0\n'));
    expect(ok.sync.retries).toBe(0);
    expect((await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[sync]\nretries = -1\n')).message).toContain('sync.retries');
    expect((await errorOf('[upstream]\nregistry = "r"\n[select]\nall = true\n[sync]\nretries = 1.5\n')).message).toContain('whole number');
  });

  it('parses sizes and durations', () => {
    expect(parseSize('8GiB')).toBe(8 * 1024 ** 3);
    expect(parseSize('500MB')).toBe(500e6);
    expect(() => parseSize('lots')).toThrow(ConfigError);
    expect(parseDuration('7d')).toBe(7 * 86400_000);
    expect(parseDuration('12h')).toBe(12 * 3600_000);
    expect(() => parseDuration('soon')).toThrow(ConfigError);
  });
});
