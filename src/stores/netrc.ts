// ~/.netrc (or $NETRC): the credential file curl, git and Julia's Downloads.jl already read,
// so one file can serve the uploader and the clients. Only `machine`/`default` with `login` and
// `password` are used; `macdef` bodies are skipped as curl does.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';

export interface NetrcEntry {
  login: string;
  password: string;
}

export interface Netrc {
  file: string;
  /** entries by host name; `default` applies to any host without its own */
  machines: Map<string, NetrcEntry>;
  fallback?: NetrcEntry;
}

export function netrcPath(env: NodeJS.ProcessEnv): string {
  return env.NETRC || path.join(env.HOME || homedir(), '.netrc');
}

export function parseNetrc(text: string, file: string): Netrc {
  const machines = new Map<string, NetrcEntry>();
  let fallback: NetrcEntry | undefined;
  const lines = text.split(/\r?\n/);
  const tokens: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]!.trim().split(/\s+/).filter(Boolean);
    const at = words.indexOf('macdef');
    if (at >= 0) {
      tokens.push(...words.slice(0, at));
      // A macro runs to the next empty line.
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== '') i++;
      continue;
    }
    if (words[0]?.startsWith('#')) continue;
    tokens.push(...words);
  }
  let current: { host?: string; entry: Partial<NetrcEntry> } | undefined;
  const close = () => {
    if (!current) return;
    const e = { login: current.entry.login ?? '', password: current.entry.password ?? '' };
    if (current.host === undefined) fallback ??= e;
    else if (!machines.has(current.host)) machines.set(current.host, e);
    current = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'machine') {
      close();
      const host = tokens[++i];
      if (host === undefined) throw new ConfigError(file, undefined, '"machine" without a host name');
      current = { host: host.toLowerCase(), entry: {} };
    } else if (t === 'default') {
      close();
      current = { entry: {} };
    } else if ((t === 'login' || t === 'password' || t === 'account') && current) {
      const v = tokens[++i];
      if (v === undefined) throw new ConfigError(file, undefined, `"${t}" without a value`);
      if (t !== 'account') current.entry[t] = v;
    }
  }
  close();
  return { file, machines, fallback };
}

// Read once when the store is built, so a missing or unreadable file fails the run before any work.
export function loadNetrc(env: NodeJS.ProcessEnv, configFile: string): Netrc {
  const file = netrcPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(configFile, 'artifacts.netrc', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseNetrc(text, file);
}

export function netrcFor(netrc: Netrc, url: string): NetrcEntry | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return netrc.machines.get(host) ?? netrc.fallback;
}
