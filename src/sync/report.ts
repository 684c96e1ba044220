// Progress and log output. The library emits events; this module renders them: a single
// redrawn status line on a TTY, plain timestamped log lines otherwise. Human output goes to
// stderr so stdout stays free for --json.

export type Level = 'info' | 'warn' | 'error' | 'debug';

export interface Reporter {
  log(level: Level, msg: string): void;
  /** Stage progress; `done`/`total` counts items (repos, artifacts, ...). */
  progress(stage: string, done: number, total: number): void;
  stageDone(stage: string, summary: string): void;
  close(): void;
}

export interface ReporterOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  quiet?: boolean;
  verbose?: boolean;
  /** Secrets that must never reach the output, whatever message contains them. */
  secrets?: readonly string[];
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

export function makeReporter(opts: ReporterOptions = {}): Reporter {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const secrets = opts.secrets ?? [];
  let line = '';
  let lastPlain = new Map<string, number>();
  const clear = () => {
    if (tty && line) {
      stream.write('\r\x1b[K');
      line = '';
    }
  };
  const write = (s: string) => {
    clear();
    stream.write(scrub(s, secrets) + '\n');
  };
  return {
    log(level, msg) {
      if (level === 'debug' && !opts.verbose) return;
      if (opts.quiet && level === 'info') return;
      const prefix = level === 'info' ? '' : `${level}: `;
      write(tty ? `${prefix}${msg}` : `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`);
    },
    progress(stage, done, total) {
      if (opts.quiet) return;
      if (tty) {
        const width = Math.max(20, (stream.columns ?? 80) - 1);
        line = `${stage}: ${done}/${total}`.slice(0, width);
        stream.write(`\r\x1b[K${line}`);
        return;
      }
      // Plain output: at most one line per stage every 10 s, plus the final count.
      const now = Date.now();
      const last = lastPlain.get(stage) ?? 0;
      if (done === total || now - last >= 10_000) {
        lastPlain.set(stage, now);
        write(`${new Date().toISOString()} INFO  ${stage}: ${done}/${total}`);
      }
    },
    stageDone(stage, summary) {
      if (opts.quiet) return;
      write(tty ? `✓ ${stage}: ${summary}` : `${new Date().toISOString()} INFO  ${stage}: ${summary}`);
    },
    close() {
      clear();
      lastPlain = new Map();
    },
  };
}

/** A reporter that records everything, for the library API and tests. */
export function silentReporter(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: (level, msg) => lines.push(`${level}: ${msg}`),
    progress: () => undefined,
    stageDone: (stage, summary) => lines.push(`done: ${stage}: ${summary}`),
    close: () => undefined,
  };
}

/** Runs `fn` over items with at most `limit` in flight, preserving result order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
