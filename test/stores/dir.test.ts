import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PublishError } from '../../src/errors.js';
import { dirStore } from '../../src/stores/dir.js';
import { tempDir } from '../fixtures/gitrepo.js';

const tmp = tempDir('julia-airgap-dirstore-');
afterAll(() => tmp.cleanup());

describe('dir store', () => {
  const root = path.join(tmp.dir, 'artifacts');
  const store = dirStore({ path: root, url: 'http://mirror.invalid/artifacts/' });
  const bytes = Buffer.from('artifact bytes');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const src = path.join(tmp.dir, 'src.tar.gz');
  writeFileSync(src, bytes);

  it('puts by content, atomically, and answers has()', async () => {
    const key = { sha256, fileName: 'Foo.v1.tar.gz' };
    expect(await store.has(key)).toBe(false);
    await store.put(src, key, bytes.length);
    expect(await store.has(key)).toBe(true);
    expect(readFileSync(path.join(root, sha256, 'Foo.v1.tar.gz'))).toEqual(bytes);
    expect(store.publicUrl(key)).toBe(`http://mirror.invalid/artifacts/${sha256}/Foo.v1.tar.gz`);
    expect(readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('refuses a size that does not match, leaving nothing behind', async () => {
    const key = { sha256, fileName: 'Other.tar.gz' };
    await expect(store.put(src, key, bytes.length + 1)).rejects.toThrow(PublishError);
    expect(existsSync(path.join(root, sha256, 'Other.tar.gz'))).toBe(false);
    expect(readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('refuses unsafe names before touching the disk', async () => {
    await expect(store.put(src, { sha256, fileName: '../x' }, bytes.length)).rejects.toThrow(/unsafe artifact file name/);
    await expect(store.put(src, { sha256: 'nope', fileName: 'x' }, bytes.length)).rejects.toThrow(/not a sha256/);
  });

  it('cleanup removes what a killed run left half-copied', async () => {
    mkdirSync(path.join(root, '.tmp'), { recursive: true });
    writeFileSync(path.join(root, '.tmp', 'deadbeef'), 'half');
    await store.cleanup!();
    expect(readdirSync(path.join(root, '.tmp'))).toEqual([]);
    // published files are untouched
    expect(readFileSync(path.join(root, sha256, 'Foo.v1.tar.gz'))).toEqual(bytes);
  });
});
