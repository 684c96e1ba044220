// The schedule templates: each has the pieces an unattended nightly sync needs (a lock, a
// timeout, the exit-code meaning), and every julia-airgap command line in them uses only
// options the built CLI accepts.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const T = path.join(ROOT, 'templates', 'schedule');
const FILES = {
  service: path.join(T, 'systemd', 'julia-airgap-sync.service'),
  timer: path.join(T, 'systemd', 'julia-airgap-sync.timer'),
  cron: path.join(T, 'cron', 'julia-airgap.cron'),
  gitlab: path.join(T, 'gitlab', '.gitlab-ci.yml'),
  gitea: path.join(T, 'gitea', '.gitea', 'workflows', 'julia-airgap.yml'),
};
const read = (f: string) => readFileSync(f, 'utf8');

/** A systemd unit as section -> key -> values (keys may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const h = /^\[([A-Za-z]+)\]$/.exec(line);
    if (h) {
      out.set(h[1]!, (section = new Map()));
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`line ${i + 1}: not a key=value line inside a section: ${raw}`);
    section.set(kv[1]!, [...(section.get(kv[1]!) ?? []), kv[2]!]);
  });
  return out;
}

/** Top-level and nested YAML keys by indentation path ("a.b.c"), without a YAML library. */
function yamlKeys(text: string): Set<string> {
  const keys = new Set<string>();
  const stack: Array<{ indent: number; key: string }> = [];
  let block: number | undefined;
  for (const raw of text.split('\n')) {
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    if (block !== undefined) {
      if (indent > block) continue;
      block = undefined;
    }
    if (raw.includes('\t')) throw new Error(`tab in YAML: ${raw}`);
    const m = /^(\s*)(?:- )?([A-Za-z_][\w-]*|\$\{\{[^}]*\}\}):(?:\s|$)(.*)$/.exec(raw);
    if (!m) continue;
    const keyIndent = indent + (raw.trimStart().startsWith('- ') ? 2 : 0);
    while (stack.length && stack[stack.length - 1]!.indent >= keyIndent) stack.pop();
    stack.push({ indent: keyIndent, key: m[2]! });
    keys.add(stack.map((s) => s.key).join('.'));
    if (/^[|>]/.test(m[3]!.trim())) block = keyIndent;
  }
  return keys;
}

/** Every `julia-airgap <command> --...` invocation (prose such as descriptions has no flags): command and the --flags it uses. */
function invocations(text: string): Array<{ command: string; flags: string[]; line: string }> {
  const out: Array<{ command: string; flags: string[]; line: string }> = [];
  for (const line of text.split('\n')) {
    if (line.trim().startsWith('#')) continue;
    for (const m of line.matchAll(/(?:^|[\s/])julia-airgap (sync|status|serve)( --[^;&|\n]*)/g)) {
      out.push({ command: m[1]!, flags: [...m[2]!.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((f) => f[1]!), line: line.trim() });
    }
  }
  return out;
}

const help = new Map<string, string>();

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it in pretest)`);
  for (const cmd of ['sync', 'status']) {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, cmd, '--help'], { encoding: 'utf8', timeout: 30_000 });
    help.set(cmd, stdout);
  }
});

describe('schedule templates', () => {
  it('systemd service: oneshot, a start timeout, exit 3 documented and decided, sync with --config', () => {
    const unit = parseUnit(read(FILES.service));
    const svc = unit.get('Service')!;
    expect(svc.get('Type')).toEqual(['oneshot']);
    expect(svc.get('TimeoutStartSec')?.[0]).toMatch(/^\d+(h|min|s)?$/);
    expect(svc.get('SuccessExitStatus')).toEqual(['3']);
    expect(svc.get('ExecStart')?.[0]).toMatch(/julia-airgap sync --config \S+/);
    expect(unit.get('Unit')?.get('After')?.[0]).toContain('network-online.target');
    const text = read(FILES.service);
    for (const code of ['0 ', '3 ', '1 ']) expect(text).toContain(`#   ${code}`);
  });

  it('systemd timer: calendar, persistent, names the service', () => {
    const unit = parseUnit(read(FILES.timer));
    expect(unit.get('Timer')?.get('OnCalendar')?.length).toBe(1);
    expect(unit.get('Timer')?.get('Persistent')).toEqual(['true']);
    expect(unit.get('Timer')?.get('Unit')).toEqual(['julia-airgap-sync.service']);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['timers.target']);
  });

  it('cron: five time fields and a user, flock -n and timeout around sync', () => {
    const lines = read(FILES.cron).split('\n').filter((l) => l.trim() && !l.startsWith('#') && !/^[A-Z_]+=/.test(l));
    expect(lines.length).toBe(1);
    const fields = lines[0]!.split(/\s+/);
    for (const f of fields.slice(0, 5)) expect(f).toMatch(/^[\d*/,-]+$/);
    expect(lines[0]).toMatch(/flock -n \S+ timeout (--kill-after=\S+ )?\S+ julia-airgap sync /);
    expect(read(FILES.cron)).toMatch(/3 partial/);
  });

  it('GitLab CI: scheduled rule, resource_group lock, timeout, exit 3 allowed', () => {
    const text = read(FILES.gitlab);
    const keys = yamlKeys(text);
    for (const k of ['julia-airgap-sync.rules', 'julia-airgap-sync.resource_group', 'julia-airgap-sync.timeout', 'julia-airgap-sync.script', 'julia-airgap-sync.allow_failure.exit_codes']) {
      expect(keys, k).toContain(k);
    }
    expect(text).toContain('- if: $CI_PIPELINE_SOURCE == "schedule"');
    expect(text).toMatch(/exit_codes: \[3\]/);
  });

  it('Gitea Actions: on.schedule, a concurrency group, a timeout, exit 3 mapped to a warning', () => {
    const text = read(FILES.gitea);
    const keys = yamlKeys(text);
    for (const k of ['on.schedule', 'on.schedule.cron', 'concurrency.group', 'concurrency.cancel-in-progress', 'jobs.sync.timeout-minutes', 'jobs.sync.steps.run']) {
      expect(keys, k).toContain(k);
    }
    expect(text).toMatch(/cron: '[\d*/,-]+( [\d*/,-]+){4}'/);
    expect(text).toMatch(/if \[ "\$rc" -eq 3 \]/);
  });

  it('every julia-airgap command line uses only options the CLI has', () => {
    let checked = 0;
    for (const [name, file] of Object.entries(FILES)) {
      for (const inv of invocations(read(file))) {
        const h = help.get(inv.command);
        expect(h, `${name}: ${inv.line}`).toBeDefined();
        for (const flag of inv.flags) expect(h, `${name}: ${flag} in ${inv.line}`).toMatch(new RegExp(`(^|\\s)${flag}(\\s|,|$)`, 'm'));
        checked++;
      }
    }
    // service, cron, gitlab (sync + status), gitea (sync + status)
    expect(checked).toBe(6);
  });

  it('the flag check catches an option the CLI does not have', () => {
    const [inv] = invocations('julia-airgap sync --config a.toml --no-such-flag');
    expect(inv!.flags).toEqual(['--config', '--no-such-flag']);
    expect(help.get('sync')).not.toMatch(/(^|\s)--no-such-flag(\s|,|$)/m);
  });
});
