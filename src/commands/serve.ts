// `julia-airgap serve`: the dir targets over HTTP, with no other infrastructure.

import type { CommandModule } from 'yargs';
import { AirgapError } from '../errors.js';
import { startServer } from '../serve/server.js';
import { configOrFail, fail, withCommon, type Common } from './common.js';

interface Args extends Common {
  host: string;
  port: number;
  gitRoot?: string;
  artifactsRoot?: string;
  publicUrl?: string;
}

export const serveCommand: CommandModule<object, Args> = {
  command: 'serve',
  describe: 'serve the dir targets: git smart HTTP at /git/, artifacts at /artifacts/',
  builder: (y) =>
    withCommon(y)
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind (0.0.0.0 to serve the network)' })
      .option('port', { alias: 'p', type: 'number', default: 8080, describe: 'port to listen on' })
      .option('git-root', { type: 'string', describe: 'directory of bare repos (default: git.path from the config)' })
      .option('artifacts-root', { type: 'string', describe: 'directory of artifacts (default: artifacts.path from the config)' })
      .option('public-url', { type: 'string', describe: 'base URL clients use, shown on the index page (default: from git.url in the config)' })
      .example('$0 serve --config airgap.toml --host 0.0.0.0 --port 8080', 'serve the mirror to the network') as never,
  handler: async (argv) => {
    let gitRoot = argv.gitRoot;
    let artifactsRoot = argv.artifactsRoot;
    let registryRepo = 'General';
    let publicUrl = argv.publicUrl;
    if (!gitRoot || !artifactsRoot) {
      const config = await configOrFail(argv.config);
      if (config.git.kind !== 'dir' || config.artifacts.kind !== 'dir') {
        fail(new AirgapError('config', `serve only serves "dir" targets; ${config.file} publishes to ${config.git.kind}/${config.artifacts.kind}. Pass --git-root and --artifacts-root to serve directories anyway.`));
      }
      gitRoot ??= config.git.path;
      artifactsRoot ??= config.artifacts.path;
      registryRepo = config.registry.repo;
      publicUrl ??= config.git.url.replace(/\/git$/, '');
    }
    const server = await startServer({
      host: argv.host,
      port: argv.port,
      gitRoot,
      artifactsRoot,
      registryRepo,
      publicUrl,
      log: argv.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
    }).catch(fail);
    const base = publicUrl ?? server.url;
    process.stderr.write(
      `julia-airgap serve: listening on ${server.url}\n  git:       ${base}/git/  (from ${gitRoot})\n  artifacts: ${base}/artifacts/  (from ${artifactsRoot})\n  registry:  pkg> registry add ${base}/git/${registryRepo}.git\n`,
    );
    const stop = () => void server.close().then(() => process.exit(0), () => process.exit(1));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
};
