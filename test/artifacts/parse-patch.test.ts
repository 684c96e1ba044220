import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArtifactsToml, type ArtifactEntry } from '../../src/artifacts/parse.js';
import { patchArtifactUrls } from '../../src/artifacts/patch.js';
import { artifactFileName } from '../../src/stores/store.js';
import { InputError } from '../../src/errors.js';

const DATA = '/work/shared/data/artifacts-toml';
const BASE = 'https://artifacts.internal/julia/';
const haveData = existsSync(DATA);
if (!haveData) console.warn(`skipping real Artifacts.toml tests: ${DATA} is missing`);

const realFiles = haveData
  ? readdirSync(DATA).flatMap((pkg) => readdirSync(join(DATA, pkg)).filter((f) => f.endsWith('.toml')).map((f) => join(DATA, pkg, f)))
  : [];

const sha = (c: string): string => c.repeat(64);
const tree = (c: string): string => c.repeat(40);

function stripUrls(entries: ArtifactEntry[]): unknown {
  return entries.map((e) => ({ ...e, downloads: e.downloads.map((d) => d.sha256) }));
}

describe.skipIf(!haveData)('real Artifacts.toml files (Zlib_jll, CUDA_Runtime_jll)', () => {
  it('finds the data', () => {
    expect(realFiles.length).toBeGreaterThan(50);
  });

  it.each(realFiles.map((f) => [f.slice(DATA.length + 1), f]))('%s: parse, patch every url, only url lines change', (_label, file) => {
    const text = readFileSync(file, 'utf8');
    const before = parseArtifactsToml(text, file);
    expect(before.length).toBeGreaterThan(0);
    for (const e of before) {
      expect(e.treeSha1).toMatch(/^[0-9a-f]{40}$/);
      if (e.platform) {
        expect(e.platform.os).toBeTruthy();
        expect(e.platform.arch).toBeTruthy();
        expect(e.platform['git-tree-sha1']).toBeUndefined();
      }
    }
    const seen: string[] = [];
    const { text: out, changed } = patchArtifactUrls(text, file, (d) => {
      seen.push(d.url);
      return `${BASE.replace(/\/+$/, "")}/${d.sha256}/${artifactFileName(d.url)}`;
    });
    const total = before.reduce((n, e) => n + e.downloads.length, 0);
    expect(changed).toBe(total);
    expect(seen.length).toBe(total);

    const after = parseArtifactsToml(out, file);
    expect(stripUrls(after)).toEqual(stripUrls(before));
    for (const e of after) for (const d of e.downloads) expect(d.url).toBe(`https://artifacts.internal/julia/${d.sha256}/${d.url.split('/').pop()}`);
    // Every url is internal and keeps the upstream file name (incl. `+` of build tags).
    before.forEach((e, i) =>
      e.downloads.forEach((d, j) => expect(after[i]!.downloads[j]!.url.split('/').pop()).toBe(decodeURIComponent(d.url.split('/').pop()!))),
    );

    const a = text.split('\n');
    const b = out.split('\n');
    expect(b.length).toBe(a.length);
    let urlLines = 0;
    a.forEach((line, i) => {
      if (/^\s*url\s*=/.test(line)) {
        urlLines++;
        expect(b[i]!.replace(/".*"/, '')).toBe(line.replace(/".*"/, ''));
      } else expect(b[i]).toBe(line);
    });
    expect(urlLines).toBe(total);
    expect(out).not.toContain('github.com');
  });

  it('CUDA_Runtime_jll: custom tags and lazy are read', () => {
    const f = realFiles.find((x) => x.includes('CUDA_Runtime_jll') && x.includes('2026-05-15'));
    if (!f) return;
    const entries = parseArtifactsToml(readFileSync(f, 'utf8'), f);
    expect(entries.every((e) => e.lazy)).toBe(true);
    expect(entries.some((e) => e.platform?.cuda !== undefined)).toBe(true);
  });
});

describe('parseArtifactsToml', () => {
  it('reads table and array-of-tables entries', () => {
    const text = `
[plain]
git-tree-sha1 = "${tree('A')}"
lazy = true
[[plain.download]]
url = "https://example.com/a.tar.gz"
sha256 = "${sha('B')}"

[[multi]]
arch = "x86_64"
os = "linux"
libc = "glibc"
cuda = "12.0"
git-tree-sha1 = "${tree('c')}"
download = [{ url = "https://x/1", sha256 = "${sha('d')}" }, { url = "https://y/2", sha256 = "${sha('e')}" }]

[nodl]
git-tree-sha1 = "${tree('f')}"
`;
    const e = parseArtifactsToml(text, 'A.toml');
    expect(e).toEqual([
      { name: 'plain', treeSha1: tree('a'), lazy: true, downloads: [{ url: 'https://example.com/a.tar.gz', sha256: sha('b') }] },
      {
        name: 'multi',
        treeSha1: tree('c'),
        lazy: false,
        platform: { arch: 'x86_64', os: 'linux', libc: 'glibc', cuda: '12.0' },
        downloads: [
          { url: 'https://x/1', sha256: sha('d') },
          { url: 'https://y/2', sha256: sha('e') },
        ],
      },
      { name: 'nodl', treeSha1: tree('f'), lazy: false, downloads: [] },
    ]);
  });

  const bad: [string, string, RegExp][] = [
    ['malformed', 'x = = 1', /malformed TOML/],
    ['no tree', '[a]\nlazy = true', /"a".*git-tree-sha1/],
    ['short tree', `[a]\ngit-tree-sha1 = "abc"`, /"a".*git-tree-sha1/],
    ['bad sha256', `[a]\ngit-tree-sha1 = "${tree('a')}"\n[[a.download]]\nurl = "https://x"\nsha256 = "zz"`, /"a".*sha256/],
    ['url not string', `[a]\ngit-tree-sha1 = "${tree('a')}"\n[[a.download]]\nurl = 3\nsha256 = "${sha('a')}"`, /"a".*url/],
    ['platform without os', `[[a]]\narch = "x86_64"\ngit-tree-sha1 = "${tree('a')}"`, /"a".*os/],
    ['not a table', 'a = 1', /"a"/],
  ];
  it.each(bad)('%s -> InputError naming the file and artifact', (_l, text, re) => {
    const err = (() => {
      try {
        parseArtifactsToml(text, 'pkg/Artifacts.toml');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^pkg\/Artifacts\.toml: /);
    expect((err as Error).message).toMatch(re);
  });
});

describe('patchArtifactUrls on hand-written layouts', () => {
  const S = sha('a');
  const T = tree('b');
  const to = (d: { url: string; sha256: string }): string => `http://m/a/${d.sha256}/${artifactFileName(d.url)}`;

  it('inline tables, literal strings, comments, platform-independent tables; only the url bytes change', () => {
    const text = `# header comment
[tool]  # trailing comment
git-tree-sha1 = '${T}'
lazy = true

    [[tool.download]]
    # a comment inside
    url = 'https://example.com/releases/tool%2Bv1.tar.gz' # keep me
    sha256 = "${S}"

    [[tool.download]]
    sha256 = "${sha('c')}"
    url = "https://mirror.example.com/tool.tar.gz"

[[lib]]
arch = "aarch64"
os = "macos"
git-tree-sha1 = "${tree('d')}"
download = [
  { sha256 = "${sha('e')}", url = "https://x/lib-aarch64.tar.xz" },  # one
]

[[lib]]
arch = "x86_64"
os = "windows"
git-tree-sha1 = "${tree('f')}"
download = [{url="https://x/lib-win.tar.gz",sha256="${sha('0')}"}]

[nodownload]
git-tree-sha1 = "${tree('1')}"
url = "https://not-a-download.example.com/keep"
`;
    const { text: out, changed } = patchArtifactUrls(text, 'X.toml', to);
    expect(changed).toBe(4);
    expect(out).toContain(`url = "http://m/a/${S}/tool+v1.tar.gz" # keep me`);
    expect(out).toContain(`url = "http://m/a/${sha('c')}/tool.tar.gz"`);
    expect(out).toContain(`{ sha256 = "${sha('e')}", url = "http://m/a/${sha('e')}/lib-aarch64.tar.xz" },  # one`);
    expect(out).toContain(`download = [{url="http://m/a/${sha('0')}/lib-win.tar.gz",sha256="${sha('0')}"}]`);
    expect(out).toContain('url = "https://not-a-download.example.com/keep"');
    expect(out.replace(/url ?= ?(["'])[^"']*\1/g, 'URL')).toBe(text.replace(/url ?= ?(["'])[^"']*\1/g, 'URL'));
    // idempotent: patching again changes nothing
    const again = patchArtifactUrls(out, 'X.toml', to);
    expect(again.changed).toBe(0);
    expect(again.text).toBe(out);
  });

  it('escapes replacement values as basic strings', () => {
    const text = `[a]\ngit-tree-sha1 = "${T}"\n[[a.download]]\nurl = "https://x/a"\nsha256 = "${S}"\n`;
    const { text: out } = patchArtifactUrls(text, 'E.toml', () => 'https://m/quote"back\\slash');
    expect(parseArtifactsToml(out, 'E.toml')[0]!.downloads[0]!.url).toBe('https://m/quote"back\\slash');
  });

  it('multi-line strings and quoted keys', () => {
    const text = `["my art"]\n"git-tree-sha1" = "${T}"\n[["my art".download]]\n'url' = """https://x/y.tar.gz"""\nsha256 = "${S}"\n`;
    const { text: out, changed } = patchArtifactUrls(text, 'Q.toml', to);
    expect(changed).toBe(1);
    expect(parseArtifactsToml(out, 'Q.toml')[0]!.downloads[0]!.url).toBe(`http://m/a/${S}/y.tar.gz`);
    expect(out).toContain(`'url' = "http://m/a/${S}/y.tar.gz"`);
  });

  it('CRLF line endings are kept', () => {
    const text = `[a]\r\ngit-tree-sha1 = "${T}"\r\n[[a.download]]\r\nurl = "https://x/a.tar.gz"\r\nsha256 = "${S}"\r\n`;
    const { text: out } = patchArtifactUrls(text, 'C.toml', to);
    expect(out).toBe(text.replace('https://x/a.tar.gz', `http://m/a/${S}/a.tar.gz`));
  });

  it('malformed input is an InputError', () => {
    expect(() => patchArtifactUrls('[a', 'M.toml', to)).toThrow(InputError);
  });
});

describe('artifactFileName (the published name of an artifact)', () => {
  it.each([
    ['https://github.com/x/releases/download/Zlib-v1.2.13+1/Zlib.v1.2.13.x86_64-linux-gnu.tar.gz', 'Zlib.v1.2.13.x86_64-linux-gnu.tar.gz'],
    ['https://h/p/CUDA_Runtime.v0.22.0.x86_64-linux-gnu-cuda%2B13.2.tar.gz?x=1#f', 'CUDA_Runtime.v0.22.0.x86_64-linux-gnu-cuda+13.2.tar.gz'],
    ['https://h/p/we%20ird$name.tar.gz', 'we_ird_name.tar.gz'],
    ['https://h/', 'artifact.tar.gz'],
    ['https://h/..%2F..%2Fetc', 'etc'],
    ['https://h/%2E%2E', 'artifact.tar.gz'],
    ['https://h/a..b.tar.gz', 'a.b.tar.gz'],
  ])('%s -> %s', (url, name) => {
    expect(artifactFileName(url)).toBe(name);
  });
});
