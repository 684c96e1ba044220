import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readManifestPackages } from '../../src/registry/manifest.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airgap-manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function manifest(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const V2 = `# This file is machine-generated - editing it directly is not advised

julia_version = "1.10.2"
manifest_format = "2.0"
project_hash = "c6c2a3ef7d8bc1b0a3c0e4c4d0c6e2b1f4b3a0d9"

[[deps.Artifacts]]
uuid = "56f22d72-fd6d-98f1-02f0-08ddc0907c33"

[[deps.Example]]
git-tree-sha1 = "46E44E869B4D90B96BD8ED1FDCF32244FDDFB6CC"
uuid = "7876af07-990d-54b4-ab0e-23690620f79a"
version = "0.5.3"

[[deps.LinearAlgebra]]
deps = ["Libdl", "OpenBLAS_jll", "libblastrampoline_jll"]
uuid = "37e2e46d-f89d-539d-b4ee-838fcccc9c8e"

[[deps.MyPkg]]
path = "dev/MyPkg"
uuid = "bbbbbbbb-0000-4000-8000-000000000001"
version = "0.1.0"

[[deps.Dup]]
uuid = "aaaaaaaa-0000-4000-8000-00000000000a"
version = "1.0.0"

[[deps.Dup]]
uuid = "aaaaaaaa-0000-4000-8000-00000000000b"
version = "2.0.0"

[[deps.NoUuid]]
version = "1.0.0"
`;

const V1 = `# This file is machine-generated - editing it directly is not advised

[[Base64]]
uuid = "2a0f44e3-6c83-55bd-87e4-b1978d98bd5f"

[[JSON]]
deps = ["Dates", "Mmap", "Parsers", "Unicode"]
git-tree-sha1 = "31e996f0a15c7b280ba9f76636b3ff9e2ae58c9a"
uuid = "682c06a0-de6a-54ab-a142-c8b1cf79cde6"
version = "0.21.4"
`;

describe('readManifestPackages', () => {
  it('reads format 2 ([[deps.X]]), skipping entries without uuid', async () => {
    const pkgs = await readManifestPackages(await manifest('v2.toml', V2));
    expect(pkgs).toEqual([
      { name: 'Artifacts', uuid: '56f22d72-fd6d-98f1-02f0-08ddc0907c33' },
      { name: 'Example', uuid: '7876af07-990d-54b4-ab0e-23690620f79a', version: '0.5.3', treeSha1: '46e44e869b4d90b96bd8ed1fdcf32244fddfb6cc' },
      { name: 'LinearAlgebra', uuid: '37e2e46d-f89d-539d-b4ee-838fcccc9c8e' },
      { name: 'MyPkg', uuid: 'bbbbbbbb-0000-4000-8000-000000000001', version: '0.1.0' },
      { name: 'Dup', uuid: 'aaaaaaaa-0000-4000-8000-00000000000a', version: '1.0.0' },
      { name: 'Dup', uuid: 'aaaaaaaa-0000-4000-8000-00000000000b', version: '2.0.0' },
    ]);
  });

  it('reads format 2.1 and an empty format 2 manifest', async () => {
    const v21 = V2.replace('manifest_format = "2.0"', 'manifest_format = "2.1"\n\n[registries.General]\nuuid = "23338594-aafe-5451-b93e-139f81909106"\nurl = "https://github.com/JuliaRegistries/General.git"\n');
    expect(await readManifestPackages(await manifest('v21.toml', v21))).toHaveLength(6);
    expect(await readManifestPackages(await manifest('empty.toml', 'manifest_format = "2.0"\n'))).toEqual([]);
  });

  it('reads the old top-level [[X]] layout', async () => {
    expect(await readManifestPackages(await manifest('v1.toml', V1))).toEqual([
      { name: 'Base64', uuid: '2a0f44e3-6c83-55bd-87e4-b1978d98bd5f' },
      { name: 'JSON', uuid: '682c06a0-de6a-54ab-a142-c8b1cf79cde6', version: '0.21.4', treeSha1: '31e996f0a15c7b280ba9f76636b3ff9e2ae58c9a' },
    ]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['malformed TOML', '[[deps.X]\nuuid = "x"\n', /malformed TOML at line 1/],
    ['a bad uuid', 'manifest_format = "2.0"\n[[deps.X]]\nuuid = "1234"\n', /package X: invalid uuid "1234"/],
    ['a bad uuid (format 1)', '[[X]]\nuuid = 5\n', /package X: invalid uuid 5/],
    ['a bad tree', 'manifest_format = "2.0"\n[[deps.X]]\nuuid = "7876af07-990d-54b4-ab0e-23690620f79a"\ngit-tree-sha1 = "zz"\n', /invalid git-tree-sha1 "zz"/],
    ['a hostile name', 'manifest_format = "2.0"\n[[deps."../x"]]\nuuid = "7876af07-990d-54b4-ab0e-23690620f79a"\n', /package name "..\/x" is not a Julia identifier/],
    ['an unknown format', 'manifest_format = "3.0"\n', /unsupported manifest_format "3\.0"/],
    ['deps not arrays', 'manifest_format = "2.0"\n[deps.X]\nuuid = "7876af07-990d-54b4-ab0e-23690620f79a"\n', /must be an array of tables/],
  ];
  it.each(bad)('rejects %s with an InputError naming the file', async (what, text, re) => {
    const file = await manifest(`bad-${what.replace(/\W/g, '_')}.toml`, text);
    const err = await readManifestPackages(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(file);
    expect((err as Error).message).toMatch(re);
  });

  it('rejects a missing file with an InputError', async () => {
    await expect(readManifestPackages(join(dir, 'nope.toml'))).rejects.toThrow(/nope\.toml: cannot read manifest/);
  });
});
