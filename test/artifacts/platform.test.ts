import { describe, expect, it } from 'vitest';
import { entryMatches, formatTriplet, parseTriplet, platformLabel, type Platform } from '../../src/artifacts/platform.js';
import { InputError } from '../../src/errors.js';

describe('parseTriplet', () => {
  const table: [string, Platform][] = [
    ['x86_64-linux-gnu', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: {} }],
    ['aarch64-linux-musl', { arch: 'aarch64', os: 'linux', libc: 'musl', tags: {} }],
    ['armv7l-linux-gnueabihf', { arch: 'armv7l', os: 'linux', libc: 'glibc', call_abi: 'eabihf', tags: {} }],
    ['armv6l-linux-musleabihf', { arch: 'armv6l', os: 'linux', libc: 'musl', call_abi: 'eabihf', tags: {} }],
    ['x86_64-apple-darwin', { arch: 'x86_64', os: 'macos', tags: {} }],
    ['x86_64-apple-darwin14', { arch: 'x86_64', os: 'macos', tags: {} }],
    ['aarch64-apple-darwin', { arch: 'aarch64', os: 'macos', tags: {} }],
    ['x86_64-w64-mingw32', { arch: 'x86_64', os: 'windows', tags: {} }],
    ['i686-w64-mingw32', { arch: 'i686', os: 'windows', tags: {} }],
    ['x86_64-unknown-freebsd', { arch: 'x86_64', os: 'freebsd', tags: {} }],
    ['x86_64-unknown-freebsd11.1', { arch: 'x86_64', os: 'freebsd', tags: {} }],
    ['powerpc64le-linux-gnu', { arch: 'powerpc64le', os: 'linux', libc: 'glibc', tags: {} }],
    ['riscv64-linux-gnu', { arch: 'riscv64', os: 'linux', libc: 'glibc', tags: {} }],
    ['amd64-linux-gnu', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: {} }],
    ['arm64-apple-darwin', { arch: 'aarch64', os: 'macos', tags: {} }],
    [
      'x86_64-linux-gnu-libgfortran5-cxx11',
      { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: { libgfortran_version: '5.0.0', cxxstring_abi: 'cxx11' } },
    ],
    ['x86_64-linux-gnu-julia_version+1.10.0', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: { julia_version: '1.10.0' } }],
    ['x86_64-linux-gnu-sanitize+memory', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: { sanitize: 'memory' } }],
    ['x86_64-linux-gnu-cuda+12.0', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: { cuda: '12.0' } }],
    ['x86_64-linux-gnu-libstdcxx30', { arch: 'x86_64', os: 'linux', libc: 'glibc', tags: { libstdcxx_version: '3.4.30' } }],
  ];
  it.each(table)('%s', (t, p) => {
    expect(parseTriplet(t)).toEqual(p);
  });

  it.each(['', 'linux', 'x86_64', 'sparc-linux-gnu', 'x86_64-linux', 'x86_64-beos', 'x86_64-linux-gnu-bogus', 'x86_64--linux-gnu'])(
    '%j is refused with examples',
    (t) => {
      expect(() => parseTriplet(t)).toThrow(InputError);
      expect(() => parseTriplet(t)).toThrow(/x86_64-linux-gnu.*aarch64-apple-darwin/);
    },
  );

  it('round-trips through formatTriplet', () => {
    for (const t of ['x86_64-linux-gnu', 'armv7l-linux-gnueabihf', 'aarch64-apple-darwin', 'i686-w64-mingw32', 'x86_64-linux-gnu-libgfortran5-cxx11-cuda+12.0']) {
      expect(formatTriplet(parseTriplet(t))).toBe(t);
    }
  });
});

describe('entryMatches', () => {
  const sel = (...t: string[]): Platform[] => t.map(parseTriplet);
  const linuxGnu = { arch: 'x86_64', os: 'linux', libc: 'glibc' };
  const table: [string, Record<string, string> | undefined, Platform[] | undefined, boolean][] = [
    ['platform-independent entry', undefined, sel('aarch64-apple-darwin'), true],
    ['no selection means all', { arch: 'riscv64', os: 'linux', libc: 'musl' }, undefined, true],
    ['exact', linuxGnu, sel('x86_64-linux-gnu'), true],
    ['other arch', linuxGnu, sel('aarch64-linux-gnu'), false],
    ['other libc', linuxGnu, sel('x86_64-linux-musl'), false],
    ['libc only on entry side', { arch: 'x86_64', os: 'linux', libc: 'glibc' }, [{ arch: 'x86_64', os: 'linux', tags: {} }], true],
    ['macos vs darwin', { arch: 'aarch64', os: 'macos' }, sel('aarch64-apple-darwin'), true],
    ['entry spelled darwin', { arch: 'aarch64', os: 'darwin' }, sel('aarch64-apple-darwin'), true],
    ['arm64 alias', { arch: 'aarch64', os: 'macos' }, [{ arch: 'arm64', os: 'macos', tags: {} }], true],
    ['amd64 alias in entry', { arch: 'amd64', os: 'windows' }, sel('x86_64-w64-mingw32'), true],
    ['windows vs linux', { arch: 'x86_64', os: 'windows' }, sel('x86_64-linux-gnu'), false],
    ['call_abi equal', { arch: 'armv7l', os: 'linux', libc: 'glibc', call_abi: 'eabihf' }, sel('armv7l-linux-gnueabihf'), true],
    ['cuda variant, selection without cuda', { ...linuxGnu, cuda: '12.0' }, sel('x86_64-linux-gnu'), true],
    ['cuda equal', { ...linuxGnu, cuda: '12.0' }, sel('x86_64-linux-gnu-cuda+12.0'), true],
    ['cuda differs', { ...linuxGnu, cuda: '11.8' }, sel('x86_64-linux-gnu-cuda+12.0'), false],
    ['cuda case-insensitive', { ...linuxGnu, cuda_platform: 'Jetson' }, sel('x86_64-linux-gnu-cuda_platform+jetson'), true],
    ['libgfortran by major', { ...linuxGnu, libgfortran_version: '5.0.0' }, sel('x86_64-linux-gnu-libgfortran5'), true],
    ['libgfortran differs', { ...linuxGnu, libgfortran_version: '4.0.0' }, sel('x86_64-linux-gnu-libgfortran5'), false],
    ['cxx abi differs', { ...linuxGnu, cxxstring_abi: 'cxx03' }, sel('x86_64-linux-gnu-cxx11'), false],
    ['tag only in selection', linuxGnu, sel('x86_64-linux-gnu-julia_version+1.10.0'), true],
    ['any of several', { arch: 'aarch64', os: 'linux', libc: 'musl' }, sel('x86_64-linux-gnu', 'aarch64-linux-musl'), true],
    ['empty selection', linuxGnu, [], false],
  ];
  it.each(table)('%s', (_l, entry, selected, expected) => {
    expect(entryMatches(entry, selected)).toBe(expected);
  });
});

describe('platformLabel', () => {
  it.each([
    [undefined, 'any'],
    [{ arch: 'x86_64', os: 'linux', libc: 'glibc' }, 'x86_64-linux-gnu'],
    [{ arch: 'x86_64', os: 'linux', libc: 'glibc', cuda: '13.2' }, 'x86_64-linux-gnu-cuda+13.2'],
    [{ arch: 'armv7l', os: 'linux', libc: 'musl', call_abi: 'eabihf' }, 'armv7l-linux-musleabihf'],
    [{ arch: 'aarch64', os: 'macos' }, 'aarch64-apple-darwin'],
    [{ arch: 'i686', os: 'windows' }, 'i686-w64-mingw32'],
    [{ arch: 'x86_64', os: 'freebsd' }, 'x86_64-unknown-freebsd'],
    [{ arch: 'x86_64', os: 'linux', libc: 'glibc', libgfortran_version: '5.0.0', cxxstring_abi: 'cxx11' }, 'x86_64-linux-gnu-libgfortran5-cxx11'],
  ])('%j -> %s', (p, label) => {
    expect(platformLabel(p)).toBe(label);
  });
});
