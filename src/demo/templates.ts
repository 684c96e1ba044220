// Where the shipped templates are. This module runs from src/demo under vitest and from
// dist/src/demo once built or installed; the templates directory sits at the package root
// in both cases, two or three levels up.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AirgapError } from '../errors.js';

const CANDIDATES = ['../../templates/', '../../../templates/'];

export function templatesDir(): string {
  for (const rel of CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}airgap.toml`)) return dir;
  }
  const tried = CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url))).join(', ');
  throw new AirgapError('install', `the templates directory is missing (looked in ${tried}); reinstall julia-airgap`);
}
