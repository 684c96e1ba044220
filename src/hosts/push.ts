// Pushing to any host: explicit refspecs in chunks, with per-ref results from --porcelain so
// one rejected ref is reported instead of hiding the rest. Not atomic by design: a partial
// publish is resumed by the next run, and pins never move.

import { redactUrl } from '../errors.js';
import { git, makeGitError, type GitConfigPair } from '../git/run.js';
import { validateRemoteUrl } from '../git/url.js';

export interface PushResult {
  pushed: number;
  upToDate: number;
  rejected: Array<{ ref: string; reason: string }>;
}

export interface PushTarget {
  url: string;
  config: GitConfigPair[];
  /** refs per push invocation this host copes with (e.g. Gitea's post-receive is slow on many tags) */
  chunkSize?: number;
}

export interface PushOptions {
  chunkSize?: number;
  label?: string;
  timeoutMs?: number;
}

// Keeps each invocation's argv and server-side ref update well within limits.
const DEFAULT_CHUNK = 300;

function dstOf(refspec: string): string {
  const s = refspec.replace(/^\+/, '');
  const colon = s.indexOf(':');
  return colon >= 0 ? s.slice(colon + 1) : s;
}

function srcOf(refspec: string): string {
  const s = refspec.replace(/^\+/, '');
  const colon = s.indexOf(':');
  return colon >= 0 ? s.slice(0, colon) : s;
}

/** Per-ref lines of `git push --porcelain`: `<flag>\t<from>:<to>\t<summary>`. */
export function parsePorcelain(stdout: string): Array<{ flag: string; ref: string; summary: string }> {
  const out: Array<{ flag: string; ref: string; summary: string }> = [];
  for (const line of stdout.split('\n')) {
    const m = /^([ +\-*!=])\t([^\t]*)\t(.*)$/.exec(line);
    if (!m) continue;
    const fromTo = m[2]!;
    const colon = fromTo.indexOf(':');
    out.push({ flag: m[1]!, ref: colon >= 0 ? fromTo.slice(colon + 1) : fromTo, summary: m[3]! });
  }
  return out;
}

export async function pushRefs(
  localGitDir: string,
  target: PushTarget,
  refspecs: string[],
  opts: PushOptions = {},
): Promise<PushResult> {
  validateRemoteUrl(target.url, { allowFile: true });
  const result: PushResult = { pushed: 0, upToDate: 0, rejected: [] };
  const chunkSize = Math.max(1, opts.chunkSize ?? target.chunkSize ?? DEFAULT_CHUNK);
  for (const spec of refspecs) {
    if (spec.startsWith('-') || /[\s\0]/.test(spec)) {
      throw makeGitError(['push'], { label: opts.label ?? redactUrl(target.url) }, null, `invalid refspec ${JSON.stringify(spec)}`);
    }
  }
  for (let i = 0; i < refspecs.length; i += chunkSize) {
    let chunk = refspecs.slice(i, i + chunkSize);
    // A refspec whose source doesn't exist locally aborts the whole invocation before anything
    // is sent; report it per-ref and push the rest.
    while (chunk.length > 0) {
      const runOpts = {
        gitDir: localGitDir,
        config: target.config,
        timeoutMs: opts.timeoutMs,
        label: opts.label ?? redactUrl(target.url),
        allowExitCodes: [1, 128],
      };
      const { stdout, stderr, code } = await git(['push', '--porcelain', '--no-verify', '--', target.url, ...chunk], runOpts);
      const lines = parsePorcelain(stdout.toString('utf8'));
      if (lines.length === 0 && code !== 0) {
        const badSrc = new Set([...stderr.matchAll(/src refspec (.+?) does not match any/g)].map((m) => m[1]!));
        const bad = chunk.filter((s) => badSrc.has(srcOf(s)));
        if (bad.length === 0) throw makeGitError(['push', '--porcelain'], runOpts, code, stderr);
        for (const s of bad) result.rejected.push({ ref: dstOf(s), reason: `source ${srcOf(s)} does not exist locally` });
        chunk = chunk.filter((s) => !badSrc.has(srcOf(s)));
        continue;
      }
      for (const l of lines) {
        if (l.flag === '=') result.upToDate++;
        else if (l.flag === '!') result.rejected.push({ ref: l.ref, reason: l.summary });
        else result.pushed++;
      }
      break;
    }
  }
  return result;
}

/** ref -> oid as the target advertises them (`git ls-remote --refs`). */
export async function remoteRefs(
  target: PushTarget,
  opts: { timeoutMs?: number; label?: string } = {},
): Promise<Map<string, string>> {
  validateRemoteUrl(target.url, { allowFile: true });
  const { stdout } = await git(['ls-remote', '--refs', '--', target.url], {
    config: target.config,
    timeoutMs: opts.timeoutMs,
    label: opts.label ?? redactUrl(target.url),
  });
  const refs = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) refs.set(line.slice(tab + 1), line.slice(0, tab));
  }
  return refs;
}
