// Rewriting the download URLs of an Artifacts.toml by splicing new string values into the
// original text. Re-serialising would reorder keys and drop comments, so the fork's diff
// against upstream would show more than URLs, and a new key in a platform entry would become
// a platform tag Pkg rejects (pkg-internals, implication 14). The scanner below understands
// just enough TOML to know which string token is a download `url`; a re-parse afterwards
// proves that nothing but those values changed.

import { parse } from 'smol-toml';
import { InputError } from '../errors.js';
import { parseArtifactsToml, type ArtifactEntry } from './parse.js';

interface Seg {
  key: string;
  /** array positions: a `[[x]]` element number or an inline array index */
  idx: number[];
}

interface StringSite {
  path: Seg[];
  start: number;
  end: number;
}

type Doc = Record<string, unknown>;

/** Every string value of a (valid) TOML document, with its concrete path and byte range. */
function scanStrings(text: string, file: string): StringSite[] {
  const sites: StringSite[] = [];
  const aotLast = new Map<string, number>();
  let pos = 0;
  let table: Seg[] = [];

  const fail = (msg: string): never => {
    const line = text.slice(0, pos).split('\n').length;
    throw new InputError(file, `cannot scan TOML at line ${line}: ${msg}`);
  };
  const keyOf = (segs: Seg[]): string => JSON.stringify(segs);

  const skipWs = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const skipWsNlComments = (): void => {
    for (;;) {
      skipWs();
      if (text[pos] === '#') {
        while (pos < text.length && text[pos] !== '\n') pos++;
      } else if (text[pos] === '\n' || text[pos] === '\r') pos++;
      else return;
    }
  };

  /** Returns [start, end) of the string token at pos, advancing past it. */
  const scanString = (): [number, number] => {
    const start = pos;
    const q = text[pos]!;
    const multi = text.startsWith(q.repeat(3), pos);
    if (multi) {
      pos += 3;
      for (;;) {
        if (pos >= text.length) fail('unterminated multi-line string');
        if (q === '"' && text[pos] === '\\') {
          pos += 2;
          continue;
        }
        if (text.startsWith(q.repeat(3), pos)) {
          pos += 3;
          // Up to two quotes may sit right before the closing delimiter.
          let extra = 0;
          while (extra < 2 && text[pos] === q) {
            pos++;
            extra++;
          }
          return [start, pos];
        }
        pos++;
      }
    }
    pos++;
    for (;;) {
      const c = text[pos];
      if (c === undefined || c === '\n') fail('unterminated string');
      if (q === '"' && c === '\\') {
        pos += 2;
        continue;
      }
      pos++;
      if (c === q) return [start, pos];
    }
  };

  const decodeString = (start: number, end: number): string => {
    const v = (parse(`v = ${text.slice(start, end)}`) as Doc).v;
    if (typeof v !== 'string') fail('string token did not decode to a string');
    return v as string;
  };

  const scanKey = (): string[] => {
    const keys: string[] = [];
    for (;;) {
      skipWs();
      const c = text[pos];
      if (c === '"' || c === "'") {
        const [s, e] = scanString();
        keys.push(decodeString(s, e));
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(pos, pos + 1000));
        if (!m) fail('expected a key');
        keys.push(m![0]);
        pos += m![0].length;
      }
      skipWs();
      if (text[pos] !== '.') return keys;
      pos++;
    }
  };

  const scanValue = (path: Seg[]): void => {
    const c = text[pos];
    if (c === '"' || c === "'") {
      const [start, end] = scanString();
      sites.push({ path, start, end });
    } else if (c === '{') {
      pos++;
      for (;;) {
        skipWsNlComments();
        if (text[pos] === '}') {
          pos++;
          return;
        }
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        const keys = scanKey();
        if (text[pos] !== '=') fail('expected "=" in inline table');
        pos++;
        skipWs();
        scanValue([...path, ...keys.map((key) => ({ key, idx: [] }))]);
      }
    } else if (c === '[') {
      pos++;
      let i = 0;
      for (;;) {
        skipWsNlComments();
        if (text[pos] === ']') {
          pos++;
          return;
        }
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        const last = path[path.length - 1]!;
        scanValue([...path.slice(0, -1), { key: last.key, idx: [...last.idx, i++] }]);
      }
    } else {
      // numbers, booleans, dates: nothing to rewrite
      while (pos < text.length && !',]}\n\r#'.includes(text[pos]!)) pos++;
    }
  };

  for (;;) {
    skipWsNlComments();
    if (pos >= text.length) break;
    if (text[pos] === '[') {
      const isArray = text[pos + 1] === '[';
      pos += isArray ? 2 : 1;
      const keys = scanKey();
      if (!text.startsWith(isArray ? ']]' : ']', pos)) fail('unterminated table header');
      pos += isArray ? 2 : 1;
      // Each prefix of a header names the latest element of an array of tables, as in TOML.
      const segs: Seg[] = [];
      keys.forEach((key, n) => {
        const seg: Seg = { key, idx: [] };
        segs.push(seg);
        const k = keyOf(segs);
        if (isArray && n === keys.length - 1) {
          const next = (aotLast.get(k) ?? -1) + 1;
          aotLast.set(k, next);
          seg.idx = [next];
        } else if (aotLast.has(k)) {
          seg.idx = [aotLast.get(k)!];
        }
      });
      table = segs;
    } else {
      const keys = scanKey();
      if (text[pos] !== '=') fail('expected "="');
      pos++;
      skipWs();
      scanValue([...table, ...keys.map((key) => ({ key, idx: [] }))]);
    }
  }
  return sites;
}

function tomlBasicString(s: string): string {
  const esc: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  return `"${s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => esc[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function siteKey(name: string, element: number, download: number): string {
  return `${name}\0${element}\0${download}`;
}

/** Entries keyed by position: a name's n-th platform entry (or -1 for a plain table). */
function keyedEntries(entries: ArtifactEntry[]): { entry: ArtifactEntry; element: number }[] {
  const seen = new Map<string, number>();
  return entries.map((entry) => {
    if (entry.platform === undefined) return { entry, element: -1 };
    const n = seen.get(entry.name) ?? 0;
    seen.set(entry.name, n + 1);
    return { entry, element: n };
  });
}

function sameStringRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

export function patchArtifactUrls(
  text: string,
  file: string,
  urlFor: (d: { name: string; url: string; sha256: string }) => string,
): { text: string; changed: number } {
  const before = parseArtifactsToml(text, file);
  const doc = parse(text) as Doc;
  const sites = scanStrings(text, file).filter(
    (s) => s.path.length === 3 && s.path[1]!.key === 'download' && s.path[2]!.key === 'url' && s.path[0]!.idx.length <= 1 && s.path[1]!.idx.length <= 1 && s.path[2]!.idx.length === 0,
  );
  const total = before.reduce((n, e) => n + e.downloads.length, 0);
  if (sites.length !== total) {
    throw new InputError(file, `found ${sites.length} download url values in the text but the file has ${total} downloads; refusing to patch`);
  }

  const replacements = new Map<string, string>();
  const edits: { start: number; end: number; value: string }[] = [];
  for (const s of sites) {
    const name = s.path[0]!.key;
    const element = s.path[0]!.idx[0] ?? -1;
    const download = s.path[1]!.idx[0] ?? 0;
    const ent = element >= 0 ? asList(doc[name])[element] : doc[name];
    const dl = asList((ent as Doc | undefined)?.download)[download] as Doc | undefined;
    const url = dl?.url;
    const sha256 = dl?.sha256;
    const original = typeof url === 'string' ? (parse(`v = ${text.slice(s.start, s.end)}`) as Doc).v : undefined;
    if (typeof url !== 'string' || typeof sha256 !== 'string' || original !== url) {
      throw new InputError(file, `artifact "${name}": could not locate download url ${download} in the text; refusing to patch`);
    }
    const next = urlFor({ name, url, sha256: sha256.toLowerCase() });
    if (typeof next !== 'string' || next === '') throw new InputError(file, `artifact "${name}": empty replacement URL`);
    replacements.set(siteKey(name, element, download), next);
    if (next !== url) edits.push({ start: s.start, end: s.end, value: tomlBasicString(next) });
  }

  // One pass over the text: splicing edit by edit copies the whole file per URL, which made a
  // 20,000-entry Artifacts.toml take minutes.
  const pieces: string[] = [];
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    pieces.push(text.slice(at, e.start), e.value);
    at = e.end;
  }
  pieces.push(text.slice(at));
  const out = pieces.join('');

  // Prove the edit: same entries, same hashes, platforms and laziness; only URLs differ.
  const after = parseArtifactsToml(out, file);
  const a = keyedEntries(before);
  const b = keyedEntries(after);
  const mismatch = (why: string): never => {
    throw new InputError(file, `URL patch would change more than URLs (${why}); refusing to patch`);
  };
  if (a.length !== b.length) mismatch('entry count');
  a.forEach(({ entry: x, element }, i) => {
    const y = b[i]!.entry;
    if (x.name !== y.name || element !== b[i]!.element) mismatch(`entry ${i} name`);
    if (x.treeSha1 !== y.treeSha1) mismatch(`"${x.name}" git-tree-sha1`);
    if (x.lazy !== y.lazy) mismatch(`"${x.name}" lazy`);
    if (!sameStringRecord(x.platform, y.platform)) mismatch(`"${x.name}" platform keys`);
    if (x.downloads.length !== y.downloads.length) mismatch(`"${x.name}" download count`);
    x.downloads.forEach((d, j) => {
      const e = y.downloads[j]!;
      if (d.sha256 !== e.sha256) mismatch(`"${x.name}" sha256`);
      if (e.url !== replacements.get(siteKey(x.name, element, j))) mismatch(`"${x.name}" url ${j}`);
    });
  });
  return { text: out, changed: edits.length };
}
