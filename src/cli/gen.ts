/**
 * `bpfsign gen OBJ [--scheme S] [--name N] -o DIR`: the loader for an object, written as
 *   DIR/insns.bin, DIR/data.bin      loader instructions and metadata blob
 *   DIR/loader.json                  plan, digests, options (every host input), ctx layout
 *   DIR/init.<index>.bin             each map's initial value (internal maps)
 *   DIR/NAME.lskel.h                 light skeleton (--flavour, --standalone); with --lang go
 *                                    NAME.lskel.go, with --lang rust the Rust module
 * Outputs are deterministic: the same object and options give the same bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LoaderScheme, SkeletonLang } from '../loader/gen/index.js';
import { objectNameFromPath } from '../loader/object/index.js';
import { hostOptionsOf, HostTextError, kconfigLines, type HostOptions } from '../loader/plan/index.js';
import { buildLoader, plainJson, skeletonFile, type BuildFlavour, type BuiltLoader } from '../service/loader.js';
import { signBuilt, unsignedBundle } from '../service/sign.js';
import { canonicalBytes, signerFromPem } from '../signing/index.js';
import { CliError } from './errors.js';
import { stageOutput } from './output-dir.js';

export interface GenOptions {
  scheme: LoaderScheme;
  name?: string;
  out: string;
  flavour: BuildFlavour;
  standalone: boolean;
  mapExcl: boolean;
  host: HostOptions;
  /** The light skeleton's language (default 'c'). */
  lang?: SkeletonLang;
}

/** Parses `--kconfig NAME=VALUE`, `--ksym NAME=ADDR`, `--kernel-version A.B.C` and friends (loader/plan/host-text.ts reads them). */
export function hostOptionsFrom(values: {
  kconfig?: string[];
  'kconfig-file'?: string;
  'kernel-version'?: string;
  ksym?: string[];
  cpus?: string;
  'page-size'?: string;
  'usdt-uprobe-multi'?: boolean;
}): HostOptions {
  const base: HostOptions = values['kconfig-file'] ? { kconfig: kconfigLines(readFileSync(values['kconfig-file'], 'utf8')) } : {};
  let host: HostOptions;
  try {
    host = hostOptionsOf(
      {
        kconfig: values.kconfig,
        ksym: values.ksym,
        kernelVersion: values['kernel-version'],
        cpus: values.cpus,
        pageSize: values['page-size'],
      },
      base,
      { kconfig: '--kconfig', ksym: '--ksym', kernelVersion: '--kernel-version', cpus: '--cpus', pageSize: '--page-size' },
    );
  } catch (e) {
    if (e instanceof HostTextError) throw new CliError(e.message);
    throw e;
  }
  if (values['usdt-uprobe-multi'] !== undefined) host.usdtUprobeMulti = values['usdt-uprobe-multi'];
  return host;
}

/** gen's options with a key to sign with: PEM files (--key, --cert, --chain) and the key's passphrase. */
type GenRun = GenOptions & { key?: string; cert?: string; chain?: string; passphrase?: string };

export async function runGen(file: string, opts: GenRun, out: (s: string) => void): Promise<number> {
  const bytes = new Uint8Array(readFileSync(file));
  const name = opts.name ?? objectNameFromPath(file);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError(`--name ${name}: must be a C identifier`);
  const built = buildLoader(bytes, basename(file), { ...opts, name });
  // Written beside -o DIR and moved there at the end: a failure leaves no DIR (or DIR as it was).
  const staged = stageOutput(opts.out);
  let files: string[];
  try {
    files = await writeGen(built, opts, staged.path);
    staged.commit();
  } finally {
    staged.abort();
  }
  out(
    `wrote ${files.length} files to ${opts.out}: ${files.join(' ')}\nloader: ${built.loader.insns.length / 8} insns, ${built.loader.data.length} bytes of data, scheme ${opts.scheme}`,
  );
  return 0;
}

/** Writes gen's files for `built` into `dir`; returns their names in the order written. */
async function writeGen(built: BuiltLoader, opts: GenRun, dir: string): Promise<string[]> {
  const files: string[] = [];
  const write = (f: string, data: Uint8Array | string) => {
    writeFileSync(join(dir, f), data);
    files.push(f);
  };
  write('insns.bin', built.loader.insns);
  write('data.bin', built.loader.data);
  for (const [i, v] of built.inits) write(`init.${i}.bin`, v);
  let signature: Uint8Array | null = null;
  write('loader.json', plainJson(built.manifest) + '\n');
  if (opts.key || opts.cert) {
    if (!opts.key || !opts.cert) throw new CliError('signing needs both --key and --cert');
    if (opts.scheme === 'unsigned') throw new CliError('--key/--cert need --scheme linux-6.18 or linux-load-time');
    const certificate = readFileSync(opts.cert, 'utf8');
    const signer = await signerFromPem({ privateKey: readFileSync(opts.key), passphrase: opts.passphrase, certificate });
    const chain = opts.chain
      ? (readFileSync(opts.chain, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [])
      : [];
    const signed = await signBuilt(built, signer, [certificate, ...chain]);
    // The v1.7 header carries the signature and excl_prog_hash (bpftool 7.1's format has no fields for them).
    signature = signed.signature;
    write('signature.p7s', signed.signature);
    write('manifest.json', new TextDecoder().decode(canonicalBytes(signed.manifest)) + '\n');
    write('bundle.json', JSON.stringify(signed.bundle, null, 2) + '\n');
  } else {
    // An unsigned bundle still describes the loader; verify answers UNSIGNED unless a policy allows it.
    write('bundle.json', JSON.stringify(unsignedBundle(built), null, 2) + '\n');
  }
  const skel = skeletonFile(built, opts.lang ?? 'c', signature);
  write(skel.fileName, skel.text);
  return files;
}
