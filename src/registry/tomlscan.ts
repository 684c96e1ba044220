// A statement-level scanner for TOML text. It finds where each header, key/value line,
// comment and blank line starts and ends, and where each value's text sits, without
// building values. That is all a line-preserving edit needs: the fork's diff against
// upstream stays limited to the lines that really change (no JS TOML library can write
// Registry.toml the way Julia does, see hosts-and-libs.md §2.2).
import { InputError } from '../errors.js';

export interface TomlStatement {
  kind: 'blank' | 'comment' | 'header' | 'kv';
  /** Offset of the first character of the statement's first line. */
  start: number;
  /** Offset just past the statement's final newline (or the end of the text). */
  end: number;
  /** header: the table path; kv: the key path relative to the current table. */
  path: string[];
  /** header: `[[...]]`. */
  arrayHeader: boolean;
  /** kv: the table path in force (path of the last header, [] before any). */
  table: string[];
  /** kv: the value's text is `text.slice(valueStart, valueEnd)`. */
  valueStart: number;
  valueEnd: number;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** Splits TOML text into statements. The text should already have parsed; errors name `file`. */
export function scanTomlStatements(text: string, file: string): TomlStatement[] {
  const n = text.length;
  let pos = 0;
  const fail = (msg: string): never => {
    const line = text.slice(0, pos).split('\n').length;
    throw new InputError(file, `cannot scan TOML at line ${line}: ${msg}`);
  };

  const skipSpaces = () => {
    while (pos < n && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const atEol = () => pos >= n || text[pos] === '\n' || (text[pos] === '\r' && text[pos + 1] === '\n');
  const skipEol = () => {
    if (pos >= n) return;
    if (text[pos] === '\n') pos++;
    else if (text[pos] === '\r' && text[pos + 1] === '\n') pos += 2;
    else fail(`unexpected ${JSON.stringify(text[pos])}`);
  };
  const skipComment = () => {
    if (text[pos] === '#') while (pos < n && !atEol()) pos++;
  };
  // Whitespace, newlines and comments, as allowed between array (and TOML 1.1 inline table) items.
  const skipFiller = () => {
    for (;;) {
      skipSpaces();
      if (text[pos] === '#') skipComment();
      else if (pos < n && (text[pos] === '\n' || text[pos] === '\r')) pos++;
      else return;
    }
  };

  const readBasic = (): string => {
    pos++;
    let out = '';
    while (pos < n && text[pos] !== '"') {
      const c = text[pos]!;
      if (c === '\n') fail('newline in a basic string');
      if (c === '\\') {
        const e = text[pos + 1];
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          pos += 2;
        } else if (e === 'u' || e === 'U' || e === 'x') {
          const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
          const hex = text.slice(pos + 2, pos + 2 + len);
          if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) fail('bad escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          pos += 2 + len;
        } else fail('bad escape');
      } else {
        out += c;
        pos++;
      }
    }
    if (pos >= n) fail('unterminated string');
    pos++;
    return out;
  };
  const readLiteral = (): string => {
    const end = text.indexOf("'", pos + 1);
    const nl = text.indexOf('\n', pos + 1);
    if (end < 0 || (nl >= 0 && nl < end)) fail('unterminated literal string');
    const s = text.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const c = text[pos];
      if (c === '"') parts.push(readBasic());
      else if (c === "'") parts.push(readLiteral());
      else {
        const s = pos;
        while (pos < n && BARE_KEY.test(text[pos]!)) pos++;
        if (pos === s) fail('expected a key');
        parts.push(text.slice(s, pos));
      }
      skipSpaces();
      if (text[pos] !== '.') return parts;
      pos++;
    }
  };
  const skipMultiline = (q: string) => {
    pos += 3;
    for (;;) {
      if (pos >= n) fail('unterminated multi-line string');
      if (q === '"' && text[pos] === '\\') {
        pos += 2;
        continue;
      }
      if (text.startsWith(q + q + q, pos)) {
        pos += 3;
        // Up to two quotes may directly precede the closing delimiter and belong to the content.
        for (let i = 0; i < 2 && text[pos] === q; i++) pos++;
        return;
      }
      pos++;
    }
  };
  const skipValue = (): void => {
    const c = text[pos];
    if (c === '"') {
      if (text.startsWith('"""', pos)) skipMultiline('"');
      else readBasic();
    } else if (c === "'") {
      if (text.startsWith("'''", pos)) skipMultiline("'");
      else readLiteral();
    } else if (c === '[') {
      pos++;
      for (;;) {
        skipFiller();
        if (pos >= n) fail('unterminated array');
        if (text[pos] === ']') {
          pos++;
          return;
        }
        skipValue();
        skipFiller();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail('expected , or ] in array');
      }
    } else if (c === '{') {
      pos++;
      for (;;) {
        skipFiller();
        if (pos >= n) fail('unterminated inline table');
        if (text[pos] === '}') {
          pos++;
          return;
        }
        readKey();
        if (text[pos] !== '=') fail('expected = in inline table');
        pos++;
        skipSpaces();
        skipValue();
        skipFiller();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail('expected , or } in inline table');
      }
    } else {
      // Numbers, booleans and dates; a date may contain one space (`1979-05-27 07:32:00`).
      const s = pos;
      while (pos < n && !',]}#\n\r'.includes(text[pos]!)) pos++;
      while (pos > s && (text[pos - 1] === ' ' || text[pos - 1] === '\t')) pos--;
      if (pos === s) fail('expected a value');
    }
  };

  const out: TomlStatement[] = [];
  let table: string[] = [];
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos < n) {
    const start = out.length === 0 ? 0 : pos;
    skipSpaces();
    const base = { path: [] as string[], arrayHeader: false, table, valueStart: -1, valueEnd: -1 };
    if (atEol()) {
      skipEol();
      out.push({ kind: 'blank', start, end: pos, ...base });
    } else if (text[pos] === '#') {
      skipComment();
      skipEol();
      out.push({ kind: 'comment', start, end: pos, ...base });
    } else if (text[pos] === '[') {
      const arrayHeader = text[pos + 1] === '[';
      pos += arrayHeader ? 2 : 1;
      const path = readKey();
      if (text[pos] !== ']' || (arrayHeader && text[pos + 1] !== ']')) fail('unterminated table header');
      pos += arrayHeader ? 2 : 1;
      skipSpaces();
      skipComment();
      skipEol();
      table = path;
      out.push({ kind: 'header', start, end: pos, ...base, path, arrayHeader, table: path });
    } else {
      const path = readKey();
      if (text[pos] !== '=') fail('expected =');
      pos++;
      skipSpaces();
      const valueStart = pos;
      skipValue();
      const valueEnd = pos;
      skipSpaces();
      skipComment();
      skipEol();
      out.push({ kind: 'kv', start, end: pos, ...base, path, valueStart, valueEnd });
    }
  }
  return out;
}

/** The full key path of a kv statement (table path + key path), or the path of a header. */
export function fullPath(s: TomlStatement): string[] {
  return s.kind === 'kv' ? [...s.table, ...s.path] : s.path;
}
