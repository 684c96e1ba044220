// Builds the configured artifact store adapter.

import type { ArtifactsConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { dirStore } from './dir.js';
import { giteaStore } from './gitea.js';
import { gitlabStore } from './gitlab.js';
import { httpStore, type RemoteStoreOptions } from './http.js';
import type { ArtifactStore } from './store.js';

/** Environment (for token_env and netrc), dispatcher, retries and timeout of the remote stores. */
export type StoreOptions = RemoteStoreOptions;

export function makeStore(cfg: ArtifactsConfig, configFile: string, opts: StoreOptions = {}): ArtifactStore {
  switch (cfg.kind) {
    case 'dir':
      return dirStore({ path: cfg.path!, url: cfg.url });
    case 'http':
      return httpStore(cfg, configFile, opts);
    case 'gitea':
      return giteaStore(cfg, configFile, opts);
    case 'gitlab':
      return gitlabStore(cfg, configFile, opts);
    default:
      throw new ConfigError(configFile, 'artifacts.kind', `"${String(cfg.kind)}" is not supported; use "dir", "http", "gitea" or "gitlab"`);
  }
}
