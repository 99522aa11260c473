/**
 * Test support for replay: a profile of this machine's kernel — its vmlinux BTF (no module BTF),
 * version 6.18, /proc/kallsyms, and the trampoline attach types it refuses (probed; none when
 * bpf() is not permitted here).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { profileView, type ProfileView, type ProfileViewInput } from '../../../src/kernel/bpf/index.js';
import { kallsymsTable } from '../../kernel-runner/host.js';
import { refusedAttachTypes } from '../../kernel-runner/attach-probe.js';

let cached: ProfileView | undefined;

/** This kernel as a profile. */
export function hostProfile(over: Partial<ProfileViewInput> = {}): ProfileView {
  if (!cached) {
    const path = '/sys/kernel/btf/vmlinux';
    const btf = existsSync(path) ? parseBtf(new Uint8Array(readFileSync(path))) : null;
    const ks = kallsymsTable();
    cached = profileView({
      name: 'host', version: 0x061200, btf,
      kallsyms: ks.size ? Object.fromEntries(ks) : null,
      refusedAttach: refusedAttachTypes(btf),
    });
  }
  return Object.keys(over).length ? profileView({ ...cached, ...over, name: over.name ?? cached.name }) : cached;
}
