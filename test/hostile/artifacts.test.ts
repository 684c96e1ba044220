// Hostile artifacts through a whole sync: tarballs that escape their root, carry devices or
// unpack far past the size cap (tarballs.ts HOSTILE, served as the artifacts of one package),
// malformed Artifacts.toml files, an Artifacts.toml of 20,000 entries, and artifact URLs on a
// loopback address with `upstream.allow_private_addresses = false`. Each is refused naming the
// culprit; every other package is published; nothing hostile is stored.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { sync, type SyncReport } from '../../src/sync/pipeline.js';
import { artifactIntegrity, git, listFiles, writeWorldConfig } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/gitrepo.js';
import { HOSTILE, packEntries } from '../fixtures/tarballs.js';
import { makeWorld, type World } from '../fixtures/world.js';
import { addPackage, commitRegistry, filesOutside, project, registryFiles, servePackageRepo } from './variant.js';

const tmp = tempDir('julia-airgap-hostile-art-');
const MIRROR_URL = 'http://mirror.invalid:8080';
const FAKE_TREE = 'f'.repeat(40);
let world: World;
let base: Record<string, string>;
let n = 0;

async function syncVariant(files: Record<string, string>, o: { packages?: string[]; sync?: string[]; upstream?: string[] } = {}) {
  const name = `v${++n}`;
  const registry = commitRegistry(world, name, files);
  const stateDir = path.join(tmp.dir, 'runs', name);
  const cfg = path.join(tmp.dir, 'runs', `${name}.toml`);
  mkdirSync(path.dirname(cfg), { recursive: true });
  writeWorldConfig(cfg, { registry, stateDir, mirrorUrl: MIRROR_URL, packages: o.packages, sync: o.sync, upstream: o.upstream });
  const before = filesOutside(tmp.dir, [stateDir]);
  const report = await sync(await loadConfig(cfg));
  expect(filesOutside(tmp.dir, [stateDir])).toEqual(before);
  expect(artifactIntegrity(path.join(stateDir, 'artifacts'), path.join(stateDir, 'mirror', 'artifacts')).problems).toEqual([]);
  return { report, stateDir };
}

/** One package whose only version has `toml` as its Artifacts.toml. */
function withPackage(name: string, uuid: string, toml: string): Record<string, string> {
  const repo = servePackageRepo(world, `${name}.jl`, { 'Project.toml': project(name, uuid), 'Artifacts.toml': toml, [`src/${name}.jl`]: `module ${name}\nend\n` });
  const files = { ...base };
  addPackage(files, { name, uuid, path: `X/${name}`, repo: repo.url, versions: { '1.0.0': repo.tree } });
  return files;
}

const reasonsOf = (r: SyncReport, pkg: string) => r.failures.filter((f) => f.package === pkg).map((f) => f.reason).join('\n');

beforeAll(async () => {
  world = await makeWorld(path.join(tmp.dir, 'world'));
  base = registryFiles(world.registryDir);
});

afterAll(async () => {
  await world?.close().catch(() => undefined);
  tmp.cleanup();
});

describe('hostile tarballs', () => {
  it('each is refused naming the entry; the package stays out; nothing of it is stored', async () => {
    const cases = Object.entries(HOSTILE).filter(([k]) => k !== 'too-many-entries'); // no entry-count cap in sync's config
    let toml = '';
    const shas: Record<string, string> = {};
    for (const [k, c] of cases) {
      const bytes = await packEntries(c.entries);
      const route = `/hostile/${k}.tar.gz`;
      world.artServer.routes[route] = { body: bytes };
      shas[k] = createHash('sha256').update(bytes).digest('hex');
      toml += `[H_${k.replace(/-/g, '_')}]\ngit-tree-sha1 = "${FAKE_TREE}"\n[[H_${k.replace(/-/g, '_')}.download]]\nsha256 = "${shas[k]}"\nurl = "${world.artServer.url}${route}"\n\n`;
    }
    // The bomb's 16 MiB of zeros is refused by the size cap on the unpacked stream.
    const { report, stateDir } = await syncVariant(withPackage('Hostile_jll', 'ab000000-0000-4000-8000-0000000000ab', toml), {
      packages: ['UsesFoo', 'MonoB', 'Bar_jll', 'Hostile_jll'], sync: ['retries = 1', 'max_artifact_size = "1MiB"'],
    });
    expect(report.exitCode).toBe(3);
    const reasons = reasonsOf(report, 'Hostile_jll');
    const artifactReasons = report.failures.filter((f) => f.kind === 'artifact').map((f) => f.reason);
    for (const [k, c] of cases) {
      const line = artifactReasons.find((r) => r.startsWith(`H_${k.replace(/-/g, '_')} `));
      expect(line, `${k}\n${artifactReasons.join('\n')}`).toBeDefined();
      expect(line, k).toContain(c.mentions);
      expect(listFiles(path.join(stateDir, 'artifacts')).some((f) => f.endsWith(shas[k]!)), k).toBe(false);
    }
    expect(reasons).toContain('is not stored');
    expect(report.warnings.join('\n')).toContain('Hostile_jll: no complete version');
    expect(report.counts.versionsKept).toBe(9);
  });
});

describe('malformed Artifacts.toml in a package version', () => {
  for (const [label, toml, culprit] of [
    ['bad TOML', '[Foo\ngit-tree-sha1 = "x"\n', /Artifacts\.toml: malformed TOML/],
    ['a tree hash that is not 40 hex', `[Foo]\ngit-tree-sha1 = "abc"\n[[Foo.download]]\nsha256 = "${'0'.repeat(64)}"\nurl = "https://example.invalid/x.tar.gz"\n`, /Artifacts\.toml.*git-tree-sha1/],
    ['a sha256 that is not 64 hex', `[Foo]\ngit-tree-sha1 = "${FAKE_TREE}"\n[[Foo.download]]\nsha256 = "00"\nurl = "https://example.invalid/x.tar.gz"\n`, /Artifacts\.toml.*sha256/],
    ['a download URL that is not http', `[Foo]\ngit-tree-sha1 = "${FAKE_TREE}"\n[[Foo.download]]\nsha256 = "${'0'.repeat(64)}"\nurl = "file:///etc/passwd"\n`, /file:\/\/\/etc\/passwd/],
  ] as const) {
    it(`${label}: the version is left out naming the file; the rest is published`, async () => {
      const { report } = await syncVariant(withPackage(`Broken${n}_jll`, `bb000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`, toml), {
        packages: ['UsesFoo', 'MonoB', 'Bar_jll', `Broken${n}_jll`],
      });
      expect(report.error, report.error?.message).toBeUndefined();
      expect(report.exitCode).toBe(3);
      const text = [...report.failures.map((f) => f.reason), ...report.warnings].join('\n');
      expect(text).toMatch(culprit);
      expect(report.counts.versionsKept).toBe(9);
    });
  }
});

describe('a huge Artifacts.toml', () => {
  it('20,000 entries: scanned and patched (every URL replaced), bounded by the test timeout', async () => {
    const N = 20_000;
    const parts: string[] = [];
    for (let i = 0; i < N; i++) {
      // Not the selected platform: nothing is downloaded, but every URL is still rewritten.
      parts.push(`[[A${i}]]\narch = "aarch64"\nos = "linux"\ngit-tree-sha1 = "${i.toString(16).padStart(40, '0')}"\n[[A${i}.download]]\nsha256 = "${i.toString(16).padStart(64, '0')}"\nurl = "https://upstream.invalid/a/${i}.tar.gz"\n`);
    }
    const { report, stateDir } = await syncVariant(withPackage('Huge_jll', 'cc000000-0000-4000-8000-0000000000cc', parts.join('\n')), {
      packages: ['Example', 'Huge_jll'],
    });
    expect(report.error, report.error?.message).toBeUndefined();
    expect(report.counts.versionsKept).toBe(4);
    expect(report.counts.versionsPatched).toBe(1);
    expect(report.counts.artifactsRequired).toBe(0);
    const fork = path.join(stateDir, 'mirror', 'git', 'General.git');
    const tree = /git-tree-sha1 = "([0-9a-f]{40})"/.exec(await git(['--git-dir', fork, 'show', 'HEAD:X/Huge_jll/Versions.toml']))![1]!;
    const host = listFiles(path.join(stateDir, 'mirror', 'git')).find((f) => f.includes('huge_jll'))!.split('/')[0]!;
    const patched = await git(['--git-dir', path.join(stateDir, 'mirror', 'git', host), 'show', `${tree}:Artifacts.toml`]);
    expect(patched.split(`url = "${MIRROR_URL}/artifacts/`).length - 1).toBe(N);
    expect(patched).not.toContain('upstream.invalid');
  });
});

describe('artifact URLs on private addresses, refused', () => {
  it('with allow_private_addresses = false every loopback download is refused naming URL and address; none is requested', async () => {
    const hitsBefore = world.artServer.totalHits();
    const { report } = await syncVariant({ ...base }, { upstream: ['allow_private_addresses = false'] });
    expect(report.exitCode).toBe(3);
    expect(world.artServer.totalHits()).toBe(hitsBefore);
    const arts = report.failures.filter((f) => f.kind === 'artifact');
    expect(arts.length).toBe(6); // every artifact the world needs, lazy one included
    for (const a of arts) {
      expect(a.reason).toContain(world.artServer.url);
      expect(a.reason).toMatch(/127\.0\.0\.1 resolves to 127\.0\.0\.1, a private or local address/);
    }
    // Only what needs no artifact is published: Example (3 versions).
    expect(report.counts.versionsKept).toBe(3);
  });
});
