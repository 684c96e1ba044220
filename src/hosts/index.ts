// Builds the configured git host adapter. A new forge is one file plus one case here.

import type { GitConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { dirHost } from './dir.js';
import type { GitHost } from './host.js';

export function makeHost(cfg: GitConfig, configFile: string): GitHost {
  switch (cfg.kind) {
    case 'dir':
      return dirHost({ path: cfg.path!, url: cfg.url });
    default:
      throw new ConfigError(configFile, 'git.kind', `"${cfg.kind}" is not supported by this build; use "dir"`);
  }
}
