// Request-path handling shared by the git and artifact routes. Everything here works on the raw
// request target, never on a WHATWG-URL-normalised one: URL parsing silently folds `..` and
// `%2e%2e` segments, which would hide exactly the requests we want to refuse.

/** Splits a raw origin-form request target into its path and query (without the `?`). */
export function splitTarget(target: string): { path: string; query: string } | undefined {
  // Absolute-form (`GET http://host/...`) and asterisk-form targets are proxy/OPTIONS forms
  // that a plain origin server has no reason to honour.
  if (!target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

function decodeOnce(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Decodes the part of a path after `/git` for git http-backend's PATH_INFO. Returns undefined
 * when the path must not reach git at all (bad escapes, NUL, backslash, `..` or `.` segments).
 * http-backend has its own alias check; this one is ours so that safety does not depend on the
 * installed git version.
 */
export function gitPathInfo(rawRest: string): string | undefined {
  if (!rawRest.startsWith('/')) return undefined;
  const decoded = decodeOnce(rawRest);
  if (decoded === undefined) return undefined;
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.' || s === '')) return undefined;
  return decoded;
}

/**
 * Decodes the part of a path after `/artifacts/` into path segments that are safe to join under
 * the artifacts root, or undefined. Each raw segment is decoded once on its own, so an encoded
 * `/` (`%2F`) cannot introduce a new segment, and a double-encoded `%252e` stays the literal
 * file name `%2e`. Segments starting with `.` are refused: that covers `.`/`..` and also the
 * `.tmp-…` files a writer renames into place, which must never be served half-written.
 */
export function artifactSegments(rawRest: string): string[] | undefined {
  if (rawRest === '') return undefined;
  const out: string[] = [];
  for (const raw of rawRest.split('/')) {
    const seg = decodeOnce(raw);
    if (seg === undefined || seg === '') return undefined;
    if (seg.startsWith('.')) return undefined;
    if (seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return undefined;
    // A drive-letter prefix means nothing on POSIX, but refusing it keeps the rule
    // "no absolute paths after decoding" true on every platform.
    if (/^[A-Za-z]:/.test(seg)) return undefined;
    out.push(seg);
  }
  return out;
}

/** Reduces a request target to something safe to put on one log line. */
export function logSafeTarget(target: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = target.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}
