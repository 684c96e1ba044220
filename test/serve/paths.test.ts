import { describe, expect, it } from 'vitest';
import { artifactSegments, gitPathInfo, splitTarget } from '../../src/serve/paths.js';
import { parseRange } from '../../src/serve/range.js';

describe('splitTarget', () => {
  it('splits origin-form targets and refuses other forms', () => {
    expect(splitTarget('/a/b?x=1?y')).toEqual({ path: '/a/b', query: 'x=1?y' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
    expect(splitTarget('http://evil/a')).toBeUndefined();
    expect(splitTarget('*')).toBeUndefined();
  });
});

describe('gitPathInfo', () => {
  it('decodes once and refuses traversal', () => {
    expect(gitPathInfo('/Example.jl.git/info/refs')).toBe('/Example.jl.git/info/refs');
    expect(gitPathInfo('/Org/A%20B.git/HEAD')).toBe('/Org/A B.git/HEAD');
    expect(gitPathInfo('/%252e%252e/x')).toBe('/%2e%2e/x');
    for (const bad of ['/../x', '/a/%2e%2e/x', '/a/%2E%2E', '/./x', '//x', '/a%00', '/a\\b', '/%E0%A4%A', 'x']) {
      expect(gitPathInfo(bad), bad).toBeUndefined();
    }
  });
});

describe('artifactSegments', () => {
  it('returns decoded segments for ordinary names', () => {
    expect(artifactSegments('abc.tar.gz')).toEqual(['abc.tar.gz']);
    expect(artifactSegments('a/b%20c')).toEqual(['a', 'b c']);
    expect(artifactSegments('%252e')).toEqual(['%2e']);
  });
  it('refuses traversal, dot files, separators, NUL and absolute forms', () => {
    for (const bad of ['', '..', '%2e%2e', '%2E%2e/x', 'a/../b', '.tmp-1', 'a/.x', '%2Fetc', '/etc', 'a//b', 'a%5Cb', 'a\\b', 'a%00', 'C:%5Cx', '%zz']) {
      expect(artifactSegments(bad), bad).toBeUndefined();
    }
  });
});

describe('parseRange', () => {
  it('handles the three single-range forms', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=50-1000', 100)).toEqual({ kind: 'partial', start: 50, end: 99 });
  });
  it('reports unsatisfiable ranges', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=100-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });
  it('ignores what it does not support', () => {
    for (const h of [undefined, 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-2', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(h, 100), String(h)).toEqual({ kind: 'full' });
    }
  });
});
