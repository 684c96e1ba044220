// Shared pieces of the command modules: common options, error exit, config loading.

import type { Argv } from 'yargs';
import { loadConfig, type Config } from '../config.js';
import { AirgapError, errorMessage } from '../errors.js';

export interface Common {
  config: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export function withCommon<T>(y: Argv<T>): Argv<T & Common> {
  return y
    .option('config', { alias: 'c', type: 'string', default: 'airgap.toml', describe: 'path to airgap.toml' })
    .option('json', { type: 'boolean', default: false, describe: 'print a machine-readable summary on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only warnings and errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'debug output' }) as Argv<T & Common>;
}

/** Prints the error (typed errors already name the file, key, package or URL) and exits 1. */
export function fail(err: unknown): never {
  const msg = err instanceof AirgapError ? err.message : `internal error: ${errorMessage(err)}`;
  process.stderr.write(`julia-airgap: ${msg}\n`);
  process.exit(1);
}

export async function configOrFail(file: string): Promise<Config> {
  try {
    return await loadConfig(file);
  } catch (err) {
    fail(err);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
