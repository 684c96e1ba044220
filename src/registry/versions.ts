// Version numbers and registry version ranges with the semantics of Julia's VersionNumber and
// Pkg's Versions.VersionRange, so that "which deps does version v have" gives the answer Pkg
// would give; a different answer here means a package mirrored without a dependency.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Prerelease identifiers as written (`1.0.0-rc.1` → ["rc", "1"]). */
  pre: string[];
  /** Build identifiers as written (`1.2.11+0` → ["0"]). */
  build: string[];
}

// Julia's VERSION_REGEX also accepts oddities such as `1.2.3-` or `1.2.3alpha`; nothing in a
// registry uses them, so the strict SemVer-like subset is accepted and the rest rejected.
const VERSION_RE =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

function component(s: string | undefined): number | undefined {
  if (s === undefined) return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function tryParseVersion(s: string): Version | undefined {
  const m = VERSION_RE.exec(s);
  if (!m) return undefined;
  const major = component(m[1]);
  const minor = component(m[2]);
  const patch = component(m[3]);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return {
    major,
    minor,
    patch,
    pre: m[4] === undefined ? [] : m[4].split('.'),
    build: m[5] === undefined ? [] : m[5].split('.'),
  };
}

/** Parses a version as Julia's `VersionNumber(s)` does (1–3 numeric components, optional `v`). */
export function parseVersion(s: string): Version {
  const v = tryParseVersion(s);
  if (!v) throw new RangeError(`invalid version ${JSON.stringify(s)}`);
  return v;
}

export function formatVersion(v: Version): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.pre.length) s += `-${v.pre.join('.')}`;
  if (v.build.length) s += `+${v.build.join('.')}`;
  return s;
}

const DIGITS = /^\d+$/;

// Numeric identifiers can exceed 2^53 (`0.0.0-20191205061153` is close), so they are
// compared as digit strings rather than as numbers.
function compareIdent(a: string, b: string): number {
  const an = DIGITS.test(a);
  const bn = DIGITS.test(b);
  if (an && bn) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdents(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdent(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length === 0 ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Orders versions as Julia does: numeric components, then a prerelease sorts before its
 * release. Build metadata has no SemVer precedence; it breaks ties (no build first) so that
 * sorting `1.2.11+0`, `1.2.11+1` is deterministic.
 */
export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) {
    if (a.pre.length !== b.pre.length) return a.pre.length === 0 ? 1 : -1;
  } else {
    const c = compareIdents(a.pre, b.pre);
    if (c !== 0) return c;
  }
  return compareIdents(a.build, b.build);
}

/** Compares version strings; both must parse. */
export function compareVersionStrings(a: string, b: string): number {
  return compareVersions(parseVersion(a), parseVersion(b));
}

/**
 * One bound of a range: 0 to 3 numeric components. Zero components is `*` (unbounded); fewer
 * than three components means "any version sharing this prefix", so upper bound `0.7`
 * includes 0.7.99.
 */
export type VersionBound = readonly number[];

export interface VersionRange {
  readonly lower: VersionBound;
  readonly upper: VersionBound;
}

const BOUND_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

function parseBound(raw: string, whole: string): VersionBound {
  const s = raw.trim();
  if (s === '*') return [];
  const m = BOUND_RE.exec(s);
  if (!m) throw new RangeError(`invalid version range ${JSON.stringify(whole)}`);
  const parts: number[] = [];
  for (const p of [m[1], m[2], m[3]]) {
    if (p === undefined) break;
    const n = Number(p);
    if (!Number.isSafeInteger(n)) throw new RangeError(`invalid version range ${JSON.stringify(whole)}`);
    parts.push(n);
  }
  return parts;
}

function padded(b: VersionBound): [number, number, number] {
  return [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0];
}

const rangeCache = new Map<string, VersionRange>();

/**
 * Parses a Deps/Compat range key as Pkg's `VersionRange(s)`: `lo` or `lo-hi`, each bound
 * 1–3 numeric components or `*`. Throws RangeError for anything else.
 */
export function parseVersionRange(s: string): VersionRange {
  const cached = rangeCache.get(s);
  if (cached) return cached;
  const parts = s.split('-');
  if (parts.length !== 1 && parts.length !== 2) throw new RangeError(`invalid version range ${JSON.stringify(s)}`);
  let lower = parseBound(parts[0]!, s);
  const upper = parts.length === 1 ? lower : parseBound(parts[1]!, s);
  // Pkg collapses `1.2-1.2.0` to the more precise bound when both pad to the same tuple.
  const [l, u] = [padded(lower), padded(upper)];
  if (l[0] === u[0] && l[1] === u[1] && l[2] === u[2]) lower = upper;
  const r: VersionRange = Object.freeze({ lower: Object.freeze(lower), upper: Object.freeze(upper) });
  rangeCache.set(s, r);
  return r;
}

// Prerelease and build parts play no role in range membership, exactly as in Pkg.
function atLeast(v: Version, b: VersionBound): boolean {
  const t = [v.major, v.minor, v.patch];
  for (let i = 0; i < b.length; i++) {
    if (t[i]! !== b[i]!) return t[i]! > b[i]!;
  }
  return true;
}

function atMost(v: Version, b: VersionBound): boolean {
  const t = [v.major, v.minor, v.patch];
  for (let i = 0; i < b.length; i++) {
    if (t[i]! !== b[i]!) return t[i]! < b[i]!;
  }
  return true;
}

export function rangeContains(r: VersionRange, v: Version): boolean {
  return atLeast(v, r.lower) && atMost(v, r.upper);
}

export function formatVersionRange(r: VersionRange): string {
  const lo = r.lower.length ? r.lower.join('.') : '*';
  const hi = r.upper.length ? r.upper.join('.') : '*';
  return r.lower === r.upper || lo === hi ? lo : `${lo}-${hi}`;
}
