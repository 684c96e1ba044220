// Shared TOML helpers for the registry modules: one place turns smol-toml's multi-line
// error text into a one-line InputError, and one place defines "same TOML value" for the
// re-parse checks that guard every text rewrite.
import { parse, TomlError, TomlDate } from 'smol-toml';
import { InputError } from '../errors.js';

export type TomlTable = Record<string, unknown>;

export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      throw new InputError(file, `malformed TOML at line ${err.line}, column ${err.column}: ${first}`, { cause: err });
    }
    throw new InputError(file, `malformed TOML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TomlDate) && !(v instanceof Date);
}

/** Structural equality of parsed TOML values; key order is irrelevant, as it is to Pkg. */
export function tomlEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && String(a) === String(b) && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => tomlEqual(x, b[i]));
  }
  if (isTable(a) && isTable(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && tomlEqual(a[k], b[k]));
  }
  // NaN is the only TOML value not equal to itself.
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}
