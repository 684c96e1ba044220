// The demo's sample upstream, built from templates/demo: package repos (one commit per template
// directory, tagged), artifact tarballs packed and hashed now, and a registry repo listing them,
// all under `root` and named by the URL they will be served at (`baseUrl`).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parseTriplet } from '../artifacts/platform.js';
import { InputError } from '../errors.js';
import { ensureBareRepo } from '../git/mirror.js';
import { isJuliaIdentifier, isUuid } from '../registry/reader.js';
import { tryParseVersion } from '../registry/versions.js';
import { readFileMap, type FileMap } from './files.js';
import { setRefs, writeCommit, writeFileTree } from './gitwrite.js';
import { packArtifact } from './pack.js';

interface RepoSpec {
  name: string;
  commits: string[];
  subdirs: string[];
  artifacts?: string;
}

interface RegistrySpec {
  name: string;
  uuid: string;
  description: string;
  repos: RepoSpec[];
}

export interface DemoArtifact {
  name: string;
  platform: string;
  url: string;
  sha256: string;
  treeSha1: string;
  size: number;
}

export interface DemoPackage {
  name: string;
  uuid: string;
  repo: string;
  subdir?: string;
  versions: Array<{ version: string; tree: string; deps: Record<string, string>; julia?: string }>;
}

export interface DemoUpstream {
  registryUrl: string;
  registryName: string;
  packages: DemoPackage[];
  repos: string[];
  artifacts: DemoArtifact[];
}

const BRANCH = 'main';

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

async function readRegistrySpec(file: string): Promise<RegistrySpec> {
  const doc = parseToml(await readFile(file, 'utf8')) as Record<string, unknown>;
  const bad = (msg: string) => new InputError(file, msg);
  if (typeof doc.name !== 'string' || typeof doc.uuid !== 'string' || !isUuid(doc.uuid)) throw bad('needs a string name and a UUID uuid');
  if (!Array.isArray(doc.repo)) throw bad('needs [[repo]] tables');
  const repos = (doc.repo as Array<Record<string, unknown>>).map((r, i) => {
    if (typeof r.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(r.name)) throw bad(`repo ${i + 1}: name must be a plain repository name`);
    if (!stringList(r.commits) || r.commits.length === 0) throw bad(`repo ${r.name}: commits must list at least one directory`);
    if (r.subdirs !== undefined && !stringList(r.subdirs)) throw bad(`repo ${r.name}: subdirs must be a list of paths`);
    if (r.artifacts !== undefined && typeof r.artifacts !== 'string') throw bad(`repo ${r.name}: artifacts must name a directory`);
    return { name: r.name, commits: r.commits, subdirs: (r.subdirs as string[] | undefined) ?? [''], artifacts: r.artifacts as string | undefined };
  });
  return { name: doc.name, uuid: doc.uuid, description: typeof doc.description === 'string' ? doc.description : '', repos };
}

/** Pkg's caret meaning of a simple `[compat]` entry, as a registry range: "1.6" -> "1.6.0-1". */
function caretRange(spec: string, file: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(spec);
  if (!m || m[1] === '0') throw new InputError(file, `compat "${spec}": the demo understands only "major.minor[.patch]" with major >= 1`);
  return `${m[1]}.${m[2]}.${m[3] ?? '0'}-${m[1]}`;
}

/** The range key that selects exactly this version in Deps.toml/Compat.toml (ranges carry no build part). */
function exactKey(version: string): string {
  const v = tryParseVersion(version)!;
  return `${v.major}.${v.minor}.${v.patch}`;
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

async function buildArtifacts(templates: string, name: string, root: string, baseUrl: string): Promise<{ toml: string; list: DemoArtifact[] }> {
  const srcDir = path.join(templates, 'artifacts', name);
  const all = await readFileMap(srcDir);
  const byPlatform = new Map<string, FileMap>();
  for (const [p, f] of all) {
    const [triplet, ...rest] = p.split('/');
    if (rest.length === 0) throw new InputError(path.join(srcDir, p), 'artifact content must be in a <triplet>/ directory');
    if (!byPlatform.has(triplet!)) byPlatform.set(triplet!, new Map());
    byPlatform.get(triplet!)!.set(rest.join('/'), f);
  }
  const list: DemoArtifact[] = [];
  let toml = '';
  for (const [triplet, files] of [...byPlatform].sort(([a], [b]) => a.localeCompare(b))) {
    const platform = parseTriplet(triplet);
    const fileName = `${name}.${triplet}.tar.gz`;
    const packed = await packArtifact(files, `${srcDir}/${triplet}`);
    await mkdir(path.join(root, 'artifacts', name), { recursive: true });
    await writeFile(path.join(root, 'artifacts', name, fileName), packed.bytes);
    const url = `${baseUrl}/artifacts/${name}/${fileName}`;
    list.push({ name, platform: triplet, url, sha256: packed.sha256, treeSha1: packed.treeSha1, size: packed.bytes.length });
    const keys: Record<string, string> = { arch: platform.arch, os: platform.os, 'git-tree-sha1': packed.treeSha1, ...platform.tags };
    if (platform.libc) keys.libc = platform.libc;
    if (platform.call_abi) keys.call_abi = platform.call_abi;
    toml += `[[${name}]]\n`;
    for (const k of Object.keys(keys).sort()) toml += `${tomlKey(k)} = ${JSON.stringify(keys[k])}\n`;
    toml += `\n    [[${name}.download]]\n    sha256 = "${packed.sha256}"\n    url = ${JSON.stringify(url)}\n\n`;
  }
  return { toml, list };
}

function projectOf(files: FileMap, at: string, where: string): { name: string; uuid: string; version: string; deps: Record<string, string>; julia?: string } {
  const file = `${where}/${at ? `${at}/` : ''}Project.toml`;
  const data = files.get(at ? `${at}/Project.toml` : 'Project.toml');
  if (!data) throw new InputError(file, 'missing: every package directory needs a Project.toml');
  const doc = parseToml(data.data.toString('utf8')) as Record<string, unknown>;
  const { name, uuid, version } = doc;
  if (typeof name !== 'string' || !isJuliaIdentifier(name)) throw new InputError(file, 'name must be a Julia identifier');
  if (typeof uuid !== 'string' || !isUuid(uuid)) throw new InputError(file, 'uuid must be a UUID');
  if (typeof version !== 'string' || !tryParseVersion(version)) throw new InputError(file, 'version must be a version number');
  const deps = (doc.deps ?? {}) as Record<string, string>;
  const compat = (doc.compat ?? {}) as Record<string, string>;
  return { name, uuid, version, deps, julia: compat.julia === undefined ? undefined : caretRange(compat.julia, file) };
}

function registryFiles(spec: RegistrySpec, registryUrl: string, packages: DemoPackage[]): FileMap {
  const files: FileMap = new Map();
  const put = (p: string, text: string) => files.set(p, { data: Buffer.from(text), exec: false });
  const pathOf = (name: string) => `${name[0]!.toUpperCase()}/${name}`;
  const sorted = [...packages].sort((a, b) => a.uuid.localeCompare(b.uuid));
  put(
    'Registry.toml',
    `name = ${JSON.stringify(spec.name)}\nuuid = "${spec.uuid}"\nrepo = ${JSON.stringify(registryUrl)}\n\ndescription = """\n${spec.description}\n"""\n\n[packages]\n` +
      sorted.map((p) => `${p.uuid} = { name = "${p.name}", path = "${pathOf(p.name)}" }\n`).join(''),
  );
  for (const p of packages) {
    const dir = pathOf(p.name);
    put(`${dir}/Package.toml`, `name = "${p.name}"\nuuid = "${p.uuid}"\nrepo = ${JSON.stringify(p.repo)}\n${p.subdir ? `subdir = ${JSON.stringify(p.subdir)}\n` : ''}`);
    put(`${dir}/Versions.toml`, p.versions.map((v) => `["${v.version}"]\ngit-tree-sha1 = "${v.tree}"\n`).join('\n'));
    const deps = p.versions.filter((v) => Object.keys(v.deps).length > 0);
    if (deps.length) {
      put(`${dir}/Deps.toml`, deps.map((v) => `["${exactKey(v.version)}"]\n${Object.entries(v.deps).sort().map(([n, u]) => `${n} = "${u}"\n`).join('')}`).join('\n'));
    }
    const compat = p.versions.filter((v) => v.julia);
    if (compat.length) put(`${dir}/Compat.toml`, compat.map((v) => `["${exactKey(v.version)}"]\njulia = "${v.julia}"\n`).join('\n'));
  }
  return files;
}

/** Builds the sample upstream under `root` (git/ and artifacts/), for serving at `baseUrl`. */
export async function buildDemoUpstream(templates: string, root: string, baseUrl: string): Promise<DemoUpstream> {
  const spec = await readRegistrySpec(path.join(templates, 'registry.toml'));
  const gitRoot = path.join(root, 'git');
  const packages = new Map<string, DemoPackage>();
  const artifacts: DemoArtifact[] = [];
  let step = 0;
  for (const repo of spec.repos) {
    const repoUrl = `${baseUrl}/git/${repo.name}.git`;
    const gitDir = path.join(gitRoot, `${repo.name}.git`);
    await ensureBareRepo(gitDir);
    let artifactsToml: string | undefined;
    if (repo.artifacts) {
      const built = await buildArtifacts(templates, repo.artifacts, root, baseUrl);
      artifactsToml = built.toml;
      artifacts.push(...built.list);
    }
    const refs = new Map<string, string>();
    let parent: string | undefined;
    for (const c of repo.commits) {
      const where = path.join(templates, 'repos', repo.name, c);
      const files = await readFileMap(where);
      if (artifactsToml) files.set('Artifacts.toml', { data: Buffer.from(artifactsToml), exec: false });
      const tree = await writeFileTree(gitDir, files);
      parent = await writeCommit(gitDir, tree.root, parent, `${c}\n`, step++);
      refs.set(`refs/tags/${c}`, parent);
      for (const sub of repo.subdirs) {
        const proj = projectOf(files, sub, where);
        const pkg = packages.get(proj.uuid) ?? { name: proj.name, uuid: proj.uuid, repo: repoUrl, subdir: sub || undefined, versions: [] };
        packages.set(proj.uuid, pkg);
        pkg.versions.push({ version: proj.version, tree: tree.dirs.get(sub)!, deps: proj.deps, julia: proj.julia });
      }
    }
    refs.set(`refs/heads/${BRANCH}`, parent!);
    await setRefs(gitDir, refs, BRANCH);
  }

  const registryUrl = `${baseUrl}/git/${spec.name}.git`;
  const regDir = path.join(gitRoot, `${spec.name}.git`);
  await ensureBareRepo(regDir);
  const list = [...packages.values()];
  const regTree = await writeFileTree(regDir, registryFiles(spec, registryUrl, list));
  const regCommit = await writeCommit(regDir, regTree.root, undefined, `Register ${list.map((p) => p.name).join(', ')}\n`, step);
  await setRefs(regDir, new Map([[`refs/heads/${BRANCH}`, regCommit]]), BRANCH);
  return { registryUrl, registryName: spec.name, packages: list, repos: spec.repos.map((r) => r.name), artifacts };
}
