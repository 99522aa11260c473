/**
 * `bpfsign gen OBJ [--scheme S] [--name N] -o DIR`: the loader for an object, written as
 *   DIR/insns.bin, DIR/data.bin      loader instructions and metadata blob
 *   DIR/loader.json                  plan, digests, options (every host input), ctx layout
 *   DIR/init.<index>.bin             each map's initial value (internal maps)
 *   DIR/NAME.lskel.h                 light skeleton (--flavour, --standalone)
 * Outputs are deterministic: the same object and options give the same bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LoaderScheme } from '../loader/gen/index.js';
import { objectNameFromPath } from '../loader/object/index.js';
import type { HostOptions } from '../loader/plan/index.js';
import { buildLoader, plainJson } from '../service/loader.js';
import { CliError } from './errors.js';

export interface GenOptions {
  scheme: LoaderScheme;
  name?: string;
  out: string;
  flavour: 'v1.7' | 'bpftool-7.1';
  standalone: boolean;
  mapExcl: boolean;
  host: HostOptions;
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

export function runGen(file: string, opts: GenOptions, out: (s: string) => void): number {
  const bytes = new Uint8Array(readFileSync(file));
  const name = opts.name ?? objectNameFromPath(file);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError(`--name ${name}: must be a C identifier`);
  const built = buildLoader(bytes, basename(file), { ...opts, name });
  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (f: string, data: Uint8Array | string) => { writeFileSync(join(opts.out, f), data); files.push(f); };
  write('insns.bin', built.loader.insns);
  write('data.bin', built.loader.data);
  for (const [i, v] of built.inits) write(`init.${i}.bin`, v);
  write(`${name}.lskel.h`, built.header);
  write('loader.json', plainJson(built.manifest) + '\n');
  out(`wrote ${files.length} files to ${opts.out}: ${files.join(' ')}\nloader: ${built.loader.insns.length / 8} insns, ${built.loader.data.length} bytes of data, scheme ${opts.scheme}`);
  return 0;
}
