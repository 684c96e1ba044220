#!/usr/bin/env node
// Arguments -> library calls, nothing else. Each command lives in src/commands/<name>.ts.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fail } from './commands/common.js';
import { demoCommand } from './commands/demo.js';
import { initCommand } from './commands/init.js';
import { planCommand } from './commands/plan.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { syncCommand } from './commands/sync.js';
import { verifyCommand } from './commands/verify.js';

// git children run in their own process groups; exiting on a signal lets their cleanup kill them.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (process.listenerCount(sig) === 1) process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('julia-airgap')
    .usage('$0 <command> [options]\n\nMirror a Julia registry, its package repositories and their artifacts into an air-gapped network.')
    .command(syncCommand)
    .command(serveCommand)
    .command(statusCommand)
    .command(verifyCommand)
    .command(planCommand)
    .command(initCommand)
    .command(demoCommand)
    .demandCommand(1, 'name a command; see --help')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) fail(err);
      process.stderr.write(`julia-airgap: ${msg}\nRun \`julia-airgap --help\` (or \`julia-airgap <command> --help\`) for the commands and their options.\n`);
      process.exit(2);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch(fail);
