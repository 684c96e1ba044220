// A small seeded PRNG for fuzz tests (xorshift32): no dependency, and a failing case is
// reproduced by its seed, which every assertion message carries. FUZZ_SEED overrides the seed.

export const SEED = Number(process.env.FUZZ_SEED ?? 0x2545f491) >>> 0;

export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** uniform in [0, 2^32) */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

/** A per-case generator: case i of a run with seed s is reproducible on its own. */
export function caseRng(i: number, seed = SEED): Rng {
  return new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

/** Applies 1-8 random byte edits (overwrite, insert, delete, truncate). */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const edits = rng.int(1, 8);
  for (let k = 0; k < edits && b.length > 0; k++) {
    const at = rng.int(0, b.length - 1);
    switch (rng.int(0, 3)) {
      case 0:
        b[at] = rng.int(0, 255);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 4)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 16)))]);
        break;
      case 3:
        if (rng.bool(0.3)) b = b.subarray(0, at);
        else b[at] = b[at]! ^ (1 << rng.int(0, 7));
        break;
    }
  }
  return b;
}
