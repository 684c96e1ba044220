// One scratch directory for the whole run, removed at the end. Fixtures that are expensive to
// build (the extracted General registry) are built there once and shared by every test file.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedScratch: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'julia-airgap-shared-'));
  project.provide('sharedScratch', dir);
  return () => rm(dir, { recursive: true, force: true });
}
