/** Test objects: our fixtures (test/fixtures/catalog.json) and the .o files Debian's xdp-tools ship. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const ROOT = join(new URL('.', import.meta.url).pathname, '../../..');
export const FIXTURES = join(ROOT, 'test/fixtures');
export const XDP_TOOLS_DIR = '/usr/lib/x86_64-linux-gnu/bpf';

export interface FixtureEntry {
  object: string;
  source?: string;
  compiler?: string;
  target?: string;
  features?: string[];
  bpftool_lskel?: boolean;
  [k: string]: unknown;
}

export interface TestObject {
  name: string;
  path: string;
  origin: 'fixture' | 'xdp-tools';
  entry?: FixtureEntry;
}

export function fixtureManifest(): FixtureEntry[] {
  const p = join(FIXTURES, 'catalog.json');
  if (!existsSync(p)) return [];
  const m = JSON.parse(readFileSync(p, 'utf8')) as { objects?: FixtureEntry[] } | FixtureEntry[];
  return Array.isArray(m) ? m : (m.objects ?? []);
}

export function fixtureObjects(): TestObject[] {
  const dir = join(FIXTURES, 'obj');
  if (!existsSync(dir)) return [];
  const entries = new Map(fixtureManifest().map((e) => [e.object.replace(/^.*\//, ''), e]));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.o'))
    .sort()
    .map((f) => ({ name: f, path: join(dir, f), origin: 'fixture' as const, entry: entries.get(f) }));
}

export function xdpToolsObjects(): TestObject[] {
  if (!existsSync(XDP_TOOLS_DIR)) return [];
  return readdirSync(XDP_TOOLS_DIR)
    .filter((f) => f.endsWith('.o'))
    .sort()
    .map((f) => ({ name: f, path: join(XDP_TOOLS_DIR, f), origin: 'xdp-tools' as const }));
}

export function allObjects(): TestObject[] {
  return [...fixtureObjects(), ...xdpToolsObjects()];
}

export function readObject(o: TestObject): Uint8Array {
  return new Uint8Array(readFileSync(o.path));
}

/** Whether a command exists on PATH. */
export function hasTool(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
