import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { normalizeRepoUrl, repoNameFor, validateRemoteUrl } from '../../src/git/url.js';

describe('validateRemoteUrl', () => {
  const ok: Array<[string, boolean?]> = [
    ['https://github.com/JuliaPlots/Plots.jl.git'],
    ['http://git.internal/x/y.git'],
    ['ssh://git@github.com/JuliaPlots/Plots.jl.git'],
    ['ssh://github.com:22/a/b'],
    ['git://git.internal/x.git'],
    ['git@github.com:JuliaPlots/Plots.jl.git'],
    ['host.example:repo.git'],
    ['https://git.sr.ht/~user/Foo.jl'],
    ['HTTPS://GitHub.com/A/B'],
    ['file:///tmp/upstream.git', true],
    ['/tmp/upstream.git', true],
  ];
  it.each(ok)('accepts %s', (url, allowFile) => {
    expect(() => validateRemoteUrl(url, { allowFile })).not.toThrow();
  });

  const bad: Array<[string, RegExp, boolean?]> = [
    ['-uhttps://x/y', /start with "-"/],
    ['--upload-pack=touch /tmp/pwned', /whitespace|start with "-"/],
    ['ext::sh -c touch% /tmp/pwned', /whitespace|transport/],
    ['ext::sh', /transport/],
    ['fd::0', /transport/],
    ['https::github.com/x', /transport/],
    ['ftp://example.com/x.git', /scheme "ftp"/],
    ['javascript://x', /scheme/],
    ['https://user:pw@github.com/x/y', /token_env/],
    ['https://user@github.com/x/y', /token_env/],
    ['ssh://user:pw@host/x', /token_env/],
    ['user:pw@host:path', /token_env/],
    ['https://github.com/x /y', /whitespace/],
    ['https://github.com/x\n/y', /control/],
    ['https://github.com/x\t', /whitespace/],
    ['https:///path', /no host/],
    ['ssh://-oProxyCommand=x/y', /host/],
    ['-oProxyCommand=x:y', /start with "-"/],
    ['file:///tmp/x', /file:\/\//],
    ['/tmp/x', /local paths/],
    ['relative/path', /not a git URL/],
    ['', /empty/],
  ];
  it.each(bad)('refuses %j', (url, msg, allowFile) => {
    let caught: unknown;
    try {
      validateRemoteUrl(url, { allowFile });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as Error).message).toMatch(msg);
  });

  it('does not echo the password it refuses', () => {
    try {
      validateRemoteUrl('https://bob:hunter2@github.com/x/y');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      return;
    }
    throw new Error('not refused');
  });
});

describe('normalizeRepoUrl', () => {
  it.each([
    ['https://github.com/JuliaPlots/Plots.jl.git', 'https://github.com/juliaplots/plots.jl'],
    ['https://github.com/JuliaPlots/Plots.jl', 'https://github.com/juliaplots/plots.jl'],
    ['HTTPS://GitHub.COM/JuliaPlots/Plots.jl.git/', 'https://github.com/juliaplots/plots.jl'],
    ['https://github.com//JuliaPlots///Plots.jl.git', 'https://github.com/juliaplots/plots.jl'],
    ['https://GitLab.com/Mosaik/api/MosaikAPIv3.jl.git', 'https://gitlab.com/Mosaik/api/MosaikAPIv3.jl'],
    ['git@GitHub.com:Foo/Bar.jl.git', 'git@github.com:foo/bar.jl'],
    ['/tmp/x/Foo.jl.git/', '/tmp/x/Foo.jl'],
    ['file:///tmp/x/Foo.jl.git', 'file:///tmp/x/Foo.jl'],
  ])('%s -> %s', (url, want) => {
    expect(normalizeRepoUrl(url)).toBe(want);
  });
});

describe('repoNameFor', () => {
  it.each([
    ['https://github.com/JuliaPlots/Plots.jl.git', 'juliaplots--plots.jl'],
    ['https://github.com/juliaplots/plots.jl', 'juliaplots--plots.jl'],
    ['https://github.com/JuliaRegistries/General.git', 'juliaregistries--general'],
    ['https://gitlab.com/mosaik/api/MosaikAPIv3.jl.git', 'gitlab.com--mosaik--api--mosaikapiv3.jl'],
    ['https://codeberg.org/someone/Thing.jl', 'codeberg.org--someone--thing.jl'],
    ['https://github.com/a_b/c-d.jl', 'a_b--c-d.jl'],
  ])('%s -> %s', (url, want) => {
    expect(repoNameFor(url)).toBe(want);
  });

  const valid = /^[a-z0-9._][a-z0-9._-]*$/;
  it('hash-suffixes anything that needed more than lower-casing', () => {
    const srht = repoNameFor('https://git.sr.ht/~user/Foo.jl');
    expect(srht).toMatch(/^git.sr.ht--_user--foo.jl---[0-9a-f]{10}$/);
    expect(repoNameFor('https://git.sr.ht/~user/Foo.jl.git/')).toBe(srht);
    expect(repoNameFor('http://127.0.0.1:8080/a/b.git')).toMatch(/^127.0.0.1_8080--a--b---[0-9a-f]{10}$/);
    expect(repoNameFor('/tmp/up/x/Foo.jl.git')).toMatch(/^local--x--foo.jl---[0-9a-f]{10}$/);
    expect(repoNameFor('file:///tmp/up/x/Foo.jl.git')).toMatch(/^local--x--foo.jl---[0-9a-f]{10}$/);
    expect(repoNameFor('git@github.com:Foo/Bar.jl.git')).toMatch(/^foo--bar.jl---[0-9a-f]{10}$/);
  });

  it('is injective on tricky inputs', () => {
    const urls = [
      'https://github.com/a/b--c',
      'https://github.com/a--b/c',
      'https://github.com/a-/b',
      'https://github.com/a/-b',
      'https://github.com/a/b_',
      'https://github.com/a/b~',
      'https://github.com/a/b%7E',
      'https://github.com/a/.b',
      'https://github.com/a/_b',
      'https://github.com/gitlab.com/x',
      'https://gitlab.com/x',
      'https://localhost/a/b',
      'https://github.com/localhost/a',
      'https://localhost/a',
      'https://github.com/a/b/c',
      'https://github.com/a--b--c',
      'https://gitlab.com/a/b/c',
      'https://gitlab.com/a/b--c',
      'https://gitlab.com/a--b/c',
      'http://github.com/a/b',
      'https://github.com/a/b',
      'ssh://git@github.com/a/b',
      'git@github.com:a/b',
      'git://github.com/a/b',
      'https://github.com/a/b?x=1',
      'https://github.com:443/a/b',
      'https://git.sr.ht/~a/b',
      'https://git.sr.ht/_a/b',
      'https://git.sr.ht/-a/b',
      '/tmp/a/b',
      '/tmp2/a/b',
      'file:///tmp/a/b',
      `https://gitlab.com/${'g'.repeat(60)}/${'h'.repeat(60)}`,
      `https://gitlab.com/${'g'.repeat(60)}/${'h'.repeat(61)}`,
    ];
    const names = new Map<string, string>();
    for (const u of urls) {
      const n = repoNameFor(u);
      expect(n, u).toMatch(valid);
      expect(n.length, u).toBeLessThanOrEqual(100);
      expect(n, u).not.toMatch(/^-|-$/);
      const prev = names.get(n);
      expect(prev, `${u} collides with ${prev}`).toBeUndefined();
      names.set(n, u);
    }
  });

  it('never produces --- in a plain name', () => {
    for (const u of ['https://github.com/a/b', 'https://gitlab.com/x/y/z', 'https://codeberg.org/a/b.c']) {
      expect(repoNameFor(u)).not.toContain('---');
    }
  });
});
