// A directory of template files read into memory: path (with `/`) -> bytes and exec bit.
// Templates are small text files; holding them in memory lets one map feed a git tree, a
// tarball, or both, with the order fixed by sorting rather than by the file system.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AirgapError } from '../errors.js';

export interface FileData {
  data: Buffer;
  exec: boolean;
}

export type FileMap = Map<string, FileData>;

export async function readFileMap(root: string): Promise<FileMap> {
  const out: FileMap = new Map();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(full, rel);
      else if (e.isFile()) out.set(rel, { data: await readFile(full), exec: ((await stat(full)).mode & 0o100) !== 0 });
      else throw new AirgapError('template', `${full}: only plain files and directories are allowed in demo templates`);
    }
  };
  await walk(root, '');
  return out;
}
