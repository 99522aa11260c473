/**
 * Test support for replay: a profile of this machine's kernel — what `--profile host` reads
 * (src/service/profile.ts readHostProfile: its BTF, release, /proc/kallsyms when visible, and
 * what probing it with bpf() found: signature support, refused attach types, helpers; the
 * kernel config only, when bpf() is not permitted here). The checked-in linux-6.18-min
 * profile, read from its files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { profileFromFiles, profileView, type KernelProfile, type ProfileInput } from '../../../src/kernel/profile/index.js';
import { readHostProfile } from '../../../src/service/profile.js';
import { FIXTURES } from '../../support/objects.js';

let cached: KernelProfile | undefined;

/** This kernel as a profile; `over` replaces fields of it. */
export function hostProfile(over: Partial<ProfileInput> = {}): KernelProfile {
  if (!cached) {
    if (existsSync('/sys/kernel/btf/vmlinux')) {
      cached = readHostProfile().profile;
    } else {
      cached = profileView({ name: 'host', btf: null });
    }
  }
  return Object.keys(over).length ? profileView({ ...cached, ...over, name: over.name ?? cached.name }) : cached;
}

/** The files of a profile directory: relative path → bytes (README.md left out). */
export function readProfileDir(dir: string, prefix = ''): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of readdirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${f}` : f;
    if (f === 'README.md') continue;
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of readProfileDir(dir, rel)) out.set(k, v);
    else out.set(rel, new Uint8Array(readFileSync(join(dir, rel))));
  }
  return out;
}

let fixture: KernelProfile | undefined;

/** test/fixtures/profiles/linux-6.18-min as the model reads it; `over` replaces fields of it. */
export function fixtureProfile(over: Partial<ProfileInput> = {}): KernelProfile {
  fixture ??= profileFromFiles(readProfileDir(join(FIXTURES, 'profiles/linux-6.18-min')));
  return Object.keys(over).length ? profileView({ ...fixture, ...over, name: over.name ?? fixture.name }) : fixture;
}
