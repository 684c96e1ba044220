// Writing and rewriting git objects in TypeScript: patching thousands of versions must not
// spawn git per object, and entries we don't change must survive byte-for-byte (legacy modes
// such as 100664 or zero-padded 040000 change the tree hash if canonicalised).

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { AirgapError, InputError } from '../errors.js';
import type { CatFile } from './catfile.js';
import { pathExists } from '../util/fs.js';

const deflateAsync = promisify(deflate);

export function hashObject(type: string, content: Buffer): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/**
 * Writes a loose object (temp file + rename, so a killed run never leaves a torn object) and
 * returns its oid. Skipped when the loose object exists or `has(oid)` says the repo has it.
 */
export async function writeObject(
  gitDir: string,
  type: 'blob' | 'tree' | 'commit',
  content: Buffer,
  has?: (oid: string) => Promise<boolean>,
): Promise<string> {
  const oid = hashObject(type, content);
  const dir = join(gitDir, 'objects', oid.slice(0, 2));
  const file = join(dir, oid.slice(2));
  if (await pathExists(file)) return oid;
  if (has && (await has(oid))) return oid;
  const data = await deflateAsync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]));
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, data, { mode: 0o444 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return oid;
}

export interface TreeEntry {
  /** Octal mode exactly as stored, e.g. `100644`, legacy `100664`, `40000` or `040000`. */
  mode: string;
  name: Buffer;
  oid: string;
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(0x20, i);
    const nul = sp < 0 ? -1 : content.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > content.length) {
      throw new AirgapError('git', `malformed tree object at byte ${i}`);
    }
    const mode = content.toString('latin1', i, sp);
    if (!/^[0-7]{1,7}$/.test(mode)) throw new AirgapError('git', `malformed tree entry mode ${JSON.stringify(mode)}`);
    entries.push({
      mode,
      name: Buffer.from(content.subarray(sp + 1, nul)),
      oid: content.toString('hex', nul + 1, nul + 21),
    });
    i = nul + 21;
  }
  return entries;
}

/** Serialises entries in the order given (see sortTreeEntries for new trees). */
export function serializeTree(entries: TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (!/^[0-7]{1,7}$/.test(e.mode)) throw new AirgapError('git', `bad tree entry mode ${JSON.stringify(e.mode)}`);
    if (e.name.length === 0 || e.name.includes(0) || e.name.includes(0x2f)) {
      throw new AirgapError('git', `bad tree entry name ${JSON.stringify(e.name.toString('utf8'))}`);
    }
    if (!/^[0-9a-f]{40}$/.test(e.oid)) throw new AirgapError('git', `bad tree entry oid ${e.oid}`);
    parts.push(Buffer.from(`${e.mode} `, 'latin1'), e.name, Buffer.from([0]), Buffer.from(e.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

function modeBits(mode: string): number {
  return Number.parseInt(mode, 8);
}

export function isTreeMode(mode: string): boolean {
  return (modeBits(mode) & 0o170000) === 0o040000;
}

export function isGitlinkMode(mode: string): boolean {
  return (modeBits(mode) & 0o170000) === 0o160000;
}

/** A regular file (any permission bits, so legacy 100664 counts); not a symlink or gitlink. */
export function isRegularFileMode(mode: string): boolean {
  return (modeBits(mode) & 0o170000) === 0o100000;
}

/** Git's tree order: byte-wise, with a directory compared as if its name ended in `/`. */
export function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const key = (e: TreeEntry): Buffer => (isTreeMode(e.mode) ? Buffer.concat([e.name, Buffer.from('/')]) : e.name);
  return entries
    .map((e) => ({ e, k: key(e) }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map(({ e }) => e);
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  /** `+hhmm` / `-hhmm`. */
  tz: string;
}

function formatSignature(s: Signature): string {
  if (/[<>\n\0]/.test(s.name) || /[<>\n\0]/.test(s.email)) {
    throw new AirgapError('git', `invalid characters in commit signature ${JSON.stringify(s.name)}`);
  }
  if (!/^[+-]\d{4}$/.test(s.tz) || !Number.isInteger(s.time)) {
    throw new AirgapError('git', `invalid commit time ${s.time} ${s.tz}`);
  }
  return `${s.name} <${s.email}> ${s.time} ${s.tz}`;
}

/** Raw commit object content; the message gets a final newline if it lacks one, as git does. */
export function commitContent(c: {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}): Buffer {
  for (const oid of [c.tree, ...c.parents]) {
    if (!/^[0-9a-f]{40}$/.test(oid)) throw new AirgapError('git', `bad oid in commit: ${oid}`);
  }
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${formatSignature(c.author)}`, `committer ${formatSignature(c.committer)}`);
  const message = c.message.endsWith('\n') ? c.message : `${c.message}\n`;
  return Buffer.from(`${lines.join('\n')}\n\n${message}`, 'utf8');
}

async function readTree(cat: CatFile, oid: string, where: string): Promise<TreeEntry[]> {
  const obj = await cat.read(oid);
  if (!obj) throw new InputError(where, `tree ${oid} is missing from the repository`);
  if (obj.type !== 'tree') throw new InputError(where, `${oid} is a ${obj.type}, not a tree`);
  return parseTree(obj.content);
}

interface PathNode {
  blob?: string;
  children: Map<string, PathNode>;
}

function splitPath(path: string): string[] {
  const segs = path.split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) {
    throw new InputError(path, 'not a plain relative path');
  }
  return segs;
}

/**
 * Replaces blobs at the given paths, rebuilding only the trees along those paths; every other
 * entry (mode text, oid, order) is copied from the raw tree. Modes of replaced blobs are kept.
 * Returns the new root tree oid.
 */
export async function replaceInTree(
  gitDir: string,
  cat: CatFile,
  rootTree: string,
  replacements: Map<string, string>,
): Promise<string> {
  const root: PathNode = { children: new Map() };
  for (const [path, oid] of replacements) {
    if (!/^[0-9a-f]{40}$/.test(oid)) throw new InputError(path, `bad replacement oid ${oid}`);
    let node = root;
    for (const seg of splitPath(path)) {
      if (node.blob !== undefined) throw new InputError(path, 'path is both a file and a directory in the replacements');
      let next = node.children.get(seg);
      if (!next) node.children.set(seg, (next = { children: new Map() }));
      node = next;
    }
    if (node.children.size > 0) throw new InputError(path, 'path is both a file and a directory in the replacements');
    node.blob = oid;
  }

  const rebuild = async (treeOid: string, node: PathNode, prefix: string): Promise<string> => {
    const entries = await readTree(cat, treeOid, `${rootTree}:${prefix}`);
    const seen = new Set<string>();
    const out: TreeEntry[] = [];
    for (const e of entries) {
      // Names are compared as UTF-8 text, the same way findFilesNamed reports them.
      const name = e.name.toString('utf8');
      const target = node.children.get(name);
      if (!target) {
        out.push(e);
        continue;
      }
      seen.add(name);
      const path = prefix + name;
      if (target.blob !== undefined) {
        if (!isRegularFileMode(e.mode)) throw new InputError(`${rootTree}:${path}`, `not a regular file (mode ${e.mode})`);
        out.push({ mode: e.mode, name: e.name, oid: target.blob });
      } else {
        if (!isTreeMode(e.mode)) throw new InputError(`${rootTree}:${path}`, `not a directory (mode ${e.mode})`);
        out.push({ mode: e.mode, name: e.name, oid: await rebuild(e.oid, target, `${path}/`) });
      }
    }
    for (const name of node.children.keys()) {
      if (!seen.has(name)) throw new InputError(`${rootTree}:${prefix}${name}`, 'no such file in the tree');
    }
    return writeObject(gitDir, 'tree', serializeTree(out));
  };
  return rebuild(rootTree, root, '');
}

export interface FoundFile {
  path: string;
  oid: string;
  mode: string;
}

/**
 * Every blob (regular file or symlink) whose base name is in `names`, with paths relative to
 * rootTree. Gitlinks and `.git` entries are skipped. `memo` (tree oid -> results relative to
 * that tree) lets versions that share subtrees walk them once.
 */
export async function findFilesNamed(
  cat: CatFile,
  rootTree: string,
  names: ReadonlySet<string>,
  memo: Map<string, FoundFile[]> = new Map(),
): Promise<FoundFile[]> {
  const inFlight = new Map<string, Promise<FoundFile[]>>();
  const walk = (treeOid: string, where: string): Promise<FoundFile[]> => {
    const done = memo.get(treeOid);
    if (done) return Promise.resolve(done);
    let p = inFlight.get(treeOid);
    if (!p) {
      p = (async () => {
        const entries = await readTree(cat, treeOid, where);
        const parts = await Promise.all(
          entries.map(async (e): Promise<FoundFile[]> => {
            const name = e.name.toString('utf8');
            if (name === '.git' || isGitlinkMode(e.mode)) return [];
            if (isTreeMode(e.mode)) {
              const sub = await walk(e.oid, `${where}${name}/`);
              return sub.map((f) => ({ ...f, path: `${name}/${f.path}` }));
            }
            return names.has(name) ? [{ path: name, oid: e.oid, mode: e.mode }] : [];
          }),
        );
        const found = parts.flat();
        memo.set(treeOid, found);
        return found;
      })();
      inFlight.set(treeOid, p);
    }
    return p;
  };
  return walk(rootTree, `${rootTree}:`);
}
