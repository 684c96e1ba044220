// Minimal glob expansion for select.manifests (Node 20 has no fs.glob): `*` and `?` within a
// path segment, `**` for any number of directories. Results are sorted for determinism.

import { readdir } from 'node:fs/promises';
import path from 'node:path';

function segmentRegex(seg: string): RegExp {
  const re = seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

export function hasGlob(p: string): boolean {
  return /[*?]/.test(p);
}

export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = path.resolve(pattern);
  if (!hasGlob(abs)) return [abs];
  const parts = abs.split(path.sep);
  const fixed: string[] = [];
  while (parts.length && !hasGlob(parts[0]!)) fixed.push(parts.shift()!);
  const root = fixed.join(path.sep) || path.sep;
  const out = new Set<string>();
  const walk = async (dir: string, rest: string[]): Promise<void> => {
    if (rest.length === 0) {
      out.add(dir);
      return;
    }
    const [seg, ...tail] = rest as [string, ...string[]];
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (seg === '**') {
      await walk(dir, tail);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await walk(path.join(dir, e.name), rest);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of entries) {
      if (!re.test(e.name)) continue;
      if (tail.length === 0 || e.isDirectory()) await walk(path.join(dir, e.name), tail);
    }
  };
  await walk(root, parts);
  return [...out].sort();
}
