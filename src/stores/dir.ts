// A directory of artifact files laid out as `<root>/<sha256>/<file name>`, served by
// `julia-airgap serve` (or any static web server) at `<url>/<sha256>/<file name>`.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PublishError } from '../errors.js';
import { URL_SCHEME_KEY, type ArtifactKey, type ArtifactStore } from './store.js';

const SHA256 = /^[0-9a-f]{64}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export function artifactRelPath(key: ArtifactKey): string {
  if (!SHA256.test(key.sha256)) throw new PublishError(key.sha256, 'not a sha256');
  if (!FILE_NAME.test(key.fileName) || key.fileName.includes('..')) throw new PublishError(key.fileName, 'unsafe artifact file name');
  return `${key.sha256}/${key.fileName}`;
}

export function dirStore(opts: { path: string; url: string }): ArtifactStore {
  const root = path.resolve(opts.path);
  // One temp directory (dot-named: never served) so a killed run's leftovers are found without
  // walking every artifact directory.
  const tmpDir = path.join(root, '.tmp');
  const base = opts.url.replace(/\/+$/, '');
  const target = (key: ArtifactKey) => path.join(root, ...artifactRelPath(key).split('/'));
  return {
    kind: 'dir',
    async has(key) {
      try {
        return (await stat(target(key))).isFile();
      } catch {
        return false;
      }
    },
    async put(file, key, size) {
      const dest = target(key);
      const tmp = path.join(tmpDir, randomBytes(8).toString('hex'));
      try {
        await mkdir(tmpDir, { recursive: true });
        await mkdir(path.dirname(dest), { recursive: true });
        // A hard link shares the verified cache file without copying gigabytes; fall back to a copy across devices.
        await link(file, tmp).catch(() => copyFile(file, tmp));
        const st = await stat(tmp);
        if (st.size !== size) throw new PublishError(dest, `size ${st.size} after copy, expected ${size}`);
        await rename(tmp, dest);
      } catch (err) {
        await rm(tmp, { force: true });
        if (err instanceof PublishError) throw err;
        // A recursive mkdir on a read-only filesystem says ENOENT; ask the root itself for the real reason.
        const why = await access(root, constants.W_OK).then(() => (err as Error).message, (e: Error) => e.message);
        throw new PublishError(dest, `cannot store artifact: ${why}`, { cause: err });
      }
    },
    // Called under the sync lock, and copies run inside the syncing process: whatever is in the
    // temp directory now was left by a run that died.
    async cleanup() {
      for (const name of await readdir(tmpDir).catch(() => [] as string[])) await rm(path.join(tmpDir, name), { force: true });
    },
    publicUrl(key) {
      return `${base}/${artifactRelPath(key)}`;
    },
    urlScheme() {
      return `${base}/${URL_SCHEME_KEY.sha256}/${URL_SCHEME_KEY.fileName}`;
    },
  };
}
