// One pass over an artifact tarball: sha256 of the bytes as downloaded, and the git tree hash
// Pkg computes after unpacking (GitTools.tree_hash; hosts-and-libs §2.8, pkg-internals §f).
// Nothing is written to disk, so a hostile archive costs CPU and memory for the tree of
// names, never a file outside the cache. Entries that Pkg/Tar.jl would refuse or that could
// escape the unpack directory are refused here too, before the bytes reach the store.

import { createHash, type Hash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import tar, { type Header } from 'tar-stream';
import { AirgapError, IntegrityError, errorMessage } from '../errors.js';

export interface ArchiveDigest {
  /** sha256 of the raw (compressed) input bytes, lower-case hex */
  sha256: string;
  /** git tree hash of the unpacked content (empty directories and `.git` skipped) */
  treeSha1: string;
  /** raw input bytes */
  size: number;
  /** decompressed tar stream bytes (headers and padding included) */
  unpackedSize: number;
  /** tar entries seen, including skipped ones */
  entries: number;
}

export interface DigestLimits {
  maxBytes?: number;
  maxUnpackedBytes?: number;
  maxEntries?: number;
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export function emptyTreeSha1(): string {
  return EMPTY_TREE;
}

type Compression = 'gzip' | 'xz' | 'bzip2' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

// ---------------------------------------------------------------------------------------------
// The tree being hashed

/** What tar-stream yields per entry (its `Source` type is not exported). */
type Entry = AsyncIterable<Buffer> & { header: Header };

type Mode = '100644' | '100755' | '120000';
interface Blob {
  kind: 'blob';
  mode: Mode;
  oid: Buffer;
  /** symlink target, kept for the escape check once the whole archive is known */
  link?: string;
}
interface Tree {
  kind: 'tree';
  children: Map<string, Node>;
}
type Node = Blob | Tree;

function newTree(): Tree {
  return { kind: 'tree', children: new Map() };
}

function blobHeader(size: number): string {
  return `blob ${size}\0`;
}

function hashBytes(data: Buffer | string): Buffer {
  const h = createHash('sha1');
  h.update(blobHeader(Buffer.byteLength(data)));
  h.update(data);
  return h.digest();
}

function lookup(root: Tree, path: readonly string[]): Node | undefined {
  let cur: Node = root;
  for (const seg of path) {
    if (cur.kind !== 'tree') return undefined;
    const next = cur.children.get(seg);
    if (next === undefined) return undefined;
    cur = next;
  }
  return cur;
}

function isSymlink(n: Node | undefined): n is Blob {
  return n !== undefined && n.kind === 'blob' && n.mode === '120000';
}

/** Git order: byte order of names, with `/` appended to directory names. */
function hashTree(t: Tree): Buffer | null {
  const rows: { key: Buffer; line: Buffer }[] = [];
  for (const [name, child] of t.children) {
    let mode: string;
    let oid: Buffer | null;
    if (child.kind === 'tree') {
      oid = hashTree(child);
      if (oid === null) continue; // Pkg and git both drop directories holding no files
      mode = '40000';
    } else {
      oid = child.oid;
      mode = child.mode;
    }
    const key = Buffer.from(child.kind === 'tree' ? `${name}/` : name, 'utf8');
    rows.push({ key, line: Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), oid]) });
  }
  if (rows.length === 0) return null;
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  const body = Buffer.concat(rows.map((r) => r.line));
  const h = createHash('sha1');
  h.update(`tree ${body.length}\0`);
  h.update(body);
  return h.digest();
}

/**
 * Where a symlink at `base/<name>` with text `target` ends up, following symlinks met on the
 * way; null when it leaves the root. Lexical checks alone miss `a -> .` then `b -> a/../..`.
 */
function resolveLink(root: Tree, base: string[], target: string, depth: number): string[] | null {
  if (depth > 40) return null;
  if (target.startsWith('/') || target.startsWith('\\') || /^[A-Za-z]:/.test(target)) return null;
  let cur = [...base];
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (cur.length === 0) return null;
      cur.pop();
      continue;
    }
    cur.push(seg);
    const n = lookup(root, cur);
    if (isSymlink(n)) {
      cur.pop();
      const r = resolveLink(root, cur, n.link ?? '', depth + 1);
      if (r === null) return null;
      cur = r;
    }
  }
  return cur;
}

function checkSymlinks(root: Tree, t: Tree, path: string[], refuse: (msg: string) => never): void {
  for (const [name, child] of t.children) {
    const p = [...path, name];
    if (child.kind === 'tree') checkSymlinks(root, child, p, refuse);
    else if (isSymlink(child) && resolveLink(root, path, child.link ?? '', 0) === null) {
      refuse(`symlink "${p.join('/')}" -> "${child.link}" points outside the artifact`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Streams plumbing

interface WritableLike {
  write(chunk: Buffer): boolean;
  destroyed?: boolean;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  removeListener(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** Write honouring backpressure; rejects if the stream errors or closes instead of draining. */
export function writeWithBackpressure(w: WritableLike, chunk: Buffer): Promise<void> {
  if (w.destroyed) return Promise.reject(new Error('stream closed'));
  if (w.write(chunk)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      w.removeListener('drain', onDrain);
      w.removeListener('error', onError);
      w.removeListener('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('stream closed'));
    };
    w.on('drain', onDrain);
    w.on('error', onError);
    w.on('close', onClose);
  });
}

interface Decoder {
  input: Writable;
  output: Readable;
  /** Resolves when the decoder finished cleanly (or was stopped by us), rejects with its failure. */
  done: Promise<void>;
  stop(): void;
}

function makeDecoder(kind: Compression, source: string): Decoder {
  if (kind === 'gzip' || kind === 'none') {
    const s = kind === 'gzip' ? createGunzip() : new PassThrough();
    s.on('error', () => {}); // surfaced through the output iterator
    return { input: s, output: s, done: Promise.resolve(), stop: () => s.destroy() };
  }
  const tool = kind; // xz, bzip2 and zstd all take -dc
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stopped = false;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString('utf8');
  });
  child.stdin.on('error', () => {}); // EPIPE when the tool exits early; its exit status explains
  child.stdout.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new AirgapError('tool', `${source}: is ${tool}-compressed; reading it needs the "${tool}" command, which is not on PATH`));
      } else reject(new AirgapError('tool', `${source}: cannot run ${tool}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (stopped || code === 0) resolve();
      else reject(new IntegrityError(source, 'tar', `${tool} -dc failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
  done.catch(() => {}); // observed later; avoid an unhandled rejection in between
  return {
    input: child.stdin,
    output: child.stdout,
    done,
    stop: () => {
      stopped = true;
      child.stdin.destroy();
      child.stdout.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

function toBuffer(c: Buffer | string | Uint8Array): Buffer {
  if (Buffer.isBuffer(c)) return c;
  return typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

// ---------------------------------------------------------------------------------------------

export async function digestArchive(
  input: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  source: string,
  limits: DigestLimits = {},
): Promise<ArchiveDigest> {
  const maxBytes = limits.maxBytes ?? Infinity;
  const maxUnpacked = limits.maxUnpackedBytes ?? Infinity;
  const maxEntries = limits.maxEntries ?? Infinity;
  const refuse = (msg: string): never => {
    throw new IntegrityError(source, 'tar', msg);
  };

  const iter = (input as AsyncIterable<Buffer | string | Uint8Array>)[Symbol.asyncIterator]();
  const sha256: Hash = createHash('sha256');
  let size = 0;
  const takeRaw = (c: Buffer): void => {
    size += c.length;
    if (size > maxBytes) throw new IntegrityError(source, 'size', `download exceeds the limit of ${maxBytes} bytes`);
    sha256.update(c);
  };

  // Enough bytes to recognise the compression from its magic number.
  const head: Buffer[] = [];
  let headLen = 0;
  let inputDone = false;
  while (headLen < 6) {
    const r = await iter.next();
    if (r.done) {
      inputDone = true;
      break;
    }
    const b = toBuffer(r.value);
    takeRaw(b);
    head.push(b);
    headLen += b.length;
  }
  if (headLen === 0) refuse('empty file, not a tar archive');
  const compression = detectCompression(Buffer.concat(head));
  const decoder = makeDecoder(compression, source);
  const extract = tar.extract();
  extract.on('error', () => {}); // surfaced through the entry iterator

  // Stopping one stage makes the others fail with "closed" noise, possibly before the real
  // cause arrives; the typed error, if any, is the one to report.
  const errors: unknown[] = [];
  let aborted = false;
  const abort = (err: unknown): void => {
    errors.push(err);
    if (aborted) return;
    aborted = true;
    decoder.stop();
    extract.destroy();
    void iter.return?.(undefined);
  };

  const pumpRaw = async (): Promise<void> => {
    const feed = async (b: Buffer): Promise<void> => {
      try {
        await writeWithBackpressure(decoder.input, b);
      } catch (err) {
        // A decompressor that quit early breaks the pipe; its own failure explains why.
        await decoder.done;
        if (!decoder.input.writableEnded && !decoder.input.destroyed) throw err;
        // Finished cleanly before the input did (trailing bytes after the stream): only hash.
      }
    };
    for (const b of head) if (!aborted) await feed(b);
    while (!inputDone && !aborted) {
      const r = await iter.next();
      if (r.done) break;
      const b = toBuffer(r.value);
      takeRaw(b);
      if (!decoder.input.writableEnded && !decoder.input.destroyed) await feed(b);
    }
    if (!aborted) decoder.input.end();
  };

  let unpackedSize = 0;
  const pumpDecoded = async (): Promise<void> => {
    const out = decoder.output[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = (await out.next()) as IteratorResult<Buffer>;
      } catch (err) {
        if (aborted) return;
        await decoder.done;
        throw new IntegrityError(source, 'tar', `cannot decompress (${compression}): ${errorMessage(err)}`);
      }
      if (r.done || aborted) break;
      unpackedSize += r.value.length;
      if (unpackedSize > maxUnpacked) {
        throw new IntegrityError(source, 'size', `unpacked content exceeds the limit of ${maxUnpacked} bytes (decompression bomb?)`);
      }
      await writeWithBackpressure(extract, r.value);
    }
    if (!aborted) extract.end(undefined);
  };

  const root = newTree();
  let entries = 0;
  const consume = async (): Promise<void> => {
    try {
      for await (const entry of extract) {
        entries++;
        if (entries > maxEntries) refuse(`more than ${maxEntries} entries`);
        await handleEntry(root, entry as unknown as Entry, refuse);
      }
    } catch (err) {
      if (err instanceof AirgapError || aborted) throw err;
      throw new IntegrityError(source, 'tar', `not a valid tar archive: ${errorMessage(err)}`);
    }
  };

  await Promise.all(
    [pumpRaw(), pumpDecoded(), consume(), decoder.done].map((p) => p.catch(abort)),
  );
  if (aborted) throw errors.find((e) => e instanceof AirgapError) ?? errors[0];

  checkSymlinks(root, root, [], refuse);
  const oid = hashTree(root);
  return {
    sha256: sha256.digest('hex'),
    treeSha1: oid === null ? EMPTY_TREE : oid.toString('hex'),
    size,
    unpackedSize,
    entries,
  };
}

function splitEntryPath(name: string, what: string, refuse: (msg: string) => never): string[] {
  if (name.includes('\0')) refuse(`${what} "${name}" contains a NUL byte`);
  if (name.includes('\uFFFD')) refuse(`${what} "${name}" is not valid UTF-8`);
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) refuse(`${what} "${name}" is an absolute path`);
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) refuse(`${what} "${name}" contains a ".." segment`);
  return segs;
}

async function handleEntry(root: Tree, entry: Entry, refuse: (msg: string) => never): Promise<void> {
  const h = entry.header;
  // Unknown type flags (GNU sparse, volume labels, ...) arrive as null at runtime.
  const type = h.type as Header['type'] | null;
  const segs = splitEntryPath(h.name, 'entry', refuse);
  const display = h.name;

  const drain = async (): Promise<void> => {
    for await (const _ of entry) {
      // discard
    }
  };

  if (type !== 'file' && type !== 'contiguous-file' && type !== 'link' && type !== 'symlink' && type !== 'directory') {
    refuse(`entry "${display}" is a ${type ?? 'unsupported special'} entry; only files, directories and links are allowed`);
  }
  if (segs.length === 0) {
    if (type === 'directory') return drain();
    refuse(`entry "${display}" has no name`);
  }
  // Pkg's tree_hash ignores anything named .git, at any depth, with all it contains.
  if (segs.includes('.git')) return drain();

  // Parents: create, replacing files (a later entry wins), but never write through a symlink.
  let parent = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const n = parent.children.get(seg);
    if (n === undefined || n.kind === 'blob') {
      if (isSymlink(n)) refuse(`entry "${display}" passes through the symlink "${segs.slice(0, i + 1).join('/')}"`);
      const t = newTree();
      parent.children.set(seg, t);
      parent = t;
    } else parent = n;
  }
  const leaf = segs[segs.length - 1]!;

  switch (type) {
    case 'directory': {
      await drain();
      const existing = parent.children.get(leaf);
      if (existing === undefined || existing.kind !== 'tree') parent.children.set(leaf, newTree());
      return;
    }
    case 'symlink': {
      await drain();
      const target = h.linkname ?? '';
      if (target.includes('\0')) refuse(`symlink "${display}" has a NUL byte in its target`);
      // Escape is judged once all entries are known: a target may be a symlink added later.
      parent.children.set(leaf, { kind: 'blob', mode: '120000', oid: hashBytes(target), link: target });
      return;
    }
    case 'link': {
      await drain();
      const targetSegs = splitEntryPath(h.linkname ?? '', `hard link "${display}" target`, refuse);
      const target = lookup(root, targetSegs);
      if (target === undefined || target.kind !== 'blob') {
        refuse(`hard link "${display}" -> "${h.linkname}" does not name an earlier file in the archive`);
      }
      // Tar.jl extracts a hard link as a copy of its target: same content, same mode.
      parent.children.set(leaf, { ...(target as Blob) });
      return;
    }
    default: {
      const size = h.size ?? 0;
      const sha1 = createHash('sha1');
      sha1.update(blobHeader(size));
      let seen = 0;
      for await (const chunk of entry) {
        const b = chunk as Buffer;
        seen += b.length;
        sha1.update(b);
      }
      if (seen !== size) refuse(`entry "${display}" is truncated (${seen} of ${size} bytes)`);
      const mode: Mode = ((h.mode ?? 0o644) & 0o100) !== 0 ? '100755' : '100644';
      parent.children.set(leaf, { kind: 'blob', mode, oid: sha1.digest() });
    }
  }
}
