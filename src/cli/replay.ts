/**
 * `bpfsign replay DIR [--json] [--profile host|DIR|VMLINUX_BTF]`: runs the loader of a `bpfsign gen`
 * output directory (insns.bin, data.bin, loader.json) in the kernel model and prints the
 * report: every syscall with its attributes and result, the loader's return value, printk
 * output, and the maps and programs it created. DIR may also be a comma-separated
 * `INSNS.bin,DATA.bin` pair (unsigned, no ctx descs unless loader.json says otherwise).
 * The profile is the running kernel (`host`, the default, when it has BTF), a profile
 * directory (scripts/make-profile.ts) or a vmlinux BTF file; each program's report carries the
 * xlated length the model predicts for it.
 * Exit 0 when the loader ran and returned >= 0, 1 otherwise.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { profileView, type KernelProfile } from '../kernel/profile/index.js';
import { formatReport, replay, type ReplayCtxLayout, type ReplayScheme } from '../kernel/replay/index.js';
import { readKernelProfile } from '../service/profile.js';
import { CliError } from './errors.js';

export interface ReplayCliOptions {
  json: boolean;
  /** 'host', a profile directory, or a raw kernel BTF file (vmlinux). */
  profile?: string;
}

interface LoaderJson {
  scheme?: ReplayScheme;
  ctx?: ReplayCtxLayout;
  plan?: { byteOrder?: 'le' | 'be' };
}

function profileFrom(spec: string | undefined): KernelProfile {
  if (spec === undefined && !existsSync('/sys/kernel/btf/vmlinux')) return profileView({ name: 'no-btf', btf: null });
  if (spec !== undefined && spec !== 'host' && !existsSync(spec)) throw new CliError(`--profile ${spec}: no such file or directory`);
  return readKernelProfile(spec ?? 'host');
}

export function runReplay(dirOrFiles: string, opts: ReplayCliOptions, out: (s: string) => void): number {
  let insnsPath: string, dataPath: string, meta: LoaderJson = {};
  if (existsSync(dirOrFiles) && statSync(dirOrFiles).isDirectory()) {
    insnsPath = join(dirOrFiles, 'insns.bin');
    dataPath = join(dirOrFiles, 'data.bin');
    const j = join(dirOrFiles, 'loader.json');
    if (existsSync(j)) meta = JSON.parse(readFileSync(j, 'utf8')) as LoaderJson;
  } else {
    const parts = dirOrFiles.split(',');
    if (parts.length !== 2) throw new CliError(`replay ${dirOrFiles}: want a gen output directory or INSNS.bin,DATA.bin`);
    [insnsPath, dataPath] = parts as [string, string];
  }
  for (const f of [insnsPath, dataPath]) if (!existsSync(f)) throw new CliError(`replay: ${f} not found`);
  const insns = new Uint8Array(readFileSync(insnsPath));
  const data = new Uint8Array(readFileSync(dataPath));
  if (insns.length % 8) throw new CliError(`replay: ${insnsPath} is ${insns.length} bytes, not a multiple of 8`);
  const report = replay({ insns, data }, profileFrom(opts.profile), {
    scheme: meta.scheme ?? 'unsigned',
    byteOrder: meta.plan?.byteOrder ?? 'le',
    ...(meta.ctx ? { ctx: { size: meta.ctx.size, maps: meta.ctx.maps, progs: meta.ctx.progs } } : {}),
  });
  out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}
