// Platform selection. Triplets are the BinaryBuilder spelling admins know
// (`x86_64-linux-gnu-cxx11`); Artifacts.toml spells the same platform as keys in Julia's
// Base.BinaryPlatforms vocabulary (`os = "linux"`, `libc = "glibc"`). parseTriplet answers in
// the Artifacts.toml vocabulary so values compare directly, and the comparisons below accept
// either spelling anyway.

import { InputError } from '../errors.js';

export interface Platform {
  arch: string;
  /** linux | macos | windows | freebsd | openbsd (Artifacts.toml spelling) */
  os: string;
  /** glibc | musl (Artifacts.toml spelling; a triplet's `gnu` becomes `glibc`) */
  libc?: string;
  call_abi?: string;
  /** Every other tag: libgfortran_version, cxxstring_abi, libstdcxx_version, julia_version, cuda, ... */
  tags: Record<string, string>;
}

const TRIPLET_EXAMPLES = [
  'x86_64-linux-gnu',
  'aarch64-linux-musl',
  'armv7l-linux-gnueabihf',
  'x86_64-apple-darwin',
  'aarch64-apple-darwin',
  'x86_64-w64-mingw32',
  'i686-w64-mingw32',
  'x86_64-unknown-freebsd',
  'powerpc64le-linux-gnu',
  'riscv64-linux-gnu',
  'x86_64-linux-gnu-libgfortran5-cxx11',
  'x86_64-linux-gnu-julia_version+1.10.0',
  'x86_64-linux-gnu-cuda+12.0',
];

const ARCH_ALIASES: Record<string, string> = {
  amd64: 'x86_64',
  x64: 'x86_64',
  arm64: 'aarch64',
  i386: 'i686',
  i486: 'i686',
  i586: 'i686',
  x86: 'i686',
  ppc64le: 'powerpc64le',
  armhf: 'armv7l',
  armv7: 'armv7l',
};
const KNOWN_ARCHES = new Set(['x86_64', 'i686', 'aarch64', 'armv7l', 'armv6l', 'powerpc64le', 'riscv64']);

const OS_ALIASES: Record<string, string> = {
  darwin: 'macos',
  apple: 'macos',
  'apple darwin': 'macos',
  'apple-darwin': 'macos',
  osx: 'macos',
  mingw32: 'windows',
  'w64-mingw32': 'windows',
  win: 'windows',
  win32: 'windows',
  win64: 'windows',
};

const LIBC_ALIASES: Record<string, string> = { gnu: 'glibc' };

export function normaliseArch(arch: string): string {
  const a = arch.toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

export function normaliseOs(os: string): string {
  const o = os.toLowerCase();
  return OS_ALIASES[o] ?? o;
}

function normaliseLibc(libc: string): string {
  const l = libc.toLowerCase();
  return LIBC_ALIASES[l] ?? l;
}

export function parseTriplet(triplet: string): Platform {
  const bad = (why: string): InputError =>
    new InputError('platforms', `"${triplet}" is not a platform triplet (${why}); examples: ${TRIPLET_EXAMPLES.join(', ')}`);
  const parts = triplet.trim().split('-');
  if (parts.length < 2 || parts.some((p) => p === '')) throw bad('expected arch-os[-libc][-tags]');
  const arch = normaliseArch(parts[0]!);
  if (!KNOWN_ARCHES.has(arch)) throw bad(`unknown architecture "${parts[0]}"`);

  let rest = parts.slice(1).map((p) => p.toLowerCase());
  const p: Platform = { arch, os: '', tags: {} };
  // Vendor segments carry no information for matching.
  if (rest[0] === 'unknown' || rest[0] === 'pc') rest = rest.slice(1);
  const head = rest[0] ?? '';
  let m: RegExpMatchArray | null;
  if (head === 'linux') {
    const libc = rest[1];
    m = libc === undefined ? null : /^(gnu|musl)(eabihf|eabi)?$/.exec(libc);
    if (!m) throw bad('linux needs a libc: gnu, musl, gnueabihf or musleabihf');
    p.os = 'linux';
    p.libc = normaliseLibc(m[1]!);
    if (m[2]) p.call_abi = m[2];
    rest = rest.slice(2);
  } else if (head === 'apple' && rest[1] !== undefined && /^darwin[0-9.]*$/.test(rest[1])) {
    p.os = 'macos';
    rest = rest.slice(2);
  } else if (/^darwin[0-9.]*$/.test(head)) {
    p.os = 'macos';
    rest = rest.slice(1);
  } else if (head === 'w64' && rest[1] === 'mingw32') {
    p.os = 'windows';
    rest = rest.slice(2);
  } else if (head === 'mingw32') {
    p.os = 'windows';
    rest = rest.slice(1);
  } else if ((m = /^(freebsd|openbsd)[0-9.]*$/.exec(head))) {
    p.os = m[1]!;
    rest = rest.slice(1);
  } else {
    throw bad(`unknown operating system "${head}"`);
  }

  for (const seg of rest) {
    if ((m = /^libgfortran(\d+)$/.exec(seg))) p.tags.libgfortran_version = `${m[1]}.0.0`;
    else if (seg === 'cxx03' || seg === 'cxx11') p.tags.cxxstring_abi = seg;
    else if ((m = /^libstdcxx(\d+)$/.exec(seg))) p.tags.libstdcxx_version = `3.4.${m[1]}`;
    else if ((m = /^([a-z0-9_]+)\+(.+)$/.exec(seg))) p.tags[m[1]!] = m[2]!;
    else throw bad(`unknown suffix "${seg}"`);
  }
  return p;
}

/** Tags whose Artifacts.toml value is a full version but whose triplet spelling is only the major. */
function tagEqual(key: string, a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (key === 'libgfortran_version') return x.split('.')[0] === y.split('.')[0];
  return x === y;
}

function matchesOne(rec: Record<string, string>, sel: Platform): boolean {
  if (rec.arch === undefined || rec.os === undefined) return false;
  if (normaliseArch(rec.arch) !== normaliseArch(sel.arch)) return false;
  if (normaliseOs(rec.os) !== normaliseOs(sel.os)) return false;
  if (rec.libc !== undefined && sel.libc !== undefined && normaliseLibc(rec.libc) !== normaliseLibc(sel.libc)) return false;
  if (rec.call_abi !== undefined && sel.call_abi !== undefined && !tagEqual('call_abi', rec.call_abi, sel.call_abi)) return false;
  for (const [k, v] of Object.entries(sel.tags)) {
    const r = rec[k];
    if (r !== undefined && !tagEqual(k, r, v)) return false;
  }
  return true;
}

/**
 * Whether an Artifacts.toml entry (its platform keys) is wanted for the selected platforms.
 * A key known on only one side never excludes: selecting `x86_64-linux-gnu` mirrors every
 * cuda/libgfortran/cxxstring variant of it, because which one Pkg picks is decided on the client.
 */
export function entryMatches(platform: Record<string, string> | undefined, selected: Platform[] | undefined): boolean {
  if (platform === undefined || selected === undefined) return true;
  return selected.some((s) => matchesOne(platform, s));
}

/** A triplet-like label for reports, `any` for platform-independent entries. */
export function platformLabel(platform: Record<string, string> | undefined): string {
  if (platform === undefined) return 'any';
  const arch = platform.arch ? normaliseArch(platform.arch) : 'unknown';
  const os = platform.os ? normaliseOs(platform.os) : 'unknown';
  const callAbi = platform.call_abi?.toLowerCase() ?? '';
  let label: string;
  switch (os) {
    case 'linux': {
      const libc = platform.libc ? normaliseLibc(platform.libc) : 'glibc';
      label = `${arch}-linux-${libc === 'glibc' ? 'gnu' : libc}${callAbi}`;
      break;
    }
    case 'macos':
      label = `${arch}-apple-darwin`;
      break;
    case 'windows':
      label = `${arch}-w64-mingw32`;
      break;
    case 'freebsd':
    case 'openbsd':
      label = `${arch}-unknown-${os}`;
      break;
    default:
      label = `${arch}-${os}`;
  }
  const skip = new Set(['arch', 'os', 'libc', 'call_abi', 'libgfortran_version', 'cxxstring_abi', 'libstdcxx_version']);
  if (platform.libgfortran_version) label += `-libgfortran${platform.libgfortran_version.split('.')[0]}`;
  if (platform.cxxstring_abi) label += `-${platform.cxxstring_abi.toLowerCase()}`;
  if (platform.libstdcxx_version) label += `-libstdcxx${platform.libstdcxx_version.split('.').pop()}`;
  for (const k of Object.keys(platform).filter((k) => !skip.has(k)).sort()) {
    label += `-${k}+${platform[k]!.toLowerCase()}`;
  }
  return label;
}

/** A selected Platform rendered back as a triplet (for messages and config echoes). */
export function formatTriplet(p: Platform): string {
  const rec: Record<string, string> = { arch: p.arch, os: p.os, ...p.tags };
  if (p.libc !== undefined) rec.libc = p.libc;
  if (p.call_abi !== undefined) rec.call_abi = p.call_abi;
  return platformLabel(rec);
}
