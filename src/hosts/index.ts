// Builds the configured git host adapter. A new forge is one file plus one case here.

import type { GitConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { dirHost } from './dir.js';
import { giteaHost } from './gitea.js';
import { gitlabHost } from './gitlab.js';
import type { GitHost } from './host.js';
import { pushCreateHost } from './pushcreate.js';

export interface HostContext {
  /** where token_env is looked up (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** receives warnings for the run's report (renamed repos, HEAD not settable) */
  warn?: (msg: string) => void;
  /** forge API retries of 429/5xx (default 4) */
  retries?: number;
}

function required(cfg: GitConfig, configFile: string, key: 'owner' | 'group'): string {
  const v = cfg[key];
  if (v === undefined || v.trim() === '') throw new ConfigError(configFile, `git.${key}`, `missing: required for kind = "${cfg.kind}"`);
  return v;
}

/** The token named by git.token_env; its value never appears in any message. */
function token(cfg: GitConfig, configFile: string, env: NodeJS.ProcessEnv): string {
  if (!cfg.tokenEnv) throw new ConfigError(configFile, 'git.token_env', `missing: kind = "${cfg.kind}" needs the name of an environment variable holding an API token`);
  const t = env[cfg.tokenEnv];
  if (t === undefined || t.trim() === '') throw new ConfigError(configFile, 'git.token_env', `environment variable ${cfg.tokenEnv} is not set`);
  if (/[\r\n]/.test(t)) throw new ConfigError(configFile, 'git.token_env', `environment variable ${cfg.tokenEnv} contains a line break`);
  return t.trim();
}

export function makeHost(cfg: GitConfig, configFile: string, ctx: HostContext = {}): GitHost {
  const env = ctx.env ?? process.env;
  const warn = ctx.warn ?? (() => undefined);
  // The mirrored code is public upstream, and Pkg clones anonymously unless clients are set up otherwise.
  const visibility = cfg.visibility ?? 'public';
  switch (cfg.kind) {
    case 'dir':
      return dirHost({ path: cfg.path!, url: cfg.url });
    case 'gitea':
      return giteaHost({ url: cfg.url, apiUrl: cfg.apiUrl, owner: required(cfg, configFile, 'owner'), token: token(cfg, configFile, env), visibility, warn, retries: ctx.retries });
    case 'gitlab': {
      const group = required(cfg, configFile, 'group').replace(/^\/+|\/+$/g, '');
      // GitLab namespace paths: letters, digits, _ - . per level, not starting with - or ending with .
      if (!group.split('/').every((p) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(p) && !p.endsWith('.') && !p.includes('..'))) {
        throw new ConfigError(configFile, 'git.group', `"${group}" is not a GitLab group path (e.g. "mirrors/julia")`);
      }
      return gitlabHost({ url: cfg.url, apiUrl: cfg.apiUrl, group, token: token(cfg, configFile, env), visibility, warn, retries: ctx.retries });
    }
    case 'push':
      return pushCreateHost({ url: cfg.url, pushUrl: cfg.pushUrl, configFile, warn, env });
    default:
      throw new ConfigError(configFile, 'git.kind', `"${String(cfg.kind)}" is not supported; use "dir", "gitea", "gitlab" or "push"`);
  }
}
