/**
 * `bpfsign replay DIR|OBJ|FILE.lskel.h [--profile host|DIR|BTF] [--scheme S] [--object OBJ] [--json]`:
 * runs a loader in the kernel model and prints every syscall with its attributes and result, the
 * loader's return value, printk output, an effects table (maps and programs it left, with the
 * xlated length the model predicts), and — when there is a plan to compare with — the differences.
 *
 *   DIR            a `bpfsign gen` output directory (insns.bin, data.bin, loader.json: ctx and plan)
 *   OBJ            a BPF object: the loader is generated first (--scheme, default unsigned), then replayed
 *                  (--scheme also names the scheme of an unsigned header's loader, which the header cannot say)
 *   FILE.lskel.h   a light skeleton, ours or `bpftool gen skeleton -L`'s, signed or not: the loader it
 *                  embeds, with the skeleton's map slots and initial images as its ctx
 *   INSNS,DATA     two raw files (unsigned, standard ctx)
 * --object OBJ gives the plan to compare a header's or raw loader's effects with.
 * The profile is the running kernel (`host`, the default, when it has BTF), a profile directory
 * (scripts/make-profile.ts) or a vmlinux BTF file.
 * --trust [KEYRING=]CERT.pem (repeatable; PEM or DER) trusts a certificate in the model's keyring:
 * in the keyring the load names, or in KEYRING (builtin, secondary, platform, session, user,
 * user-session, or a keyring_id / key serial; a serial above 2 becomes one the process can find).
 * Without it every keyring is empty and a signature that gets to verification is ENOKEY.
 * --keyring-id ID is the keyring_id the loader is loaded with (default 0, the skeleton's default:
 * .builtin_trusted_keys; bpftool prog load -S uses session). `--profile host` is the running
 * kernel as probed (signature support, refused attach types, helpers; cached per boot).
 * --json prints { retval, maps, progs, trace, diff, ... } (diff null when there is no plan);
 * ctxReads lists every read the loader made from its ctx ({pc, offset, size, via}).
 * Exit 0 when the loader ran and returned >= 0 and nothing differs from the plan, 1 otherwise.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { profileView, type KernelProfile } from '../kernel/profile/index.js';
import {
  formatReport,
  replay,
  type ReplayCtxLayout,
  type ReplayOptions,
  type ReplayScheme,
  type ReplayReport,
} from '../kernel/replay/index.js';
import { parseLightSkeleton, type LoaderScheme } from '../loader/gen/index.js';
import { objectNameFromPath } from '../loader/object/index.js';
import { planFromJson, type Plan } from '../loader/plan/index.js';
import { buildLoader } from '../service/loader.js';
import { compareWithPlan, type Difference } from '../service/replay-compare.js';
import { keyringModel, parseKeyringId, type TrustedCertificate } from '../service/keyring.js';
import { readHostProfile, readKernelProfile, type HostProbe } from '../service/profile.js';
import { jsonReplacer } from '../shared/json.js';
import { CliError } from './errors.js';

export interface ReplayCliOptions {
  json: boolean;
  /** 'host', a profile directory, or a raw kernel BTF file (vmlinux). */
  profile?: string;
  /** Scheme to generate with when the input is an object. */
  scheme?: string;
  /** The object whose plan a header's or raw loader's effects are compared with. */
  object?: string;
  /** --trust [KEYRING=]CERT: certificates the model's keyring trusts. */
  trust?: string[];
  /** --keyring-id: keyring_id of the signed load (name or integer). */
  keyringId?: string;
}

interface LoaderJson {
  scheme?: ReplayScheme;
  ctx?: ReplayCtxLayout;
  plan?: unknown;
}

interface Input {
  what: string;
  insns: Uint8Array;
  data: Uint8Array;
  options: ReplayOptions;
  plan: Plan | null;
}

const SCHEMES: readonly string[] = ['unsigned', 'linux-6.18', 'linux-load-time'];

function profileFrom(spec: string | undefined): { profile: KernelProfile; probe: HostProbe | null } {
  if (spec === undefined && !existsSync('/sys/kernel/btf/vmlinux'))
    return { profile: profileView({ name: 'no-btf', btf: null }), probe: null };
  if (spec !== undefined && spec !== 'host' && !existsSync(spec)) throw new CliError(`--profile ${spec}: no such file or directory`);
  if ((spec ?? 'host') === 'host') return readHostProfile();
  return { profile: readKernelProfile(spec!), probe: null };
}

/** --trust [KEYRING=]CERT: KEYRING= only when the text before '=' is a keyring name or id (a path may hold '='). */
function trustFrom(specs: readonly string[]): TrustedCertificate[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const keyring = eq > 0 ? parseKeyringId(spec.slice(0, eq)) : null;
    const path = keyring === null ? spec : spec.slice(eq + 1);
    if (!existsSync(path)) throw new CliError(`--trust ${spec}: ${path}: no such file`);
    const bytes = new Uint8Array(readFileSync(path));
    const text = new TextDecoder().decode(bytes.subarray(0, 64));
    return { certificate: text.includes('-----BEGIN') ? new TextDecoder().decode(bytes) : bytes, ...(keyring === null ? {} : { keyring }) };
  });
}

function keyringFrom(opts: ReplayCliOptions): Partial<ReplayOptions> {
  const out: Partial<ReplayOptions> = {};
  if (opts.keyringId !== undefined) {
    const id = parseKeyringId(opts.keyringId);
    if (id === null)
      throw new CliError(
        `--keyring-id ${opts.keyringId}: want an integer (s32) or one of builtin, secondary, platform, session, user, user-session, thread, process`,
      );
    out.keyringId = id;
  }
  if (opts.trust?.length) {
    const trusted = trustFrom(opts.trust);
    let model;
    try {
      model = keyringModel(trusted);
    } catch (e) {
      throw new CliError(`--trust: not a certificate: ${(e as Error).message}`);
    }
    out.verifySignature = model.verifySignature;
    out.keyringSerials = model.keyringSerials;
  }
  return out;
}

const isElf = (b: Uint8Array) => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

function fromObject(path: string, scheme: string): Input {
  if (!SCHEMES.includes(scheme)) throw new CliError(`--scheme ${scheme}: want ${SCHEMES.join(', ')}`);
  const built = buildLoader(new Uint8Array(readFileSync(path)), basename(path), {
    scheme: scheme as LoaderScheme,
    name: objectNameFromPath(path),
    flavour: 'v1.7',
    standalone: false,
    mapExcl: false,
    host: {},
  });
  return {
    what: `${path} (generated, ${scheme})`,
    insns: built.loader.insns,
    data: built.loader.data,
    options: { scheme: scheme as ReplayScheme, ctx: built.loader.ctxLayout, byteOrder: built.plan.byteOrder },
    plan: built.plan,
  };
}

function fromHeader(path: string, override?: string): Input {
  const h = parseLightSkeleton(readFileSync(path, 'utf8'));
  // A header does not say which scheme its loader was made for: a signed one is taken as
  // linux-6.18 (the scheme of this kernel), an unsigned one as unsigned, unless --scheme says.
  if (override !== undefined && !SCHEMES.includes(override)) throw new CliError(`--scheme ${override}: want ${SCHEMES.join(', ')}`);
  const scheme = (override ?? (h.signature ? 'linux-6.18' : 'unsigned')) as ReplayScheme;
  return {
    what: `${path} (light skeleton '${h.name}': ${h.maps.length} maps, ${h.progs.length} programs${h.signature ? ', signed' : ''})`,
    insns: h.insns,
    data: h.data,
    plan: null,
    options: {
      scheme,
      nrMaps: h.maps.length,
      nrProgs: h.progs.length,
      initialValues: Object.fromEntries(h.initialValues),
      ...(h.signature ? { signature: h.signature } : {}),
    },
  };
}

function fromDir(dir: string): Input {
  const insnsPath = join(dir, 'insns.bin'),
    dataPath = join(dir, 'data.bin'),
    j = join(dir, 'loader.json');
  for (const f of [insnsPath, dataPath]) if (!existsSync(f)) throw new CliError(`replay: ${f} not found`);
  const meta = existsSync(j) ? (JSON.parse(readFileSync(j, 'utf8')) as LoaderJson) : {};
  const plan = meta.plan ? planFromJson(meta.plan) : null;
  // `gen --key/--cert` leaves the detached PKCS#7 beside the loader: the load carries it.
  const sigPath = join(dir, 'signature.p7s');
  const signature = existsSync(sigPath) ? new Uint8Array(readFileSync(sigPath)) : null;
  return {
    what: `${dir}${signature ? ' (signed)' : ''}`,
    insns: new Uint8Array(readFileSync(insnsPath)),
    data: new Uint8Array(readFileSync(dataPath)),
    plan,
    options: {
      scheme: meta.scheme ?? 'unsigned',
      byteOrder: plan?.byteOrder ?? 'le',
      ...(meta.ctx ? { ctx: { size: meta.ctx.size, maps: meta.ctx.maps, progs: meta.ctx.progs } } : {}),
      ...(signature ? { signature } : {}),
    },
  };
}

function inputFrom(target: string, opts: ReplayCliOptions): Input {
  if (existsSync(target) && statSync(target).isDirectory()) return fromDir(target);
  if (existsSync(target)) {
    const bytes = new Uint8Array(readFileSync(target));
    if (isElf(bytes)) return fromObject(target, opts.scheme ?? 'unsigned');
    if (/\.h$/.test(target) || new TextDecoder().decode(bytes.subarray(0, 4096)).includes('bpf_loader_ctx'))
      return fromHeader(target, opts.scheme);
    throw new CliError(`replay ${target}: not a BPF object, a light skeleton header or a gen output directory`);
  }
  const parts = target.split(',');
  if (parts.length !== 2) throw new CliError(`replay ${target}: no such file; want DIR, OBJ, FILE.lskel.h or INSNS.bin,DATA.bin`);
  for (const f of parts) if (!existsSync(f)) throw new CliError(`replay: ${f} not found`);
  return {
    what: target,
    insns: new Uint8Array(readFileSync(parts[0])),
    data: new Uint8Array(readFileSync(parts[1])),
    options: { scheme: 'unsigned' },
    plan: null,
  };
}

/** The --json shape: stable keys first, then the rest of the report. */
export function replayJson(report: ReplayReport, diff: Difference[] | null): Record<string, unknown> {
  return {
    retval: report.retval,
    maps: report.maps,
    progs: report.progs,
    trace: report.trace,
    diff,
    ok: report.ok,
    stage: report.stage,
    errno: report.errno,
    fault: report.fault,
    printk: report.printk,
    scheme: report.scheme,
    profile: report.profile,
    steps: report.steps,
    leakedFds: report.leakedFds,
    ctxReads: report.ctxReads,
  };
}

export function runReplay(target: string, opts: ReplayCliOptions, out: (s: string) => void): number {
  const input = inputFrom(target, opts);
  if (input.insns.length % 8) throw new CliError(`replay: the loader is ${input.insns.length} bytes, not a multiple of 8`);
  const plan = input.plan ?? (opts.object ? fromObject(opts.object, input.options.scheme ?? 'unsigned').plan : null);
  const keyring = keyringFrom(opts);
  const { profile, probe } = profileFrom(opts.profile);
  const report = replay({ insns: input.insns, data: input.data }, profile, { ...input.options, ...keyring });
  const diff = plan ? compareWithPlan(report, plan).differences : null;
  if (opts.json) {
    out(JSON.stringify(replayJson(report, diff), jsonReplacer, 2));
  } else {
    out(`input: ${input.what}`);
    if (probe)
      out(
        `profile host: ${probe.source === 'probe' ? 'probed now' : probe.source === 'cache' ? `probed earlier this boot (${probe.cacheFile})` : `not probed (${probe.reason})${probe.source === 'config' ? ', signature support from the kernel config' : ''}`}`,
      );
    out(formatReport(report));
    if (diff === null) out('\nplan: none to compare with (give --object OBJ)');
    else if (diff.length === 0) out('\nplan: the effects equal the plan');
    else
      out(
        `\nplan: ${diff.length} difference(s)\n${diff.map((d) => `  ${d.path}: expected ${JSON.stringify(d.expected, jsonReplacer)}, got ${JSON.stringify(d.actual, jsonReplacer)}`).join('\n')}`,
      );
  }
  return report.ok && (diff === null || diff.length === 0) ? 0 : 1;
}
