import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  formatVersion,
  formatVersionRange,
  parseVersion,
  parseVersionRange,
  rangeContains,
  tryParseVersion,
} from '../../src/registry/versions.js';

describe('parseVersion / formatVersion', () => {
  it.each([
    ['1.2.3', { major: 1, minor: 2, patch: 3, pre: [], build: [] }],
    ['1.2.11+0', { major: 1, minor: 2, patch: 11, pre: [], build: ['0'] }],
    ['7.0.0-rc3+1', { major: 7, minor: 0, patch: 0, pre: ['rc3'], build: ['1'] }],
    ['6.9.10-12+3', { major: 6, minor: 9, patch: 10, pre: ['12'], build: ['3'] }],
    ['2020.0.0-07-22+1', { major: 2020, minor: 0, patch: 0, pre: ['07-22'], build: ['1'] }],
    ['1.0.0-rc.1', { major: 1, minor: 0, patch: 0, pre: ['rc', '1'], build: [] }],
    ['1.1.0+2023d', { major: 1, minor: 1, patch: 0, pre: [], build: ['2023d'] }],
  ])('%s', (s, v) => {
    expect(parseVersion(s)).toEqual(v);
    expect(formatVersion(parseVersion(s))).toBe(s);
  });

  it('accepts the short forms Julia accepts and pads them', () => {
    expect(formatVersion(parseVersion('v1'))).toBe('1.0.0');
    expect(formatVersion(parseVersion('1.2'))).toBe('1.2.0');
  });

  it.each(['', '1.2.3.4', 'a.b.c', '1..2', '1.2.3-', '1.2.3+', '-1.0.0', '1.2.3-a..b', '99999999999999999999.0.0'])(
    'rejects %j',
    (s) => {
      expect(tryParseVersion(s)).toBeUndefined();
      expect(() => parseVersion(s)).toThrow(/invalid version/);
    },
  );
});

describe('compareVersions', () => {
  const sorted = [
    '0.0.0-20191205061153+0',
    '0.1.0',
    '0.9.0',
    '0.10.0',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.0+0',
    '1.0.0+1',
    '1.0.0+2',
    '1.0.0+10',
    '1.0.0+2023c',
    '1.2.11+0',
    '11.0.0-rc5+0',
    '11.0.0-rc5+1',
    '11.0.0-rc6+2',
    '11.0.0',
  ];
  it('orders like Julia VersionNumber (prerelease < release, build breaks ties)', () => {
    const shuffled = [...sorted].reverse();
    shuffled.sort((a, b) => compareVersions(parseVersion(a), parseVersion(b)));
    expect(shuffled).toEqual(sorted);
  });
  it('is antisymmetric and zero only for equal strings', () => {
    for (const a of sorted) {
      for (const b of sorted) {
        const c = compareVersions(parseVersion(a), parseVersion(b));
        expect(Math.sign(c) + Math.sign(compareVersions(parseVersion(b), parseVersion(a)))).toBe(0);
        expect(c === 0).toBe(a === b);
      }
    }
  });
  it('compares big numeric prerelease identifiers exactly', () => {
    expect(compareVersions(parseVersion('0.0.0-20191205061153'), parseVersion('0.0.0-20191205061154'))).toBeLessThan(0);
    expect(compareVersions(parseVersion('1.0.0-99999999999999999998'), parseVersion('1.0.0-99999999999999999999'))).toBeLessThan(0);
  });
});

describe('parseVersionRange / rangeContains (Pkg Versions.VersionRange)', () => {
  // [range, version, expected] — semantics of Pkg's `v in VersionRange(s)`.
  const table: Array<[string, string, boolean]> = [
    ['1', '1.0.0', true],
    ['1', '1.99.99', true],
    ['1', '2.0.0', false],
    ['1', '0.99.0', false],
    ['0-0.3', '0.0.1', true],
    ['0-0.3', '0.3.99', true],
    ['0-0.3', '0.4.0', false],
    ['0.10.5-0', '0.10.4', false],
    ['0.10.5-0', '0.10.5', true],
    ['0.10.5-0', '0.99.0', true],
    ['0.10.5-0', '1.0.0', false],
    ['*', '0.0.0', true],
    ['*', '123.4.5', true],
    ['1.2-*', '1.1.9', false],
    ['1.2-*', '1.2.0', true],
    ['1.2-*', '9.0.0', true],
    ['0.6.1-0.7', '0.6.0', false],
    ['0.6.1-0.7', '0.6.1', true],
    ['0.6.1-0.7', '0.7.5', true],
    ['0.6.1-0.7', '0.8.0', false],
    ['0.17-1', '0.16.9', false],
    ['0.17-1', '1.40.0', true],
    ['1.38.6-1', '1.38.5', false],
    ['1.38.6-1', '1.38.6', true],
    ['0.5.0', '0.5.0', true],
    ['0.5.0', '0.5.1', false],
    ['0.5', '0.5.7', true],
    ['0-1', '0.0.1', true],
    ['0-1', '1.40.1', true],
    ['0-1', '2.0.0', false],
    // Prerelease and build metadata do not affect membership in Pkg.
    ['1', '1.0.0-rc1', true],
    ['1.2.11', '1.2.11+3', true],
    ['0.1', '0.0.0-20191205061153+0', false],
    // Pkg collapses equal padded bounds to the more precise one.
    ['1.2-1.2.0', '1.2.0', true],
    ['1.2-1.2.0', '1.2.1', false],
    ['1.2.0-1.2', '1.2.5', true],
    // Empty ranges are legal and contain nothing.
    ['2-1', '1.5.0', false],
    [' 1 - 2 ', '2.3.0', true],
    ['v1.0-v1.1', '1.1.3', true],
  ];
  it.each(table)('%j contains %s: %s', (r, v, want) => {
    expect(rangeContains(parseVersionRange(r), parseVersion(v))).toBe(want);
  });

  it.each(['', '1-2-3', 'a', '1.2.3.4', '1.x', '-1', '1-', '^1', '>=1'])('rejects %j', (r) => {
    expect(() => parseVersionRange(r)).toThrow(/invalid version range/);
  });

  it('formats ranges', () => {
    expect(formatVersionRange(parseVersionRange('0-0.3'))).toBe('0-0.3');
    expect(formatVersionRange(parseVersionRange('1'))).toBe('1');
    expect(formatVersionRange(parseVersionRange('*'))).toBe('*');
    expect(formatVersionRange(parseVersionRange('1.2-*'))).toBe('1.2-*');
  });
});
