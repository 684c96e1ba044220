// Packs a file map into a .tar.gz the way BinaryBuilder ships artifacts, deterministically
// (fixed mtime, uid/gid 0, no user names, sorted entries), and hashes it with the same
// streaming digest `sync` verifies downloads with, so the Artifacts.toml we write is exactly
// what the pipeline will check.

import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import tar from 'tar-stream';
import { digestArchive } from '../artifacts/treehash.js';
import type { FileMap } from './files.js';

const gzipAsync = promisify(gzip);
const MTIME = new Date('2024-01-01T00:00:00Z');

export interface PackedArtifact {
  bytes: Buffer;
  sha256: string;
  treeSha1: string;
}

function tarBytes(files: FileMap): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  const owner = { uid: 0, gid: 0, uname: '', gname: '', mtime: MTIME };
  const dirs = new Set<string>();
  for (const p of [...files.keys()].sort()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      pack.entry({ ...owner, name: `${d}/`, type: 'directory', mode: 0o755 });
    }
    const f = files.get(p)!;
    pack.entry({ ...owner, name: p, type: 'file', mode: f.exec ? 0o755 : 0o644, size: f.data.length }, f.data);
  }
  pack.finalize();
  return done;
}

export async function packArtifact(files: FileMap, label: string): Promise<PackedArtifact> {
  const bytes = await gzipAsync(await tarBytes(files), { level: 9 });
  const d = await digestArchive(Readable.from([bytes]), label);
  return { bytes, sha256: d.sha256, treeSha1: d.treeSha1 };
}
