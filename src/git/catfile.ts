// Object reads go through one long-lived `git cat-file --batch` per repository: scanning every
// registered version of a package reads thousands of trees and blobs, and a spawn per read
// would dominate the run.

import type { ChildProcess } from 'node:child_process';
import { GitError } from '../errors.js';
import { git, makeGitError, spawnGit } from './run.js';

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

export interface ObjectData {
  oid: string;
  type: ObjectType;
  content: Buffer;
}

export interface CatFile {
  /** `spec` is an oid or `<rev>:<path>`; undefined when git reports it missing. */
  read(spec: string): Promise<ObjectData | undefined>;
  close(): Promise<void>;
}

interface Pending {
  spec: string;
  resolve: (v: ObjectData | undefined) => void;
  reject: (e: Error) => void;
}

const OBJECT_TYPES = new Set<string>(['blob', 'tree', 'commit', 'tag']);
const ARGS = ['cat-file', '--batch'];

class BatchReader implements CatFile {
  private child: ChildProcess | undefined;
  private readonly queue: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Header of the object whose content is being received. */
  private current: { oid: string; type: ObjectType; size: number } | undefined;
  private stderr = '';
  private failure: GitError | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly gitDir: string) {}

  read(spec: string): Promise<ObjectData | undefined> {
    if (/[\n\0]/.test(spec) || spec === '') {
      return Promise.reject(makeGitError(ARGS, { gitDir: this.gitDir }, null, `invalid object name ${JSON.stringify(spec)}`));
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) {
      return Promise.reject(makeGitError(ARGS, { gitDir: this.gitDir }, null, 'cat-file reader already closed'));
    }
    const child = this.start();
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setRef(child, true);
      this.queue.push({ spec, resolve, reject });
      child.stdin!.write(`${spec}\n`);
    });
  }

  close(): Promise<void> {
    if (!this.closing) {
      const child = this.child;
      this.closing =
        !child || this.failure
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              setRef(child, true);
              child.once('close', () => resolve());
              child.stdin!.end();
            });
    }
    return this.closing;
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = spawnGit(ARGS, { gitDir: this.gitDir });
    this.child = child;
    child.stdin!.on('error', () => {
      // EPIPE after git died; the 'close' handler reports it to every caller.
    });
    child.stdout!.on('data', (b: Buffer) => this.onData(b));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-8192);
    });
    child.on('error', (e) => this.fail(null, `cannot run git: ${e.message}`));
    child.on('close', (code, signal) => {
      if (this.queue.length > 0 || (!this.closing && code !== 0)) {
        this.fail(code, `${this.stderr}\ncat-file exited (${signal ?? code}) with ${this.queue.length} request(s) unanswered`);
      }
    });
    return child;
  }

  private fail(code: number | null, message: string): void {
    this.failure ??= makeGitError(ARGS, { gitDir: this.gitDir }, code, message);
    for (const p of this.queue.splice(0)) p.reject(this.failure);
    if (this.child) setRef(this.child, false);
  }

  private onData(b: Buffer): void {
    this.chunks.push(b);
    this.buffered += b.length;
    try {
      this.drain();
    } catch (e) {
      this.fail(null, (e as Error).message);
      this.child?.kill('SIGKILL');
    }
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private drain(): void {
    for (;;) {
      if (!this.current) {
        const nl = this.findNewline();
        if (nl < 0) return;
        const header = this.take(nl + 1).toString('latin1').slice(0, -1);
        const pending = this.queue[0];
        if (!pending) throw new Error(`unexpected cat-file output: ${header}`);
        const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
        if (!m) {
          if (!header.endsWith(' missing') && !header.endsWith(' ambiguous')) {
            throw new Error(`unparsable cat-file header: ${header}`);
          }
          this.queue.shift();
          if (header.endsWith(' ambiguous')) {
            pending.reject(makeGitError(ARGS, { gitDir: this.gitDir }, null, `ambiguous object name ${pending.spec}`));
          } else {
            pending.resolve(undefined);
          }
          this.idleCheck();
          continue;
        }
        if (!OBJECT_TYPES.has(m[2]!)) throw new Error(`unexpected object type in cat-file header: ${header}`);
        this.current = { oid: m[1]!, type: m[2] as ObjectType, size: Number(m[3]) };
      }
      const need = this.current.size + 1;
      if (this.buffered < need) return;
      // Copy so callers may keep the content without pinning the whole read buffer.
      const content = Buffer.from(this.take(need).subarray(0, this.current.size));
      const { oid, type } = this.current;
      this.current = undefined;
      this.queue.shift()!.resolve({ oid, type, content });
      this.idleCheck();
    }
  }

  private findNewline(): number {
    let offset = 0;
    for (const c of this.chunks) {
      const i = c.indexOf(10);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  }

  private idleCheck(): void {
    if (this.queue.length === 0 && this.child && !this.closing) setRef(this.child, false);
  }
}

// An idle reader must not keep Node alive; one with requests in flight must.
function setRef(child: ChildProcess, on: boolean): void {
  const handles = [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>;
  for (const h of handles) {
    if (!h) continue;
    if (on) h.ref?.();
    else h.unref?.();
  }
}

export function openCatFile(gitDir: string): CatFile {
  return new BatchReader(gitDir);
}

/**
 * The type of each object, or undefined when missing, from ONE `git cat-file --batch-check`
 * for the whole list.
 */
export async function objectTypes(gitDir: string, oids: string[]): Promise<Map<string, string | undefined>> {
  const result = new Map<string, string | undefined>();
  if (oids.length === 0) return result;
  for (const oid of oids) {
    if (/[\n\0]/.test(oid) || oid === '') {
      throw makeGitError(['cat-file', '--batch-check'], { gitDir }, null, `invalid object name ${JSON.stringify(oid)}`);
    }
  }
  const { stdout } = await git(['cat-file', '--batch-check'], { gitDir, input: oids.join('\n') + '\n' });
  const lines = stdout.toString('latin1').split('\n');
  oids.forEach((oid, i) => {
    const line = lines[i] ?? '';
    const m = /^[0-9a-f]{40,64} (\S+) \d+$/.exec(line);
    result.set(oid, m ? m[1] : undefined);
  });
  return result;
}
