// Builds the configured artifact store adapter.

import type { ArtifactsConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { dirStore } from './dir.js';
import type { ArtifactStore } from './store.js';

export function makeStore(cfg: ArtifactsConfig, configFile: string): ArtifactStore {
  switch (cfg.kind) {
    case 'dir':
      return dirStore({ path: cfg.path!, url: cfg.url });
    default:
      throw new ConfigError(configFile, 'artifacts.kind', `"${cfg.kind}" is not supported by this build; use "dir"`);
  }
}
