import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { InputError } from '../../src/errors.js';
import { addRegistryPackages, rewritePackageToml, rewriteRegistryToml, rewriteVersionsToml, tomlString } from '../../src/registry/rewrite.js';
import { scanTomlStatements } from '../../src/registry/tomlscan.js';

const T1 = '1'.repeat(40);
const T2 = '2'.repeat(40);
const T3 = '3'.repeat(40);
const NEW = 'f'.repeat(40);

function lines(s: string): string[] {
  return s.split('\n');
}

describe('tomlString', () => {
  it.each([
    ['plain', '"plain"'],
    ['a "quote" and \\ backslash', '"a \\"quote\\" and \\\\ backslash"'],
    ['line\nbreak\ttab\r', '"line\\nbreak\\ttab\\r"'],
    ['\u0000\u001f\u007f', '"\\u0000\\u001F\\u007F"'],
    ['ünïcødé ✓ 𝔘', '"ünïcødé ✓ 𝔘"'],
  ])('%j', (s, want) => {
    expect(tomlString(s)).toBe(want);
    expect(parse(`x = ${tomlString(s)}`)['x']).toBe(s);
  });
});

describe('rewritePackageToml', () => {
  const text = 'name = "CUDA"\nuuid = "052768ef-5323-5732-b1bb-66c8b64840ba"\nrepo = "https://github.com/JuliaGPU/CUDA.jl.git"\nsubdir = "lib/cutensor"\n';
  it('changes only the repo value', () => {
    const out = rewritePackageToml(text, 'P.toml', { repo: 'https://git.internal/julia/JuliaGPU__CUDA.jl.git' });
    expect(out).toBe(text.replace('https://github.com/JuliaGPU/CUDA.jl.git', 'https://git.internal/julia/JuliaGPU__CUDA.jl.git'));
  });
  it('keeps comments, spacing and CRLF line endings', () => {
    const crlf = 'name  =  "X"  # the name\r\nuuid = "052768ef-5323-5732-b1bb-66c8b64840ba"\r\nrepo = \'https://a/b.git\'   # upstream\r\n';
    const out = rewritePackageToml(crlf, 'P.toml', { repo: 'https://c/d "q".git' });
    expect(out).toBe('name  =  "X"  # the name\r\nuuid = "052768ef-5323-5732-b1bb-66c8b64840ba"\r\nrepo = "https://c/d \\"q\\".git"   # upstream\r\n');
  });
  it('adds repo after uuid when missing (even without a final newline)', () => {
    expect(rewritePackageToml('name = "X"\nuuid = "052768ef-5323-5732-b1bb-66c8b64840ba"', 'P.toml', { repo: 'https://r' })).toBe(
      'name = "X"\nuuid = "052768ef-5323-5732-b1bb-66c8b64840ba"\nrepo = "https://r"\n',
    );
  });
  it('refuses malformed TOML and layouts it cannot edit', () => {
    expect(() => rewritePackageToml('name = "X\n', 'P.toml', { repo: 'x' })).toThrow(InputError);
    expect(() => rewritePackageToml('name = "X\n', 'P.toml', { repo: 'x' })).toThrow(/^P\.toml: malformed TOML/);
    // `repo` as a dotted-key table: adding a string `repo` would clash, and the check catches it.
    expect(() => rewritePackageToml('name = "X"\nrepo.url = "a"\n', 'P.toml', { repo: 'x' })).toThrow(/P\.toml: rewriting repo/);
  });
});

const VERSIONS = `["0.1.0"]
git-tree-sha1 = "${T1}"

["0.2.0"]
git-tree-sha1 = "${T2}"
yanked = true

["1.0.0+1"]
git-tree-sha1 = "${T3}"
`;

describe('rewriteVersionsToml', () => {
  it('keeps everything when keep is complete and trees are unchanged', () => {
    const keep = new Map([['0.1.0', T1], ['0.2.0', T2], ['1.0.0+1', T3]]);
    expect(rewriteVersionsToml(VERSIONS, 'V.toml', keep)).toBe(VERSIONS);
  });
  it('replaces changed trees and keeps yanked', () => {
    const out = rewriteVersionsToml(VERSIONS, 'V.toml', new Map([['0.1.0', T1], ['0.2.0', NEW], ['1.0.0+1', T3]]));
    expect(out).toBe(VERSIONS.replace(T2, NEW));
  });
  it.each([
    [['0.1.0'], `["0.1.0"]\ngit-tree-sha1 = "${T1}"\n`],
    [['0.2.0'], `["0.2.0"]\ngit-tree-sha1 = "${T2}"\nyanked = true\n`],
    [['1.0.0+1'], `["1.0.0+1"]\ngit-tree-sha1 = "${T3}"\n`],
    [['0.1.0', '0.2.0'], `["0.1.0"]\ngit-tree-sha1 = "${T1}"\n\n["0.2.0"]\ngit-tree-sha1 = "${T2}"\nyanked = true\n`],
    [['0.1.0', '1.0.0+1'], `["0.1.0"]\ngit-tree-sha1 = "${T1}"\n\n["1.0.0+1"]\ngit-tree-sha1 = "${T3}"\n`],
    [['0.2.0', '1.0.0+1'], `["0.2.0"]\ngit-tree-sha1 = "${T2}"\nyanked = true\n\n["1.0.0+1"]\ngit-tree-sha1 = "${T3}"\n`],
    [[], ''],
  ])('drops versions, keeping the one-blank-line layout: keep %j', (versions, want) => {
    const all = new Map([['0.1.0', T1], ['0.2.0', T2], ['1.0.0+1', T3]]);
    const keep = new Map(versions.map((v) => [v, all.get(v)!]));
    expect(rewriteVersionsToml(VERSIONS, 'V.toml', keep)).toBe(want);
  });
  it('keeps comments and handles CRLF and dotted keys', () => {
    const text = `# registry file\r\n["0.1.0"]\r\ngit-tree-sha1 = "${T1}" # orig\r\n\r\n["0.2.0"]\r\ngit-tree-sha1 = "${T2}"\r\n\r\n["0.3.0"]\r\n"git-tree-sha1" = '${T3}'\r\n`;
    const out = rewriteVersionsToml(text, 'V.toml', new Map([['0.1.0', NEW], ['0.3.0', NEW]]));
    expect(out).toBe(`# registry file\r\n["0.1.0"]\r\ngit-tree-sha1 = "${NEW}" # orig\r\n\r\n["0.3.0"]\r\n"git-tree-sha1" = "${NEW}"\r\n`);
  });
  it('refuses versions that are not in the file and bad trees', () => {
    expect(() => rewriteVersionsToml(VERSIONS, 'V.toml', new Map([['9.9.9', T1]]))).toThrow(/V\.toml: cannot keep version 9\.9\.9/);
    expect(() => rewriteVersionsToml(VERSIONS, 'V.toml', new Map([['0.1.0', 'abc']]))).toThrow(/not 40 hex digits/);
    expect(() => rewriteVersionsToml('["0.1.0"\n', 'V.toml', new Map())).toThrow(/^V\.toml: malformed TOML/);
  });
  it('refuses a layout whose edit does not verify (inline version tables)', () => {
    const text = `"0.1.0" = { git-tree-sha1 = "${T1}" }\n`;
    expect(() => rewriteVersionsToml(text, 'V.toml', new Map([['0.1.0', NEW]]))).toThrow(/V\.toml: rewriting versions: the edited text does not parse/);
    // Dropping such an entry is a whole-line edit and works.
    expect(rewriteVersionsToml(`${text}"0.2.0" = { git-tree-sha1 = "${T2}" }\n`, 'V.toml', new Map([['0.2.0', T2]]))).toBe(`"0.2.0" = { git-tree-sha1 = "${T2}" }\n`);
  });
});

const A = '00000000-1111-2222-3333-444444444444';
const B = '0004c1f4-53c5-4d43-a221-a1dac6cf6b74';
const C = '000eeb74-f857-587a-a816-be5685e97e75';
const REGISTRY = `name = "General"
uuid = "23338594-aafe-5451-b93e-139f81909106"
repo = "https://github.com/JuliaRegistries/General.git"

description = """
Official general Julia package registry where people can
register any package they want without "too much" debate = about
[packages]
naming.
"""

[packages]
${A} = { name = "REPLTreeViews", path = "R/REPLTreeViews" }
${B} = { name = "TuringGLM", path = "T/TuringGLM" }
${C} = { name = "KCP_jll", path = "jll/K/KCP_jll" }
`;

describe('rewriteRegistryToml', () => {
  it('sets repo and prunes packages, leaving every other byte alone', () => {
    const out = rewriteRegistryToml(REGISTRY, 'R.toml', { repo: 'https://git.internal/julia/General.git', keep: new Set([A, C.toUpperCase()]) });
    const want = REGISTRY.replace('https://github.com/JuliaRegistries/General.git', 'https://git.internal/julia/General.git').replace(
      `${B} = { name = "TuringGLM", path = "T/TuringGLM" }\n`,
      '',
    );
    expect(out).toBe(want);
  });

  it('replaces name and uuid, and adds a missing repo after uuid', () => {
    const text = REGISTRY.replace('repo = "https://github.com/JuliaRegistries/General.git"\n', '');
    const out = rewriteRegistryToml(text, 'R.toml', {
      repo: 'https://x/General.git',
      keep: new Set([A, B, C]),
      name: 'Internal',
      uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    });
    expect(lines(out).slice(0, 4)).toEqual(['name = "Internal"', 'uuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"', 'repo = "https://x/General.git"', '']);
    expect(lines(out).slice(3)).toEqual(lines(text).slice(2));
  });

  it('handles [packages.<uuid>] sections and dotted keys', () => {
    const text = `name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\n\n[packages]\n${A}.name = "X"\n${A}.path = "X/X"\n\n[packages.${B}]\nname = "Y"\npath = "Y/Y"\n\n[packages."${C}"]\nname = "Z"\npath = "Z/Z"\n`;
    expect(rewriteRegistryToml(text, 'R.toml', { repo: 'r', keep: new Set([C]) })).toBe(
      `name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\nrepo = "r"\n\n[packages]\n\n[packages."${C}"]\nname = "Z"\npath = "Z/Z"\n`,
    );
    expect(rewriteRegistryToml(text, 'R.toml', { repo: 'r', keep: new Set([A]) })).toBe(
      `name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\nrepo = "r"\n\n[packages]\n${A}.name = "X"\n${A}.path = "X/X"\n`,
    );
  });

  it('tolerates a TOML 1.1 multi-line inline table', () => {
    const text = `name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\n\n[packages]\n${A} = {\n  name = "X",\n  path = "X/X",\n}\n${B} = { name = "Y", path = "Y/Y" }\n`;
    expect(rewriteRegistryToml(text, 'R.toml', { repo: 'r', keep: new Set([B]) })).toBe(
      `name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\nrepo = "r"\n\n[packages]\n${B} = { name = "Y", path = "Y/Y" }\n`,
    );
  });

  it('refuses to keep unknown packages and bad identities', () => {
    expect(() => rewriteRegistryToml(REGISTRY, 'R.toml', { repo: 'r', keep: new Set(['aaaaaaaa-0000-4000-8000-000000000001']) })).toThrow(
      /R\.toml: cannot keep package aaaaaaaa-0000-4000-8000-000000000001/,
    );
    expect(() => rewriteRegistryToml(REGISTRY, 'R.toml', { repo: 'r', keep: new Set(), uuid: 'nope' })).toThrow(/not a UUID/);
    expect(() => rewriteRegistryToml(REGISTRY, 'R.toml', { repo: 'r', keep: new Set(), name: '../x' })).toThrow(/new registry name/);
  });
});

describe('scanTomlStatements', () => {
  it('finds value spans across multi-line strings and arrays', () => {
    const text = 'a = """x\n[y]\n"""\nb = [\n  1, # c\n  "]",\n]\n[t."q.r"]\nc = 1979-05-27 07:32:00Z # d\n';
    const s = scanTomlStatements(text, 'f');
    expect(s.map((x) => x.kind)).toEqual(['kv', 'kv', 'header', 'kv']);
    expect(s.map((x) => text.slice(x.valueStart, x.valueEnd))).toEqual(['"""x\n[y]\n"""', '[\n  1, # c\n  "]",\n]', '', '1979-05-27 07:32:00Z']);
    expect(s[2]!.path).toEqual(['t', 'q.r']);
    expect(s[3]!.table).toEqual(['t', 'q.r']);
    expect(s.at(-1)!.end).toBe(text.length);
  });
});

describe('addRegistryPackages', () => {
  const text = 'name = "R"\nuuid = "23338594-aafe-5451-b93e-139f81909106"\n\n[packages]\n10000000-0000-4000-8000-000000000000 = { name = "A", path = "A/A" }\n30000000-0000-4000-8000-000000000000 = { name = "C", path = "C/C" }\n';
  it('inserts lines in UUID order and changes nothing else', () => {
    const out = addRegistryPackages(text, 'Registry.toml', [
      { uuid: '40000000-0000-4000-8000-000000000000', name: 'D', path: 'D/D' },
      { uuid: '20000000-0000-4000-8000-000000000000', name: 'B', path: 'B/B' },
    ]);
    expect(out.split('\n').slice(4, 8)).toEqual([
      '10000000-0000-4000-8000-000000000000 = { name = "A", path = "A/A" }',
      '20000000-0000-4000-8000-000000000000 = { name = "B", path = "B/B" }',
      '30000000-0000-4000-8000-000000000000 = { name = "C", path = "C/C" }',
      '40000000-0000-4000-8000-000000000000 = { name = "D", path = "D/D" }',
    ]);
    expect(out.split('\n').slice(0, 4)).toEqual(text.split('\n').slice(0, 4));
  });
  it('refuses a UUID already listed, naming it', () => {
    expect(() => addRegistryPackages(text, 'Registry.toml', [{ uuid: '10000000-0000-4000-8000-000000000000', name: 'A', path: 'A/A' }])).toThrow(/already in \[packages\]/);
  });
});
