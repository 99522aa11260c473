/**
 * Host inputs as text, read in one place: the NAME=VALUE pairs, kernel version and counts that
 * gen's and sign's options (`--kconfig`, `--ksym`, `--kernel-version`, `--cpus`, `--page-size`)
 * and the service's form fields (`kconfig`, `ksym`, `kernelVersion`, `cpus`, `pageSize`) give,
 * as HostOptions; and HostOptions written back as the service's fields.
 */
import { kernelVersionCode } from '../uapi/index.js';
import type { HostOptions } from './plan.js';

/** A host input that does not read: which field, what it held, and what it should hold. */
export class HostTextError extends Error {
  override readonly name = 'HostTextError';
  constructor(
    readonly field: string,
    readonly got: string,
    readonly want: string,
  ) {
    super(`${field} ${got}: want ${want}`);
  }
}

/** Host inputs as text. A list is given as its items or as one comma-separated string. */
export interface HostText {
  /** CONFIG_NAME=VALUE items. */
  kconfig?: string | readonly string[];
  /** NAME=ADDRESS items (decimal or 0x hex). */
  ksym?: string | readonly string[];
  /** a.b[.c] */
  kernelVersion?: string;
  cpus?: string;
  pageSize?: string;
}

const items = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? (v === '' ? [] : v.split(',')) : v);

/** `NAME=VALUE` → [NAME, VALUE]; the value runs to the end (it may hold '='). */
export function nameValue(item: string, field: string, want = 'NAME=VALUE'): [string, string] {
  const i = item.indexOf('=');
  if (i <= 0) throw new HostTextError(field, item, want);
  return [item.slice(0, i), item.slice(i + 1)];
}

/** The CONFIG_NAME=VALUE lines of a kernel .config (comments and other lines are left out). */
export function kconfigLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** LINUX_KERNEL_VERSION of "a.b[.c]" (kernelVersionCode), a and b at most 255. */
export function kernelVersionOf(text: string, field = 'kernelVersion'): number {
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.(\d+))?$/.exec(text);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new HostTextError(field, text, 'A.B[.C], A and B at most 255');
  return kernelVersionCode(Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
}

function positive(text: string, field: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text)))
    throw new HostTextError(field, text, 'a positive integer');
  return Number(text);
}

function address(text: string, field: string, item: string): bigint {
  if (!/^(?:0[xX][0-9a-fA-F]{1,16}|\d{1,20})$/.test(text) || BigInt(text) >= 1n << 64n)
    throw new HostTextError(field, item, 'NAME=ADDRESS, the address decimal or 0x hex, at most 64 bits');
  return BigInt(text);
}

/**
 * HostOptions of `t`, over `base` (kconfig values from a .config file, say: items of `t.kconfig`
 * win). `fields` names the fields in errors (the CLI's --kconfig, the service's kconfig).
 */
export function hostOptionsOf(t: HostText, base: HostOptions = {}, fields: Partial<Record<keyof HostText, string>> = {}): HostOptions {
  const name = (k: keyof HostText) => fields[k] ?? k;
  const host: HostOptions = { ...base };
  const kconfig: Record<string, string> = { ...(base.kconfig ?? {}) };
  for (const item of items(t.kconfig ?? [])) {
    const [k, v] = nameValue(item, name('kconfig'));
    kconfig[k] = v;
  }
  if (Object.keys(kconfig).length) host.kconfig = kconfig;
  if (t.kernelVersion !== undefined) host.kernelVersion = kernelVersionOf(t.kernelVersion, name('kernelVersion'));
  const ksym = items(t.ksym ?? []);
  if (ksym.length)
    host.ksymAddresses = Object.fromEntries(
      ksym.map((item) => {
        const [k, v] = nameValue(item, name('ksym'), 'NAME=ADDRESS');
        return [k, address(v, name('ksym'), item)];
      }),
    );
  if (t.cpus !== undefined) host.possibleCpus = positive(t.cpus, name('cpus'));
  if (t.pageSize !== undefined) host.pageSize = positive(t.pageSize, name('pageSize'));
  return host;
}

/** The service's fields of `host`, as hostOptionsOf reads them back (what the service does not take is left to the caller). */
export function hostTextOf(host: HostOptions): HostText & { kconfig?: string; ksym?: string } {
  const t: HostText & { kconfig?: string; ksym?: string } = {};
  if (host.kconfig)
    t.kconfig = Object.entries(host.kconfig)
      .map(([n, v]) => `${n}=${v}`)
      .join(',');
  if (host.ksymAddresses)
    t.ksym = Object.entries(host.ksymAddresses)
      .map(([n, a]) => `${n}=0x${a.toString(16)}`)
      .join(',');
  if (host.kernelVersion !== undefined) {
    const v = host.kernelVersion;
    t.kernelVersion = `${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff}`;
  }
  if (host.possibleCpus !== undefined) t.cpus = String(host.possibleCpus);
  if (host.pageSize !== undefined) t.pageSize = String(host.pageSize);
  return t;
}
