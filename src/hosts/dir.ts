// A directory of bare repositories, served by whatever the site uses (git http-backend, git
// daemon, a file share). The simplest host and the default.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PublishError } from '../errors.js';
import { checkRefFormat } from '../git/pins.js';
import { removeStaleLocks } from '../git/locks.js';
import { git } from '../git/run.js';
import { checkRepoName, type GitHost } from './host.js';
import { pathExists } from '../util/fs.js';

export function dirHost(opts: { path: string; url: string }): GitHost {
  const root = resolve(opts.path);
  const base = opts.url.replace(/\/+$/, '');
  const repoDir = (name: string): string => {
    checkRepoName(root, name);
    return join(root, `${name}.git`);
  };

  return {
    kind: 'dir',

    async ensureRepo(name, o) {
      const dir = repoDir(name);
      // A run killed inside `git init` leaves some of these; init again completes them in place.
      const parts = await Promise.all(['HEAD', 'config', 'objects', 'refs'].map((p) => pathExists(join(dir, p))));
      if (!parts.every(Boolean)) {
        const branch = o?.defaultBranch ?? 'main';
        checkRefFormat(`refs/heads/${branch}`);
        await mkdir(dir, { recursive: true });
        await git(['init', '--bare', '--quiet', dir], { settings: [{ key: 'init.defaultBranch', value: branch }], label: dir });
        // Publishing writes through the filesystem; nobody should push over HTTP to the mirror.
        await git(['config', 'http.receivepack', 'false'], { gitDir: dir });
        await git(['config', 'core.logAllRefUpdates', 'false'], { gitDir: dir });
        // Lets git daemon / http-backend serve the repo without GIT_HTTP_EXPORT_ALL.
        await writeFile(join(dir, 'git-daemon-export-ok'), '');
      } else {
        await removeStaleLocks(dir);
      }
      if (o?.description !== undefined) {
        await writeFile(join(dir, 'description'), `${o.description.replace(/[\r\n]+/g, ' ')}\n`);
      }
    },

    cloneUrl(name) {
      checkRepoName(base, name);
      return `${base}/${name}.git`;
    },

    pushTarget(name) {
      return { url: repoDir(name), config: [] };
    },

    async setDefaultBranch(name, branch) {
      const dir = repoDir(name);
      const ref = `refs/heads/${branch}`;
      checkRefFormat(ref);
      if (!(await pathExists(join(dir, 'HEAD')))) throw new PublishError(dir, 'repository does not exist');
      const { code } = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { gitDir: dir, allowExitCodes: [1] });
      // HEAD naming a missing branch would make clones come out empty.
      if (code !== 0) return;
      await git(['symbolic-ref', 'HEAD', ref], { gitDir: dir });
    },
  };
}
