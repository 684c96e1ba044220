// Fuzzing the Artifacts.toml URL patcher with a seeded generator: random valid files (names
// bare and quoted, platform arrays and plain tables, lazy or not, 1-3 downloads as sub-tables
// or inline arrays, basic/literal/multi-line strings with escapes, odd whitespace and comments
// that look like keys) must patch with every URL replaced and everything else kept; random
// byte mutations of them must either patch consistently or fail with an InputError, never
// with anything else. Reproduce a failure with FUZZ_SEED=<seed printed in the message>.

import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parseArtifactsToml } from '../../src/artifacts/parse.js';
import { patchArtifactUrls } from '../../src/artifacts/patch.js';
import { InputError } from '../../src/errors.js';
import { caseRng, mutate, SEED, type Rng } from './rng.js';

const VALID_CASES = 300;
const MUTATED_CASES = 300;
const UP = 'https://up.example';
const MIRROR = 'http://mirror.internal';

const ws = (r: Rng) => r.pick(['', ' ', '  ', '\t', ' \t ']);
const comment = (r: Rng) => (r.bool(0.3) ? `${ws(r)}# ${r.pick(['note', 'url = "https://evil.example/x"', '[[Fake.download]]', "it's \"quoted\"", 'ünïcödé'])}` : '');
const blank = (r: Rng) => (r.bool(0.3) ? '\n' : '') + (r.bool(0.15) ? `# ${r.pick(['section', 'sha256 = "00"', ''])}\n` : '');

/** A string token for `value` (which holds no quotes or backslashes) in a random TOML style. */
function str(r: Rng, value: string, multiline = true): string {
  switch (r.int(0, multiline ? 4 : 2)) {
    case 0:
      return `'${value}'`;
    case 1: {
      // basic string with some characters escaped
      const esc = value.replace(/[a-z]/g, (c) => (r.bool(0.1) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c));
      return `"${esc}"`;
    }
    case 3:
      return `"""${value}"""`;
    case 4:
      return `'''${value}'''`;
    default:
      return `"${value}"`;
  }
}

function key(r: Rng, k: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(k)) return r.bool() ? `"${k}"` : `'${k}'`;
  return r.pick([k, k, k, `"${k}"`, `'${k}'`]);
}

function name(r: Rng, i: number): string {
  return r.pick([`Art${i}`, `lib_${i}-x`, `with space ${i}`, `ünï${i}`, `dot.${i}`, `${i}`]);
}

interface Gen {
  text: string;
  downloads: number;
}

function genDownloads(r: Rng, nm: string, prefix: string): { lines: string; inline?: string; n: number } {
  const n = r.int(1, 3);
  const dls = Array.from({ length: n }, (_, j) => ({ sha: r.hex(64), url: `${UP}/${r.hex(6)}/${nm.replace(/[^A-Za-z0-9]/g, '_')}-${j}.tar.gz` }));
  if (r.bool(0.3)) {
    const items = dls.map((d) => {
      const kv = [`${key(r, 'sha256')}${ws(r)}=${ws(r)}${str(r, d.sha, false)}`, `${key(r, 'url')}${ws(r)}=${ws(r)}${str(r, d.url, false)}`];
      return `{${ws(r)}${r.shuffle(kv).join(`,${ws(r)}`)}${ws(r)}}`;
    });
    const sep = r.bool() ? `,${ws(r)}` : `,${comment(r) || ''}\n${ws(r)}`;
    return { lines: '', inline: `${key(r, 'download')}${ws(r)}=${ws(r)}[${ws(r)}${items.join(sep)}${r.bool(0.3) ? ',' : ''}${ws(r)}]`, n };
  }
  const lines = dls
    .map((d) => {
      const kv = [`${ws(r)}${key(r, 'sha256')}${ws(r)}=${ws(r)}${str(r, d.sha)}${comment(r)}`, `${ws(r)}${key(r, 'url')}${ws(r)}=${ws(r)}${str(r, d.url)}${comment(r)}`];
      return `${blank(r)}${ws(r)}[[${prefix}.${key(r, 'download')}]]${comment(r)}\n${r.shuffle(kv).join('\n')}\n`;
    })
    .join('');
  return { lines, n };
}

function genFile(r: Rng): Gen {
  const parts: string[] = [];
  let downloads = 0;
  const count = r.int(1, 5);
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    const nm = name(r, i);
    if (used.has(nm)) continue;
    used.add(nm);
    const header = key(r, nm);
    const platforms = r.bool(0.6) ? r.int(1, 3) : 0;
    for (let p = 0; p < Math.max(1, platforms); p++) {
      const keys: string[] = [`${key(r, 'git-tree-sha1')}${ws(r)}=${ws(r)}${str(r, r.hex(40))}${comment(r)}`];
      if (platforms) {
        keys.push(`${key(r, 'arch')} = ${str(r, r.pick(['x86_64', 'aarch64', 'i686']), false)}`);
        keys.push(`${key(r, 'os')} = ${str(r, r.pick(['linux', 'macos', 'windows']), false)}`);
        if (r.bool(0.4)) keys.push(`${key(r, 'libc')} = ${str(r, r.pick(['glibc', 'musl']), false)}`);
        if (r.bool(0.2)) keys.push(`${key(r, 'cuda')} = "${r.int(10, 12)}.${r.int(0, 9)}"`);
      }
      if (r.bool(0.3)) keys.push(`${key(r, 'lazy')} = ${r.pick(['true', 'false'])}`);
      const d = genDownloads(r, nm, header);
      downloads += d.n;
      if (d.inline) keys.push(d.inline);
      parts.push(`${blank(r)}${platforms ? `[[${header}]]` : `[${header}]`}${comment(r)}\n${r.shuffle(keys).map((k) => ws(r) + k).join('\n')}\n${d.lines}`);
    }
  }
  return { text: parts.join(r.pick(['\n', '\n\n', ''])), downloads };
}

const urlFor = (d: { url: string }) => d.url.replace(UP, MIRROR);

describe(`Artifacts.toml patcher (seed ${SEED})`, () => {
  it(`${VALID_CASES} random valid files: every URL replaced, hashes/platforms/laziness kept`, () => {
    let downloads = 0;
    for (let i = 0; i < VALID_CASES; i++) {
      const r = caseRng(i);
      const g = genFile(r);
      const where = `seed ${SEED} case ${i}:\n${g.text}`;
      expect(() => parse(g.text), where).not.toThrow();
      const before = parseArtifactsToml(g.text, 'fuzz.toml');
      let out: { text: string; changed: number };
      try {
        out = patchArtifactUrls(g.text, 'fuzz.toml', urlFor);
      } catch (err) {
        throw new Error(`${where}\n--> ${(err as Error).message}`);
      }
      expect(out.changed, where).toBe(g.downloads);
      const after = parseArtifactsToml(out.text, 'fuzz.toml');
      expect(after.map((e) => ({ ...e, downloads: e.downloads.map((d) => d.sha256) })), where).toEqual(before.map((e) => ({ ...e, downloads: e.downloads.map((d) => d.sha256) })));
      after.forEach((e, k) => e.downloads.forEach((d, j) => expect(d.url, where).toBe(urlFor(before[k]!.downloads[j]!))));
      expect(out.text, where).not.toContain(`${UP}/`);
      downloads += g.downloads;
    }
    expect(downloads).toBeGreaterThan(VALID_CASES);
  });

  it(`${MUTATED_CASES} byte-mutated files: patched consistently or refused with InputError`, () => {
    let refused = 0;
    let patched = 0;
    for (let i = 0; i < MUTATED_CASES; i++) {
      const r = caseRng(VALID_CASES + i);
      const text = mutate(r, Buffer.from(genFile(r).text)).toString('utf8');
      const where = `seed ${SEED} case ${VALID_CASES + i}:\n${text}`;
      try {
        const out = patchArtifactUrls(text, 'fuzz.toml', urlFor);
        // Accepted: it must still be a file whose URLs are all the replacements.
        const after = parseArtifactsToml(out.text, 'fuzz.toml');
        const before = parseArtifactsToml(text, 'fuzz.toml');
        after.forEach((e, k) => e.downloads.forEach((d, j) => expect(d.url, where).toBe(urlFor(before[k]!.downloads[j]!))));
        patched++;
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`${where}\n--> not an InputError: ${(err as Error)?.stack ?? String(err)}`);
        expect(err.message, where).toContain('fuzz.toml');
        refused++;
      }
    }
    // Both outcomes occur, so neither branch is vacuous.
    expect(refused).toBeGreaterThan(0);
    expect(patched).toBeGreaterThan(0);
  });
});
