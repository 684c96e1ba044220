import { describe, expect, it } from 'vitest';
import { forgeRepoName, makeNamer } from '../../src/hosts/names.js';

describe('forgeRepoName', () => {
  it('keeps names the forge accepts', () => {
    for (const n of ['juliaplots--plots.jl', 'General', 'gitlab.com--group--sub--pkg.jl', 'x---0123456789']) {
      expect(forgeRepoName('gitea', n)).toBe(n);
      expect(forgeRepoName('gitlab', n)).toBe(n);
    }
  });

  it('maps reserved suffixes, reserved names and leading characters deterministically', () => {
    const wiki = forgeRepoName('gitea', 'owner--docs.wiki');
    expect(wiki).toMatch(/^owner--docs\.wiki---[0-9a-f]{10}$/);
    expect(forgeRepoName('gitea', 'owner--docs.wiki')).toBe(wiki);
    expect(forgeRepoName('gitlab', 'owner--docs.wiki')).toBe('owner--docs.wiki'); // GitLab allows .wiki
    expect(forgeRepoName('gitlab', 'feed.atom')).toMatch(/^feed\.atom---[0-9a-f]{10}$/);
    expect(forgeRepoName('gitlab', 'tree')).toMatch(/^tree---[0-9a-f]{10}$/);
    expect(forgeRepoName('gitlab', '.hidden')).toMatch(/^_\.hidden---[0-9a-f]{10}$/);
    expect(forgeRepoName('gitea', '.hidden')).toBe('.hidden');
    expect(forgeRepoName('gitea', 'a'.repeat(120))).toHaveLength(100);
    expect(forgeRepoName('gitea', 'a'.repeat(120))).not.toBe(forgeRepoName('gitea', 'a'.repeat(121)));
    expect(forgeRepoName('push', 'x.wiki')).toBe('x.wiki');
  });

  it('reports each renamed repo once', () => {
    const warnings: string[] = [];
    const name = makeNamer('gitea', (m) => warnings.push(m));
    name('a.rss');
    name('a.rss');
    name('fine');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"a.rss"');
  });
});

describe('forge host configuration', () => {
  it('names the key at fault: owner, group, token_env', async () => {
    const { makeHost } = await import('../../src/hosts/index.js');
    const env = { TOK: 'secret-token-value' };
    expect(() => makeHost({ kind: 'gitea', url: 'http://127.0.0.1:3000', tokenEnv: 'TOK' }, 'a.toml', { env })).toThrow('[git.owner]');
    expect(() => makeHost({ kind: 'gitea', url: 'http://127.0.0.1:3000', owner: 'o' }, 'a.toml', { env })).toThrow('[git.token_env]');
    expect(() => makeHost({ kind: 'gitea', url: 'http://127.0.0.1:3000', owner: 'o', tokenEnv: 'NOPE' }, 'a.toml', { env })).toThrow('NOPE is not set');
    expect(() => makeHost({ kind: 'gitlab', url: 'http://127.0.0.1:3000', group: '-bad/x', tokenEnv: 'TOK' }, 'a.toml', { env })).toThrow('[git.group]');
    const h = makeHost({ kind: 'gitlab', url: 'http://127.0.0.1:3000', group: 'a/b', tokenEnv: 'TOK' }, 'a.toml', { env });
    expect(h.cloneUrl('General')).toBe('http://127.0.0.1:3000/a/b/General.git');
    const target = h.pushTarget('General');
    expect(target.url).not.toContain('secret-token-value');
    expect(target.config).toEqual([{ key: 'http.http://127.0.0.1:3000/.extraHeader', value: `Authorization: Basic ${Buffer.from('oauth2:secret-token-value').toString('base64')}` }]);
  });
});
