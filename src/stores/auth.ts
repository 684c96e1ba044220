// Credentials for the remote stores: read from the environment variable the config names (never
// from the config itself), and a latch that stops all traffic after the server refuses them,
// because every further request would be refused too (and GitLab bans an address after 30).

import type { ArtifactsConfig } from '../config.js';
import { ConfigError, PublishError } from '../errors.js';

export function tokenFromEnv(cfg: ArtifactsConfig, env: NodeJS.ProcessEnv, configFile: string, required: boolean): string | undefined {
  if (!cfg.tokenEnv) {
    if (required) throw new ConfigError(configFile, 'artifacts.token_env', `missing: kind = "${cfg.kind}" uploads need a token; name the environment variable that holds it`);
    return undefined;
  }
  const value = env[cfg.tokenEnv]?.trim();
  if (!value) throw new ConfigError(configFile, 'artifacts.token_env', `environment variable ${cfg.tokenEnv} is not set or empty`);
  return value;
}

export interface AuthLatch {
  /** Throws the first refusal again, without contacting the server. */
  check(): void;
  /** Records a refusal and throws it. */
  trip(err: PublishError): never;
}

export function authLatch(): AuthLatch {
  let refused: PublishError | undefined;
  return {
    check() {
      if (refused) throw refused;
    },
    trip(err) {
      refused ??= err;
      throw err;
    },
  };
}

/** Names the credential used, never its value. */
export function credentialName(tokenEnv: string | undefined, netrcFile?: string): string {
  return tokenEnv ? `the token in $${tokenEnv}` : netrcFile ? `the credentials from ${netrcFile}` : 'anonymous access';
}

export function authHint(status: number, who: string, scope: string): string {
  return status === 401
    ? `HTTP 401 Unauthorized: the server refused ${who}; check it is valid and has ${scope}. No further requests are made this run.`
    : `HTTP 403 Forbidden: ${who} lacks permission (${scope}), or a size quota or protection rule applies`;
}
