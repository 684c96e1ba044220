// Targeted edits of upstream registry files. Each function changes only the lines that must
// change, so the fork's diff against upstream stays reviewable and later upstream merges stay
// clean; then it re-parses its own output and refuses (InputError) unless the parsed result is
// exactly the intended change, because a silently wrong registry would send Pkg to the
// internet or to the wrong tree.
import { InputError } from '../errors.js';
import { isTreeHash, isUuid } from './reader.js';
import { isTable, parseToml, tomlEqual, type TomlTable } from './toml.js';
import { fullPath, scanTomlStatements, type TomlStatement } from './tomlscan.js';

/** A TOML basic string (with quotes) holding `s`. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos) throw new Error(`overlapping edits at ${e.start}`);
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + text.slice(pos);
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Text to insert a new line after statement `s` (which may lack a final newline at EOF). */
function lineAfter(text: string, s: TomlStatement | undefined, line: string): Edit {
  const eol = eolOf(text);
  if (!s) return { start: 0, end: 0, text: line + eol };
  const endsWithNewline = s.end > 0 && text[s.end - 1] === '\n';
  return { start: s.end, end: s.end, text: endsWithNewline ? line + eol : eol + line + eol };
}

function topLevelKv(stmts: TomlStatement[], key: string): TomlStatement | undefined {
  for (const s of stmts) {
    if (s.kind === 'header') return undefined;
    if (s.kind === 'kv' && s.path.length === 1 && s.path[0] === key) return s;
  }
  return undefined;
}

function setTopLevel(text: string, stmts: TomlStatement[], key: string, value: string, after: readonly string[], edits: Edit[]): void {
  const existing = topLevelKv(stmts, key);
  if (existing) {
    edits.push({ start: existing.valueStart, end: existing.valueEnd, text: tomlString(value) });
    return;
  }
  let anchor: TomlStatement | undefined;
  for (const k of after) anchor ??= topLevelKv(stmts, k);
  edits.push(lineAfter(text, anchor, `${key} = ${tomlString(value)}`));
}

function verify(file: string, what: string, result: string, expected: TomlTable): void {
  let actual: TomlTable | undefined;
  try {
    actual = parseToml(result, file);
  } catch {
    actual = undefined;
  }
  if (actual === undefined || !tomlEqual(actual, expected)) {
    throw new InputError(file, `${what}: the edited text does not parse to the intended content; the file has a layout this tool cannot edit safely`);
  }
}

/**
 * Drops a `[header]` section: the header, its key lines, and one blank line next to it, so
 * the result reads as if the section had never been written. The blank line before the
 * header is preferred and the one after it used when that is gone or absent; this keeps
 * "one blank line between sections, none at the end" whichever sections go.
 */
function dropSection(stmts: TomlStatement[], headerIdx: number, drop: Set<number>): void {
  drop.add(headerIdx);
  let last = headerIdx;
  for (let i = headerIdx + 1; i < stmts.length && stmts[i]!.kind !== 'header'; i++) {
    if (stmts[i]!.kind === 'kv') {
      drop.add(i);
      last = i;
    }
  }
  const before = headerIdx - 1;
  if (before >= 0 && stmts[before]!.kind === 'blank' && !drop.has(before)) drop.add(before);
  else if (stmts[last + 1]?.kind === 'blank') drop.add(last + 1);
}

function dropEdits(stmts: TomlStatement[], drop: Set<number>): Edit[] {
  return [...drop].map((i) => ({ start: stmts[i]!.start, end: stmts[i]!.end, text: '' }));
}

/**
 * Rewrites Registry.toml for the fork: `repo` set (added after `uuid`/`name` when missing),
 * `name`/`uuid` optionally replaced, `[packages]` pruned to `keep` (uuids, any case). Both the
 * one-line inline-table layout and `[packages.<uuid>]` sections are handled.
 */
export function rewriteRegistryToml(
  text: string,
  file: string,
  opts: { repo: string; keep: ReadonlySet<string>; name?: string; uuid?: string },
): string {
  const orig = parseToml(text, file);
  // Pkg installs a registry into a directory of this name.
  if (opts.name !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(opts.name)) {
    throw new InputError(file, `new registry name ${JSON.stringify(opts.name)} must be letters, digits, "_", "-" or "."`);
  }
  if (opts.uuid !== undefined && !isUuid(opts.uuid)) throw new InputError(file, `new registry uuid ${JSON.stringify(opts.uuid)} is not a UUID`);
  const origPackages = orig['packages'];
  if (!isTable(origPackages)) throw new InputError(file, 'missing [packages] table');
  const keep = new Set([...opts.keep].map((u) => u.toLowerCase()));
  const present = new Set(Object.keys(origPackages).map((u) => u.toLowerCase()));
  for (const u of keep) if (!present.has(u)) throw new InputError(file, `cannot keep package ${u}: it is not in [packages]`);

  const stmts = scanTomlStatements(text, file);
  const edits: Edit[] = [];
  setTopLevel(text, stmts, 'repo', opts.repo, ['uuid', 'name'], edits);
  if (opts.name !== undefined) setTopLevel(text, stmts, 'name', opts.name, [], edits);
  if (opts.uuid !== undefined) setTopLevel(text, stmts, 'uuid', opts.uuid, ['name'], edits);

  const drop = new Set<number>();
  stmts.forEach((s, i) => {
    const p = fullPath(s);
    if (s.kind === 'header' && p[0] === 'packages' && p.length >= 2 && !keep.has(p[1]!.toLowerCase())) dropSection(stmts, i, drop);
    else if (s.kind === 'kv' && p[0] === 'packages' && p.length >= 2 && !keep.has(p[1]!.toLowerCase())) drop.add(i);
  });
  const result = applyEdits(text, [...edits, ...dropEdits(stmts, drop)]);

  const expected: TomlTable = { ...orig, repo: opts.repo };
  if (opts.name !== undefined) expected['name'] = opts.name;
  if (opts.uuid !== undefined) expected['uuid'] = opts.uuid;
  expected['packages'] = Object.fromEntries(Object.entries(origPackages).filter(([u]) => keep.has(u.toLowerCase())));
  verify(file, 'rewriting Registry.toml', result, expected);
  return result;
}

/** Rewrites Package.toml: only the `repo` value changes (added after uuid/name if missing). */
export function rewritePackageToml(text: string, file: string, opts: { repo: string }): string {
  const orig = parseToml(text, file);
  const stmts = scanTomlStatements(text, file);
  const edits: Edit[] = [];
  setTopLevel(text, stmts, 'repo', opts.repo, ['uuid', 'name'], edits);
  const result = applyEdits(text, edits);
  verify(file, 'rewriting repo', result, { ...orig, repo: opts.repo });
  return result;
}

/**
 * Rewrites Versions.toml: versions not in `keep` are removed, kept versions get the tree
 * from `keep` (version key exactly as written in the file → tree), `yanked` and any other
 * lines stay. Every key of `keep` must be a version in the file.
 */
export function rewriteVersionsToml(text: string, file: string, keep: ReadonlyMap<string, string>): string {
  const orig = parseToml(text, file);
  for (const [v, tree] of keep) {
    if (!isTreeHash(tree)) throw new InputError(file, `version ${v}: new git-tree-sha1 ${JSON.stringify(tree)} is not 40 hex digits`);
    const entry = orig[v];
    if (!isTable(entry)) throw new InputError(file, `cannot keep version ${v}: it is not in the file`);
    if (typeof entry['git-tree-sha1'] !== 'string') throw new InputError(file, `version ${v} has no git-tree-sha1`);
  }

  const stmts = scanTomlStatements(text, file);
  const edits: Edit[] = [];
  const drop = new Set<number>();
  stmts.forEach((s, i) => {
    if (s.kind !== 'header' && s.kind !== 'kv') return;
    const p = fullPath(s);
    const version = p[0]!;
    const tree = keep.get(version);
    if (tree === undefined) {
      if (s.kind === 'header') dropSection(stmts, i, drop);
      else drop.add(i);
      return;
    }
    if (s.kind === 'kv' && p.length === 2 && p[1] === 'git-tree-sha1') {
      const want = tomlString(tree.toLowerCase());
      if (text.slice(s.valueStart, s.valueEnd) !== want) edits.push({ start: s.valueStart, end: s.valueEnd, text: want });
    }
  });
  const result = applyEdits(text, [...edits, ...dropEdits(stmts, drop)]);

  // Null prototype: a version key is data and must never reach Object.prototype's setters.
  const expected: TomlTable = Object.create(null) as TomlTable;
  for (const [v, tree] of keep) expected[v] = { ...(orig[v] as TomlTable), 'git-tree-sha1': tree.toLowerCase() };
  verify(file, 'rewriting versions', result, expected);
  return result;
}

/**
 * Adds `[packages]` lines for packages upstream no longer lists but the fork keeps (nothing is
 * deleted from the mirror because upstream deleted it). Each line goes in UUID order among the
 * one-line entries, the way General writes them; the result is re-parsed and checked.
 */
export function addRegistryPackages(text: string, file: string, add: ReadonlyArray<{ uuid: string; name: string; path: string }>): string {
  if (add.length === 0) return text;
  const orig = parseToml(text, file);
  const origPackages = orig['packages'];
  if (!isTable(origPackages)) throw new InputError(file, 'missing [packages] table');
  for (const a of add) {
    if (!isUuid(a.uuid)) throw new InputError(file, `cannot add package ${JSON.stringify(a.uuid)}: not a UUID`);
    if (a.uuid in origPackages) throw new InputError(file, `cannot add package ${a.uuid}: already in [packages]`);
  }
  const stmts = scanTomlStatements(text, file);
  const entries = stmts.filter((s) => s.kind === 'kv' && fullPath(s)[0] === 'packages' && fullPath(s).length === 2);
  const header = stmts.find((s) => s.kind === 'header' && !s.arrayHeader && s.path.length === 1 && s.path[0] === 'packages');
  const edits: Edit[] = [];
  for (const a of [...add].sort((x, y) => x.uuid.localeCompare(y.uuid))) {
    const line = `${a.uuid} = { name = ${tomlString(a.name)}, path = ${tomlString(a.path)} }`;
    const before = entries.find((s) => fullPath(s)[1]!.toLowerCase() > a.uuid.toLowerCase());
    if (before) edits.push({ start: before.start, end: before.start, text: line + eolOf(text) });
    else edits.push(lineAfter(text, entries[entries.length - 1] ?? header, line));
  }
  // Several lines inserted at one offset keep their (UUID-sorted) order: applyEdits sorts stably.
  const result = applyEdits(text, edits);
  const expected: TomlTable = { ...orig, packages: { ...origPackages, ...Object.fromEntries(add.map((a) => [a.uuid, { name: a.name, path: a.path }])) } };
  verify(file, 'adding packages to Registry.toml', result, expected);
  return result;
}
