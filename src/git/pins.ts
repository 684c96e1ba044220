// Pins: one lightweight tag per registered tree, pointing at a deterministic parentless commit
// whose root tree is that tree. They keep every registered tree reachable (and advertised) in
// the internal repo whatever upstream does to its branches, and rerunning a sync recreates the
// exact same commits, so nothing is pushed twice.

import { AirgapError } from '../errors.js';
import { objectTypes } from './catfile.js';
import { commitContent, hashObject, writeObject, type Signature } from './objects.js';
import { git } from './run.js';

export const PIN_NAMESPACE = 'refs/tags/julia-airgap/';

export const PIN_SIGNATURE: Signature = Object.freeze({
  name: 'julia-airgap',
  email: 'julia-airgap@localhost',
  time: 0,
  tz: '+0000',
});

const ZERO_OID = '0'.repeat(40);

/** `git check-ref-format` rules, for a full ref name. Returns the reason it is invalid. */
export function refFormatProblem(ref: string): string | undefined {
  if (ref === '' || ref === '@') return 'empty or "@"';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'contains a space, control character or one of ~^:?*[\\';
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.')) return 'ends with "."';
  for (const comp of ref.split('/')) {
    if (comp.startsWith('.')) return 'has a component starting with "."';
    if (comp.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  if (!ref.includes('/')) return 'has a single component';
  return undefined;
}

export function checkRefFormat(ref: string): void {
  const problem = refFormatProblem(ref);
  if (problem) throw new AirgapError('git', `invalid ref name ${JSON.stringify(ref)}: ${problem}`);
}

// Julia identifiers as the registry allows them for package names.
const PKG_NAME_RE = /^[\p{L}_][\p{L}\p{N}_!]*$/u;
// A VersionNumber as written in Versions.toml.
const VERSION_RE = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function pinRef(pkgName: string, version: string, kind: 'kept' | 'original'): string {
  if (!PKG_NAME_RE.test(pkgName)) throw new AirgapError('git', `package name ${JSON.stringify(pkgName)} is not a Julia identifier`);
  if (!VERSION_RE.test(version)) throw new AirgapError('git', `${pkgName}: version ${JSON.stringify(version)} is not a version number`);
  // `1.0.0-original` (kept) would be the same ref as `1.0.0` (original).
  if (/-original$/.test(version)) throw new AirgapError('git', `${pkgName}: version ${version} clashes with the "-original" pin suffix`);
  const ref = `${PIN_NAMESPACE}${pkgName}/${version}${kind === 'original' ? '-original' : ''}`;
  checkRefFormat(ref);
  return ref;
}

export function pinCommitContent(tree: string, pkgName: string, version: string, kind: 'kept' | 'original'): Buffer {
  const what = kind === 'original' ? ' original' : '';
  return commitContent({
    tree,
    parents: [],
    author: PIN_SIGNATURE,
    committer: PIN_SIGNATURE,
    message: `julia-airgap pin: ${pkgName} ${version}${what} (tree ${tree})\n`,
  });
}

export interface Pin {
  ref: string;
  tree: string;
  pkgName: string;
  version: string;
  kind: 'kept' | 'original';
}

// Enough parallel writes to hide filesystem latency without exhausting file descriptors.
const WRITE_CONCURRENCY = 32;

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Writes the pin commits and moves all pin refs in ONE `git update-ref --stdin` transaction.
 * Every tree must already be in the repository (a commit over a missing tree would make the
 * repo unpushable). Refs already at the right commit are left alone.
 */
export async function writePins(
  gitDir: string,
  pins: Pin[],
): Promise<{ created: number; updated: number; unchanged: number }> {
  const wanted = new Map<string, { commit: string; content: Buffer }>();
  for (const pin of pins) {
    if (!pin.ref.startsWith(PIN_NAMESPACE)) throw new AirgapError('git', `pin ref ${pin.ref} is outside ${PIN_NAMESPACE}`);
    checkRefFormat(pin.ref);
    if (!/^[0-9a-f]{40}$/.test(pin.tree)) throw new AirgapError('git', `pin ${pin.ref}: bad tree oid ${pin.tree}`);
    const content = pinCommitContent(pin.tree, pin.pkgName, pin.version, pin.kind);
    const commit = hashObject('commit', content);
    const prev = wanted.get(pin.ref);
    if (prev && prev.commit !== commit) throw new AirgapError('git', `pin ${pin.ref} requested for two different trees`);
    wanted.set(pin.ref, { commit, content });
  }
  if (wanted.size === 0) return { created: 0, updated: 0, unchanged: 0 };

  const trees = [...new Set(pins.map((p) => p.tree))];
  const types = await objectTypes(gitDir, trees);
  const missing = trees.filter((t) => types.get(t) !== 'tree');
  if (missing.length > 0) {
    throw new AirgapError('git', `${gitDir}: cannot pin ${missing.length} tree(s) not in the repository: ${missing.slice(0, 5).join(', ')}`);
  }

  const current = new Map<string, string>();
  const { stdout } = await git(['for-each-ref', '--format=%(objectname) %(refname)', PIN_NAMESPACE], { gitDir });
  for (const line of stdout.toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) current.set(line.slice(sp + 1), line.slice(0, sp));
  }

  const changes: Array<{ ref: string; commit: string; old: string; content: Buffer }> = [];
  let unchanged = 0;
  for (const [ref, { commit, content }] of wanted) {
    const old = current.get(ref);
    if (old === commit) unchanged++;
    else changes.push({ ref, commit, old: old ?? ZERO_OID, content });
  }
  if (changes.length === 0) return { created: 0, updated: 0, unchanged };

  await forEachLimited(changes, WRITE_CONCURRENCY, async (c) => {
    await writeObject(gitDir, 'commit', c.content);
  });
  // Old values make the transaction fail rather than clobber a concurrent change.
  const script = ['start', ...changes.map((c) => `update ${c.ref} ${c.commit} ${c.old}`), 'prepare', 'commit', ''].join('\n');
  await git(['update-ref', '--stdin'], { gitDir, input: script });
  const created = changes.filter((c) => c.old === ZERO_OID).length;
  return { created, updated: changes.length - created, unchanged };
}
