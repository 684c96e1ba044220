// `julia-airgap init`: writes a commented airgap.toml from templates/airgap.toml, with the
// options given filled in. The result is checked with the config loader before it is written,
// so a bad --registry or --git-url is refused with the loader's message naming the key.

import { access } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { CommandModule } from 'yargs';
import { resolveConfig, type ArtifactStoreKind, type GitHostKind } from '../config.js';
import { templatesDir } from '../demo/templates.js';
import { AirgapError, ConfigError } from '../errors.js';
import { isJuliaIdentifier, isUuid } from '../registry/reader.js';
import { writeFileAtomic } from '../sync/state.js';
import { fail } from './common.js';

export const GIT_KINDS: readonly GitHostKind[] = ['dir', 'gitea', 'gitlab', 'push'];
export const ARTIFACT_KINDS: readonly ArtifactStoreKind[] = ['dir', 'http', 'gitea', 'gitlab'];

interface KindHelp {
  needs: string;
  /** commented example lines added under the kind, unless the section already shows the key */
  keys: Array<[key: string, line: string]>;
}

const GIT_HELP: Record<GitHostKind, KindHelp> = {
  dir: { needs: 'nothing else: bare repos go to `path`, served by `julia-airgap serve`', keys: [] },
  gitea: {
    needs: 'url (the instance, e.g. "https://gitea.internal"; repos are {url}/{owner}/{name}.git), owner, token_env; optional api_url (default {url}/api/v1), visibility',
    keys: [
      ['owner', '# owner = "julia-mirror"            # organisation or user that owns the mirrored repos'],
      ['token_env', '# token_env = "GITEA_TOKEN"         # env var holding an API token that can create repos'],
      ['api_url', '# api_url = "https://gitea.internal/api/v1"'],
      ['visibility', '# visibility = "public"             # Pkg clones anonymously unless clients are set up otherwise'],
    ],
  },
  gitlab: {
    needs: 'url (the instance, e.g. "https://gitlab.internal"; repos are {url}/{group}/{name}.git), group, token_env; optional api_url (default {url}/api/v4), visibility',
    keys: [
      ['group', '# group = "julia-mirror"            # group path the repos are created in'],
      ['token_env', '# token_env = "GITLAB_TOKEN"        # env var holding a token with api and write_repository scopes'],
      ['api_url', '# api_url = "https://gitlab.internal/api/v4"'],
      ['visibility', '# visibility = "public"'],
    ],
  },
  push: {
    needs: 'url containing {name} (how developers clone, e.g. "http://git.internal/julia/{name}.git"); optional push_url containing {name}, token_env',
    keys: [
      ['push_url', '# push_url = "gitolite3@git.internal:julia/{name}"   # where pushes go, if not url'],
      ['token_env', '# token_env = "GIT_PUSH_TOKEN"'],
    ],
  },
};

const ARTIFACT_HELP: Record<ArtifactStoreKind, KindHelp> = {
  dir: { needs: 'nothing else: files go to `path`, served by `julia-airgap serve`', keys: [] },
  http: {
    needs: 'url (base clients download from); optional upload_url (where PUTs go, default url), and token_env or netrc = true for upload credentials',
    keys: [
      ['upload_url', '# upload_url = "https://files.internal/upload/julia-artifacts"'],
      ['token_env', '# token_env = "ARTIFACT_TOKEN"'],
      ['netrc', '# netrc = false'],
    ],
  },
  gitea: {
    needs: 'url (the Gitea instance, e.g. "https://gitea.internal"), owner, token_env; optional api_url, package_name (default "julia-artifacts")',
    keys: [
      ['owner', '# owner = "julia-mirror"            # a public user or organisation, so clients download anonymously'],
      ['token_env', '# token_env = "GITEA_TOKEN"'],
      ['package_name', '# package_name = "julia-artifacts"'],
    ],
  },
  gitlab: {
    needs: 'url (the GitLab instance, e.g. "https://gitlab.internal"), project, token_env; optional api_url, package_name (default "julia-artifacts")',
    keys: [
      ['project', '# project = "infra/julia-artifacts"  # numeric id or full path; its package registry must be public'],
      ['token_env', '# token_env = "GITLAB_TOKEN"'],
      ['package_name', '# package_name = "julia-artifacts"'],
    ],
  },
};

export interface InitOptions {
  registry?: string;
  packages?: string[];
  gitKind?: GitHostKind;
  gitUrl?: string;
  artifactsKind?: ArtifactStoreKind;
  artifactsUrl?: string;
}

const tomlString = (s: string) => JSON.stringify(s);

function isUrlLike(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/\\]+@[^/\\]+:/.test(s);
}

/** Line range [start, end) of a `[section]`'s body. */
function sectionBody(lines: string[], section: string): [number, number] {
  const start = lines.findIndex((l) => l.trim() === `[${section}]`);
  if (start < 0) throw new AirgapError('install', `templates/airgap.toml has no [${section}] section; reinstall julia-airgap`);
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end]!)) end++;
  return [start + 1, end];
}

const keyLine = (key: string) => new RegExp(`^#?\\s*${key}\\s*=`);

/** Sets `key = value` in a section: replaces its (possibly commented) line, or adds one after the header. Returns the line index. */
function setKey(lines: string[], section: string, key: string, value: string): number {
  const [start, end] = sectionBody(lines, section);
  const i = lines.slice(start, end).findIndex((l) => keyLine(key).test(l));
  const line = `${key} = ${value}`;
  if (i >= 0) {
    lines[start + i] = line;
    return start + i;
  }
  lines.splice(start, 0, line);
  return start;
}

/**
 * The template shows each kind as a commented block (`# kind = "gitea"` and its keys, up to a
 * bare `#` line). Uncommenting that block's kind line keeps the kind's keys right under it.
 * Returns the kind line and the end of its block; without such a block, the kind key is set.
 */
function setKind(lines: string[], section: string, kind: string): [number, number] {
  const [start, end] = sectionBody(lines, section);
  const own = lines.slice(start, end).findIndex((l) => new RegExp(`^#\\s*kind\\s*=\\s*"${kind}"`).test(l));
  const at = own >= 0 ? start + own : setKey(lines, section, 'kind', tomlString(kind));
  lines[at] = `kind = ${tomlString(kind)}`;
  let blockEnd = at + 1;
  while (blockEnd < end && lines[blockEnd]!.trim() !== '#' && lines[blockEnd]!.trim() !== '' && !/^\s*\[/.test(lines[blockEnd]!)) blockEnd++;
  return [at, blockEnd];
}

/** Sets `key = value` inside the kind's block if the block shows the key, else right after the kind line. */
function setInBlock(lines: string[], [at, blockEnd]: [number, number], key: string, value: string): void {
  for (let i = at + 1; i < blockEnd; i++) {
    if (keyLine(key).test(lines[i]!)) {
      lines[i] = `${key} = ${value}`;
      return;
    }
  }
  lines.splice(at + 1, 0, `${key} = ${value}`);
}

function explainKind(lines: string[], section: string, kind: string, help: KindHelp, at: number): void {
  const [start, end] = sectionBody(lines, section);
  const body = lines.slice(start, end);
  const extra = help.keys.filter(([key]) => !body.some((l) => keyLine(key).test(l))).map(([, line]) => line);
  lines.splice(at + 1, 0, `# kind = "${kind}" needs ${help.needs}.`, ...extra);
}

export function renderInitConfig(template: string, opts: InitOptions): string {
  const lines = template.split('\n');
  if (opts.registry !== undefined) {
    const reg = isUrlLike(opts.registry) ? opts.registry : path.resolve(opts.registry);
    setKey(lines, 'upstream', 'registry', tomlString(reg));
  }
  if (opts.packages !== undefined) {
    for (const p of opts.packages) {
      if (!isJuliaIdentifier(p) && !isUuid(p)) throw new AirgapError('usage', `--packages: "${p}" is neither a Julia package name nor a UUID`);
    }
    setKey(lines, 'select', 'packages', `[${opts.packages.map(tomlString).join(', ')}]`);
  }
  for (const [section, kind, url, help, flag] of [
    ['git', opts.gitKind, opts.gitUrl, opts.gitKind && GIT_HELP[opts.gitKind], '--git'],
    ['artifacts', opts.artifactsKind, opts.artifactsUrl, opts.artifactsKind && ARTIFACT_HELP[opts.artifactsKind], '--artifacts'],
  ] as const) {
    if (kind === undefined || !help) {
      if (url !== undefined) setKey(lines, section, 'url', tomlString(url));
      continue;
    }
    if (kind !== 'dir' && url === undefined) {
      throw new AirgapError('usage', `${flag} ${kind} needs ${flag}-url too: ${help.needs}`);
    }
    const block = setKind(lines, section, kind);
    if (url !== undefined) setInBlock(lines, block, 'url', tomlString(url));
    explainKind(lines, section, kind, help, block[0]);
  }
  return lines.join('\n');
}

/** Renders the template with the options and checks that the result loads as `file` would. */
export function initConfigText(file: string, opts: InitOptions): string {
  const template = readFileSync(path.join(templatesDir(), 'airgap.toml'), 'utf8');
  const text = renderInitConfig(template, opts);
  resolveConfig(parseToml(text) as Record<string, unknown>, path.resolve(file));
  return text;
}

/** Writes a new config; never replaces an existing file. */
export async function writeInitConfig(file: string, opts: InitOptions): Promise<string> {
  const abs = path.resolve(file);
  const exists = await access(abs).then(() => true, () => false);
  if (exists) throw new ConfigError(abs, undefined, 'already exists; refusing to overwrite it (remove it, or pass --output to write elsewhere)');
  const text = initConfigText(abs, opts);
  await writeFileAtomic(abs, text);
  return abs;
}

interface Args {
  output: string;
  registry?: string;
  packages?: string[];
  git?: GitHostKind;
  gitUrl?: string;
  artifacts?: ArtifactStoreKind;
  artifactsUrl?: string;
}

export const initCommand: CommandModule<object, Args> = {
  command: 'init',
  describe: 'write a commented airgap.toml to start from',
  builder: (y) =>
    y
      .option('output', { alias: 'o', type: 'string', default: 'airgap.toml', describe: 'file to write (never overwritten)' })
      .option('registry', { type: 'string', describe: 'upstream registry: git URL or local path (default: General on GitHub)' })
      .option('packages', { type: 'string', array: true, describe: 'packages to mirror, comma-separated or repeated (their closure is added)' })
      .option('git', { type: 'string', choices: GIT_KINDS, describe: 'where repos and the fork go (default dir)' })
      .option('git-url', { type: 'string', describe: 'how developers clone: git.url (required with --git other than dir)' })
      .option('artifacts', { type: 'string', choices: ARTIFACT_KINDS, describe: 'where artifacts go (default dir)' })
      .option('artifacts-url', { type: 'string', describe: 'base of patched artifact URLs: artifacts.url (required with --artifacts other than dir)' })
      .example('$0 init --packages Plots,DataFrames', 'airgap.toml for two packages and their closure, dir targets')
      .example('$0 init --git gitea --git-url https://gitea.internal -o site.toml', 'publish repos to Gitea') as never,
  handler: async (argv) => {
    const packages = argv.packages?.flatMap((p) => String(p).split(',')).map((p) => p.trim()).filter((p) => p !== '');
    try {
      const file = await writeInitConfig(argv.output, {
        registry: argv.registry, packages, gitKind: argv.git, gitUrl: argv.gitUrl, artifactsKind: argv.artifacts, artifactsUrl: argv.artifactsUrl,
      });
      const shown = path.relative(process.cwd(), file) || file;
      process.stdout.write(`wrote ${shown}\nnext: edit it, then \`julia-airgap plan --config ${shown}\` to see what a sync would mirror, and \`julia-airgap sync --config ${shown}\`\n`);
    } catch (err) {
      fail(err);
    }
  },
};
