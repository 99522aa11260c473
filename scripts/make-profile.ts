/**
 * make-profile: builds a kernel profile of the running host and writes it to a directory
 * (profile.json, vmlinux.btf, modules/<name>.btf, kallsyms).
 *
 *   node dist/scripts/make-profile.js OUT_DIR [--name NAME] [--kallsyms] [--no-probe]
 *        [--minimize-for OBJ.o ...]
 *
 * Probing (src/service/host-probe.ts, the probe `--profile host` runs too) compiles a small C
 * program against Debian's libbpf and runs it: map and program type support, the helpers each
 * program type may call, which trampoline attach types the kernel refuses, and whether
 * BPF_PROG_LOAD verifies signatures. --minimize-for replaces vmlinux BTF by the subset the
 * given objects need (CO-RE candidates, attach targets, kfuncs, typed ksyms, struct_ops types).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { type Btf, parseBtf } from '../src/loader/btf/index.js';
import { parseElf } from '../src/loader/elf/index.js';
import { parseObject } from '../src/loader/object/index.js';
import { essentialName } from '../src/kernel/core/index.js';
import { minimizeBtf, profileFromParts, profileToFiles } from '../src/kernel/profile/index.js';
import { probedParts, runProbe } from '../src/service/host-probe.js';

/** Root type ids of `vmlinux` the objects need (CO-RE candidates, attach targets, ksyms, struct_ops). */
function rootsFor(vmlinux: Btf, objects: string[]): Set<number> {
  const roots = new Set<number>();
  const byName = (n: string) => vmlinux.findAllByName(n).forEach((id) => roots.add(id));
  const essential = new Map<string, number[]>();
  for (let id = 1; id < vmlinux.totalCount; id++) {
    const n = vmlinux.name(id);
    if (!n) continue;
    const e = essentialName(n);
    essential.set(e, [...(essential.get(e) ?? []), id]);
  }
  for (const path of objects) {
    const bytes = new Uint8Array(readFileSync(path));
    let spec;
    try {
      spec = parseObject(bytes);
    } catch (e) {
      console.error(`skipping ${path}: ${(e as Error).message}`);
      continue;
    }
    const sec = parseElf(bytes).section('.BTF');
    const local = sec ? parseBtf(sec.data) : null;
    for (const p of spec.programs) {
      if (p.attachBtfName) byName(p.attachBtfName);
      if (p.attachTarget) byName(p.attachTarget);
      for (const r of p.coreRelos) {
        if (!local) continue;
        const name = local.name(r.typeId);
        if (name) (essential.get(essentialName(name)) ?? []).forEach((id) => roots.add(id));
      }
    }
    for (const e of spec.externs) if (e.kind === 'ksym') byName(e.name);
    for (const m of spec.maps)
      if (m.structOps) {
        byName(m.structOps.typeName);
        byName(`bpf_struct_ops_${m.structOps.typeName}`);
      }
  }
  byName('bpf_map');
  return roots;
}

function main(): void {
  const argv = process.argv.slice(2);
  const out = argv[0];
  if (!out || out.startsWith('--'))
    throw new Error('usage: make-profile OUT_DIR [--name NAME] [--kallsyms] [--no-probe] [--minimize-for OBJ...]');
  const flag = (f: string) => argv.includes(f);
  const nameAt = argv.indexOf('--name');
  const minAt = argv.indexOf('--minimize-for');
  const minObjs = minAt >= 0 ? argv.slice(minAt + 1).filter((a) => !a.startsWith('--')) : [];
  let vmlinuxBytes: Uint8Array = new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'));
  const vmlinux = parseBtf(vmlinuxBytes);
  const moduleBtf: Record<string, Uint8Array> = {};
  if (minObjs.length === 0) {
    for (const f of readdirSync('/sys/kernel/btf'))
      if (f !== 'vmlinux') moduleBtf[f] = new Uint8Array(readFileSync(join('/sys/kernel/btf', f)));
  } else {
    const m = minimizeBtf(vmlinux, rootsFor(vmlinux, minObjs));
    console.error(
      `minimised vmlinux BTF: ${vmlinuxBytes.length} -> ${m.bytes.length} bytes (${m.full} types kept whole, ${m.shells} shells)`,
    );
    vmlinuxBytes = m.bytes;
  }
  let probe = null;
  if (!flag('--no-probe')) {
    const r = runProbe(vmlinux);
    if (!r.ok) throw new Error(r.reason);
    probe = r.output;
  }
  const parts = probe ? probedParts(probe) : null;
  const profile = profileFromParts({
    name: nameAt >= 0 ? argv[nameAt + 1] : undefined,
    release: release(),
    vmlinuxBtf: vmlinuxBytes,
    moduleBtf,
    ...(parts ?? { signatureVerification: false }),
    kallsyms: flag('--kallsyms') && existsSync('/proc/kallsyms') ? readFileSync('/proc/kallsyms', 'utf8') : undefined,
  });
  for (const [rel, bytes] of profileToFiles(profile)) {
    const p = join(out, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes);
  }
  if (probe && parts)
    console.error(
      `signature probe: ${probe.signature}; refused attach types: ${parts.refusedAttachTypes.map((r) => `${r.attachType}=${r.errno}`).join(', ') || 'none'}`,
    );
  console.error(
    `wrote ${out}: ${profile.mapTypes.length} map types, ${profile.progTypes.length} program types, bpf_map.excl ${profile.bpfMap.excl !== null}`,
  );
}

main();
