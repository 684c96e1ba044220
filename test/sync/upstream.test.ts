import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { upstreamGitConfig } from '../../src/sync/upstream.js';

const config = (registry: string) =>
  resolveConfig({ upstream: { registry, token_env: 'UP_TOKEN' }, select: { packages: ['A'] } }, '/tmp/airgap.toml');

describe('upstream token', () => {
  it('goes only to the registry host, as a header scoped to its origin', () => {
    const pairs = upstreamGitConfig(config('https://git.example.invalid:8443/julia/General.git'), { UP_TOKEN: 'sekrit-token' });
    expect(pairs).toEqual([{ key: 'http.https://git.example.invalid:8443/.extraHeader', value: 'Authorization: Bearer sekrit-token' }]);
  });

  it('an unset variable is an error naming it', () => {
    expect(() => upstreamGitConfig(config('https://git.example.invalid/General.git'), {})).toThrow(/UP_TOKEN is not set/);
  });

  it('a local registry has no host to send it to: refused, naming the key', () => {
    expect(() => upstreamGitConfig(config('/srv/General'), { UP_TOKEN: 'x' })).toThrow(ConfigError);
    expect(() => upstreamGitConfig(config('/srv/General'), { UP_TOKEN: 'x' })).toThrow(/upstream\.token_env/);
  });

  it('no token_env, no header', () => {
    const c = resolveConfig({ upstream: { registry: 'https://h/General.git' }, select: { all: true } }, '/tmp/airgap.toml');
    expect(upstreamGitConfig(c, {})).toEqual([]);
  });
});
