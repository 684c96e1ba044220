// airgap.toml: load, defaults, validation. Unknown keys, wrong types and missing required values
// are errors naming the key, because a silently ignored typo in a mirror config means a site
// believes something is mirrored that is not.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError } from './errors.js';

export type GitHostKind = 'dir' | 'gitea' | 'gitlab' | 'push';
export type ArtifactStoreKind = 'dir' | 'http' | 'gitea' | 'gitlab';

export interface UpstreamConfig {
  /** git URL or local path of the upstream registry */
  registry: string;
  branch?: string;
  /** Allow artifact URLs that resolve to private/loopback/link-local addresses. */
  allowPrivateAddresses: boolean;
  /** Env var holding a token for upstream git/HTTP (never stored). */
  tokenEnv?: string;
}

export interface SelectConfig {
  packages: string[];
  manifests: string[];
  all: boolean;
  /** Triplets; undefined = all platforms. */
  platforms?: string[];
  /** Hold back versions registered upstream less than this long ago (e.g. "3d"). */
  quarantine?: string;
}

export interface GitConfig {
  kind: GitHostKind;
  path?: string;
  url: string;
  apiUrl?: string;
  owner?: string;
  group?: string;
  tokenEnv?: string;
  visibility?: string;
  pushUrl?: string;
}

export interface ArtifactsConfig {
  kind: ArtifactStoreKind;
  path?: string;
  url: string;
  uploadUrl?: string;
  apiUrl?: string;
  owner?: string;
  project?: string;
  packageName?: string;
  tokenEnv?: string;
  netrc?: boolean;
}

export interface RegistryConfig {
  repo: string;
  name?: string;
  uuid?: string;
  branch?: string;
}

export interface SyncConfig {
  jobs: number;
  artifactJobs: number;
  retries: number;
  timeoutSeconds: number;
  maxArtifactBytes: number;
  fullEvery?: string;
}

export interface Config {
  /** Absolute path of the config file (or a synthetic name for defaults). */
  file: string;
  stateDir: string;
  upstream: UpstreamConfig;
  select: SelectConfig;
  git: GitConfig;
  artifacts: ArtifactsConfig;
  registry: RegistryConfig;
  sync: SyncConfig;
}

/** The address `julia-airgap serve` listens on by default; `dir` targets default to it. */
export const DEFAULT_SERVE_HOST = '127.0.0.1';
export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_PUBLIC_URL = `http://${DEFAULT_SERVE_HOST}:${DEFAULT_SERVE_PORT}`;

type Table = Record<string, unknown>;

interface KeySpec {
  type: 'string' | 'boolean' | 'number' | 'count' | 'string[]' | 'size';
  required?: boolean;
  oneOf?: readonly string[];
}

const SCHEMA: Record<string, Record<string, KeySpec>> = {
  '': { state_dir: { type: 'string' } },
  upstream: {
    registry: { type: 'string', required: true },
    branch: { type: 'string' },
    allow_private_addresses: { type: 'boolean' },
    token_env: { type: 'string' },
  },
  select: {
    packages: { type: 'string[]' },
    manifests: { type: 'string[]' },
    all: { type: 'boolean' },
    platforms: { type: 'string[]' },
    quarantine: { type: 'string' },
  },
  git: {
    kind: { type: 'string', oneOf: ['dir', 'gitea', 'gitlab', 'push'] },
    path: { type: 'string' },
    url: { type: 'string' },
    api_url: { type: 'string' },
    owner: { type: 'string' },
    group: { type: 'string' },
    token_env: { type: 'string' },
    visibility: { type: 'string', oneOf: ['public', 'internal', 'private', 'limited'] },
    push_url: { type: 'string' },
  },
  artifacts: {
    kind: { type: 'string', oneOf: ['dir', 'http', 'gitea', 'gitlab'] },
    path: { type: 'string' },
    url: { type: 'string' },
    upload_url: { type: 'string' },
    api_url: { type: 'string' },
    owner: { type: 'string' },
    project: { type: 'string' },
    package_name: { type: 'string' },
    token_env: { type: 'string' },
    netrc: { type: 'boolean' },
  },
  registry: {
    repo: { type: 'string' },
    name: { type: 'string' },
    uuid: { type: 'string' },
    branch: { type: 'string' },
  },
  sync: {
    jobs: { type: 'number' },
    artifact_jobs: { type: 'number' },
    retries: { type: 'count' },
    timeout_seconds: { type: 'number' },
    max_artifact_size: { type: 'size' },
    full_every: { type: 'string' },
  },
};

const SECTIONS = Object.keys(SCHEMA).filter((s) => s !== '');

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  return typeof v;
}

function checkValue(file: string, key: string, spec: KeySpec, v: unknown): void {
  const bad = (want: string) => new ConfigError(file, key, `expected ${want}, found ${typeName(v)}`);
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      if (spec.oneOf && !spec.oneOf.includes(v)) {
        throw new ConfigError(file, key, `"${v}" is not one of ${spec.oneOf.map((o) => `"${o}"`).join(', ')}`);
      }
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad('a positive number');
      return;
    case 'count':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad('a whole number, 0 or more');
      return;
    case 'string[]':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad('an array of strings');
      return;
    case 'size':
      if (typeof v === 'number' && v > 0) return;
      if (typeof v === 'string') {
        parseSize(v, file, key);
        return;
      }
      throw bad('a size such as "8GiB" or a number of bytes');
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

export function parseSize(s: string, file = '(size)', key?: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(file, key, `"${s}" is not a size (examples: "500MiB", "8GiB")`);
  return Math.round(Number(m[1]) * unit);
}

/** Durations like "7d", "12h", "30m", "3600s". */
export function parseDuration(s: string, file = '(duration)', key?: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$/.exec(s);
  if (!m) throw new ConfigError(file, key, `"${s}" is not a duration (examples: "12h", "3d", "1w")`);
  const mult = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Math.round(Number(m[1]) * mult * 1000);
}

function validate(file: string, raw: Table): void {
  for (const [k, v] of Object.entries(raw)) {
    if (SECTIONS.includes(k)) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new ConfigError(file, k, `expected a [${k}] table, found ${typeName(v)}`);
      }
      continue;
    }
    const spec = SCHEMA[''][k];
    if (!spec) throw unknownKey(file, k, [...Object.keys(SCHEMA['']!), ...SECTIONS.map((s) => `[${s}]`)]);
    checkValue(file, k, spec, v);
  }
  for (const section of SECTIONS) {
    const t = raw[section] as Table | undefined;
    if (!t) continue;
    const schema = SCHEMA[section]!;
    for (const [k, v] of Object.entries(t)) {
      const spec = schema[k];
      if (!spec) throw unknownKey(file, `${section}.${k}`, Object.keys(schema).map((x) => `${section}.${x}`));
      checkValue(file, `${section}.${k}`, spec, v);
    }
  }
}

function unknownKey(file: string, key: string, known: string[]): ConfigError {
  const base = key.split('.').pop()!;
  const near = known.filter((k) => {
    const kb = k.split('.').pop()!.replace(/[[\]]/g, '');
    return kb.includes(base) || base.includes(kb) || editDistance(kb, base) <= 2;
  });
  const hint = near.length ? ` — did you mean ${near.join(', ')}?` : ` (known: ${known.join(', ')})`;
  return new ConfigError(file, key, `unknown key${hint}`);
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function str(t: Table | undefined, k: string): string | undefined {
  return t?.[k] as string | undefined;
}

function stripSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/** A local path (not a URL) is resolved against the config file's directory. */
function isUrlLike(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\]+@[^/\\]+:/.test(s);
}

export function resolveConfig(raw: Table, file: string): Config {
  validate(file, raw);
  const base = path.dirname(file);
  const abs = (p: string) => path.resolve(base, p);
  const stateDir = abs((raw.state_dir as string | undefined) ?? '.julia-airgap');

  const up = raw.upstream as Table | undefined;
  if (!up) throw new ConfigError(file, 'upstream.registry', 'missing: the upstream registry (git URL or local path) is required');
  const registry = str(up, 'registry');
  if (!registry) throw new ConfigError(file, 'upstream.registry', 'missing: the upstream registry (git URL or local path) is required');

  const sel = (raw.select as Table | undefined) ?? {};
  const packages = (sel.packages as string[] | undefined) ?? [];
  const manifests = ((sel.manifests as string[] | undefined) ?? []).map(abs);
  const all = (sel.all as boolean | undefined) ?? false;
  if (!all && packages.length === 0 && manifests.length === 0) {
    throw new ConfigError(file, 'select', 'nothing selected: set select.packages, select.manifests, or select.all = true');
  }
  if (sel.quarantine !== undefined) parseDuration(sel.quarantine as string, file, 'select.quarantine');

  const g = (raw.git as Table | undefined) ?? {};
  const gitKind = (str(g, 'kind') ?? 'dir') as GitHostKind;
  const git: GitConfig = {
    kind: gitKind,
    url: stripSlash(str(g, 'url') ?? `${DEFAULT_PUBLIC_URL}/git`),
    path: gitKind === 'dir' ? abs(str(g, 'path') ?? path.join(stateDir, 'mirror', 'git')) : undefined,
    apiUrl: str(g, 'api_url'),
    owner: str(g, 'owner'),
    group: str(g, 'group'),
    tokenEnv: str(g, 'token_env'),
    visibility: str(g, 'visibility'),
    pushUrl: str(g, 'push_url'),
  };
  if (gitKind !== 'dir' && str(g, 'url') === undefined) {
    throw new ConfigError(file, 'git.url', `missing: required for kind = "${gitKind}" (how developers clone)`);
  }

  const a = (raw.artifacts as Table | undefined) ?? {};
  const artKind = (str(a, 'kind') ?? 'dir') as ArtifactStoreKind;
  const artifacts: ArtifactsConfig = {
    kind: artKind,
    url: stripSlash(str(a, 'url') ?? `${DEFAULT_PUBLIC_URL}/artifacts`),
    path: artKind === 'dir' ? abs(str(a, 'path') ?? path.join(stateDir, 'mirror', 'artifacts')) : undefined,
    uploadUrl: str(a, 'upload_url'),
    apiUrl: str(a, 'api_url'),
    owner: str(a, 'owner'),
    project: str(a, 'project'),
    packageName: str(a, 'package_name'),
    tokenEnv: str(a, 'token_env'),
    netrc: a.netrc as boolean | undefined,
  };
  if (artKind !== 'dir' && str(a, 'url') === undefined) {
    throw new ConfigError(file, 'artifacts.url', `missing: required for kind = "${artKind}" (base of patched Artifacts.toml URLs)`);
  }
  for (const [key, u] of [['git.url', git.url], ['artifacts.url', artifacts.url]] as const) {
    if (!/^https?:\/\/[^\s]+$/i.test(u)) throw new ConfigError(file, key, `"${u}" must be an http:// or https:// URL`);
    if (/\/\/[^/]*@/.test(u)) throw new ConfigError(file, key, 'must not contain credentials; use token_env');
  }

  const r = (raw.registry as Table | undefined) ?? {};
  const repo = str(r, 'repo') ?? 'General';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(repo) || repo.includes('..')) {
    throw new ConfigError(file, 'registry.repo', `"${repo}" is not a valid repository name (letters, digits, ., _, -)`);
  }
  const uuid = str(r, 'uuid');
  if (uuid !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
    throw new ConfigError(file, 'registry.uuid', `"${uuid}" is not a UUID`);
  }

  const s = (raw.sync as Table | undefined) ?? {};
  const sizeOf = (v: unknown) => (typeof v === 'string' ? parseSize(v, file, 'sync.max_artifact_size') : (v as number));
  if (s.full_every !== undefined) parseDuration(s.full_every as string, file, 'sync.full_every');

  return {
    file,
    stateDir,
    upstream: {
      registry: isUrlLike(registry) ? registry : abs(registry),
      branch: str(up, 'branch'),
      allowPrivateAddresses: (up.allow_private_addresses as boolean | undefined) ?? true,
      tokenEnv: str(up, 'token_env'),
    },
    select: { packages, manifests, all, platforms: sel.platforms as string[] | undefined, quarantine: str(sel, 'quarantine') },
    git,
    artifacts,
    registry: { repo, name: str(r, 'name'), uuid: uuid?.toLowerCase(), branch: str(r, 'branch') },
    sync: {
      jobs: (s.jobs as number | undefined) ?? 4,
      artifactJobs: (s.artifact_jobs as number | undefined) ?? 4,
      retries: (s.retries as number | undefined) ?? 3,
      timeoutSeconds: (s.timeout_seconds as number | undefined) ?? 120,
      maxArtifactBytes: s.max_artifact_size !== undefined ? sizeOf(s.max_artifact_size) : 8 * 1024 ** 3,
      fullEvery: str(s, 'full_every'),
    },
  };
}

export async function loadConfig(file: string): Promise<Config> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (create one with `julia-airgap init`, or pass --config)' : '';
    throw new ConfigError(abs, undefined, `cannot read: ${code ?? String(err)}${hint}`);
  }
  let raw: Table;
  try {
    raw = parseToml(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    const first = (err as Error).message.split('\n')[0];
    throw new ConfigError(abs, undefined, `malformed TOML${where}: ${first}`);
  }
  return resolveConfig(raw, abs);
}
