// Single-range `Range: bytes=…` parsing (RFC 9110 §14). Julia's Downloads.jl never sends ranges
// itself, but resuming tools (curl -C, wget -c, aria2) do, and artifacts can be gigabytes.

export type RangeResult =
  /** No usable Range header (absent, not `bytes`, malformed, or several ranges): send it all. */
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const SPEC = /^bytes=(\d*)-(\d*)$/i;

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = SPEC.exec(header.trim());
  // Multi-range requests would need multipart/byteranges; the RFC lets a server ignore Range
  // instead, and a full 200 is always a correct answer.
  if (!m) return { kind: 'full' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    const n = Number(b);
    if (!Number.isSafeInteger(n)) return { kind: 'full' };
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start)) return { kind: 'full' };
  let end = b === '' ? size - 1 : Number(b);
  if (!Number.isSafeInteger(end)) end = size - 1;
  // last < first makes the header invalid, which means "ignore it", not 416.
  if (end < start) return b === '' ? { kind: 'unsatisfiable' } : { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
