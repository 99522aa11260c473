/**
 * `bpfsign gen OBJ [--scheme S] [--name N] -o DIR`: the loader for an object, written as
 *   DIR/insns.bin, DIR/data.bin      loader instructions and metadata blob
 *   DIR/loader.json                  plan, digests, options (every host input), ctx layout
 *   DIR/init.<index>.bin             each map's initial value (internal maps)
 *   DIR/NAME.lskel.h                 light skeleton (--flavour, --standalone)
 * Outputs are deterministic: the same object and options give the same bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { parseBtf } from '../loader/btf/index.js';
import { parseElf } from '../loader/elf/index.js';
import { emitLightSkeleton, generateLoader, lskelMapsFromObject, lskelProgsFromObject, type LoaderScheme } from '../loader/gen/index.js';
import { objectNameFromPath, parseObject } from '../loader/object/index.js';
import { planObject, type HostOptions, type Plan } from '../loader/plan/index.js';
import { toHex } from '../shared/bytes.js';
import { CliError } from './errors.js';

export const GENERATOR = { name: 'bpfsign', version: '0.1.0', libbpfCompat: 'v1.7.0' };

export interface GenOptions {
  scheme: LoaderScheme;
  name?: string;
  out: string;
  flavour: 'v1.7' | 'bpftool-7.1';
  standalone: boolean;
  mapExcl: boolean;
  host: HostOptions;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** JSON with bytes as hex and bigints as decimal strings. */
export function plainJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v), 2);
}

/** Parses `--kconfig NAME=VALUE`, `--ksym NAME=ADDR`, `--kernel-version A.B.C` and friends. */
export function hostOptionsFrom(values: { kconfig?: string[]; 'kconfig-file'?: string; 'kernel-version'?: string; ksym?: string[]; cpus?: string; 'page-size'?: string; 'usdt-uprobe-multi'?: boolean }): HostOptions {
  const host: HostOptions = {};
  const kconfig: Record<string, string> = {};
  if (values['kconfig-file']) {
    for (const line of readFileSync(values['kconfig-file'], 'utf8').split('\n')) {
      const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) kconfig[m[1]] = m[2];
    }
  }
  for (const kv of values.kconfig ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new CliError(`--kconfig ${kv}: want NAME=VALUE`);
    kconfig[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (Object.keys(kconfig).length) host.kconfig = kconfig;
  if (values['kernel-version']) {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(values['kernel-version']);
    if (!m) throw new CliError(`--kernel-version ${values['kernel-version']}: want A.B[.C]`);
    host.kernelVersion = (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
  }
  if (values.ksym?.length) {
    host.ksymAddresses = Object.fromEntries(values.ksym.map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new CliError(`--ksym ${kv}: want NAME=ADDRESS`);
      return [kv.slice(0, i), BigInt(kv.slice(i + 1))];
    }));
  }
  const int = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) <= 0) throw new CliError(`--${flag} ${v}: want a positive integer`);
    return Number(v);
  };
  if (values.cpus !== undefined) host.possibleCpus = int('cpus', values.cpus);
  if (values['page-size'] !== undefined) host.pageSize = int('page-size', values['page-size']);
  if (values['usdt-uprobe-multi'] !== undefined) host.usdtUprobeMulti = values['usdt-uprobe-multi'];
  return host;
}

export interface GenResult { plan: Plan; files: string[]; manifest: Record<string, unknown> }

export function runGen(file: string, opts: GenOptions, out: (s: string) => void): number {
  const bytes = new Uint8Array(readFileSync(file));
  const name = opts.name ?? objectNameFromPath(file);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError(`--name ${name}: must be a C identifier`);
  const spec = parseObject(bytes, { name });
  const plan = planObject(spec, { object: bytes, ...opts.host });
  const loader = generateLoader(plan, { scheme: opts.scheme, kernel: { mapExcl: opts.mapExcl } });
  const btfSec = parseElf(bytes).section('.BTF');
  const btf = btfSec ? parseBtf(btfSec.data) : null;
  const maps = lskelMapsFromObject(spec, btf, { flavour: opts.flavour, pageSize: opts.host.pageSize });
  // The .kconfig image is what the plan computed from the (explicit) kconfig inputs.
  for (const op of plan.ops) {
    if (op.op !== 'map_update') continue;
    const m = maps.find((x) => x.name === plan.maps[op.mapIndex].name);
    if (m?.mmap && plan.maps[op.mapIndex].name.endsWith('.kconfig')) m.mmap.initialValue = op.value;
  }
  const header = emitLightSkeleton({ name, insns: loader.insns, data: loader.data, maps, progs: lskelProgsFromObject(spec), hasBtf: btf !== null }, { flavour: opts.flavour, standalone: opts.standalone });

  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (f: string, data: Uint8Array | string) => { writeFileSync(join(opts.out, f), data); files.push(f); };
  write('insns.bin', loader.insns);
  write('data.bin', loader.data);
  const inits: Record<number, string> = {};
  for (const op of plan.ops) {
    if (op.op === 'map_update') { inits[op.mapIndex] = `init.${op.mapIndex}.bin`; write(inits[op.mapIndex], op.value); }
  }
  write(`${name}.lskel.h`, header);
  const manifest = {
    generator: GENERATOR,
    object: { file: basename(file), name, sha256: sha256(bytes), size: bytes.length },
    scheme: opts.scheme,
    options: { flavour: opts.flavour, standalone: opts.standalone, kernel: { mapExcl: opts.mapExcl }, host: plan.host },
    digests: { insns: { sha256: sha256(loader.insns), size: loader.insns.length }, data: { sha256: sha256(loader.data), size: loader.data.length } },
    ctx: {
      size: loader.ctxLayout.size,
      maps: loader.ctxLayout.maps.map((m, i) => ({ index: i, ...m, ...(inits[i] ? { init: inits[i] } : {}) })),
      progs: loader.ctxLayout.progs.map((p, i) => ({ index: i, ...p })),
    },
    plan: { ...plan, ops: plan.ops },
  };
  write('loader.json', plainJson(manifest) + '\n');
  out(`wrote ${files.length} files to ${opts.out}: ${files.join(' ')}\nloader: ${loader.insns.length / 8} insns, ${loader.data.length} bytes of data, scheme ${opts.scheme}; insns sha256 ${manifest.digests.insns.sha256}`);
  return 0;
}
