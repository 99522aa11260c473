#!/usr/bin/env node
/**
 * The `bpfsign` command. Each subcommand is a small module; this file parses arguments,
 * runs one, and turns typed errors into a one-line message (or JSON with --json) and exit 2.
 */
import { jsonReplacer } from '../shared/json.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runInspect } from './inspect.js';
import { runDisasm } from './disasm.js';
import { runBtf } from './btf.js';
import { hostOptionsFrom, runGen } from './gen.js';
import type { BuildFlavour } from '../service/loader.js';
import { CliError } from './errors.js';
import { runVm } from './vm.js';
import { runKeys, runVerify } from './verify.js';
import { runReplay } from './replay.js';
import { runLogCheckProof, runLogProof, runLogVerify, runSign } from './client.js';
import { runTokens } from './tokens.js';
import { runWitness } from './witness.js';
import { runLogGet, runManifestGet } from './log-get.js';
import cluster from 'node:cluster';
import { startCluster, startServer } from '../api/server.js';
import { loadConfig } from '../api/config.js';

const USAGE = `usage: bpfsign <command> [options]

commands:
  serve [--port N] [--workers N]         run the HTTP service (configured by BPFSIGN_* environment variables)
  sign OBJ... (--server URL [--token T] | --keys DIR) [--scheme S] [--key ID] [--profile P] [-j JOBS] [-o DIR]
                                         signed bundles (NAME.bundle.json) and headers, from the service or offline;
                                         P is linux-6.18 (default) or linux-6.18-excl; a progress bar for several objects
  log verify --server URL [--state FILE] [--log-key VKEY] [--policy FILE | --witness VKEY ... [--quorum K]]
                                         audit the transparency log over its tiles (256 entries a request): checkpoint
                                         signature and witness cosignatures, every new entry, the root; resumable
                                         (state saved as it goes); 429/503 are retried as Retry-After says
  log proof INDEX --server URL [-o FILE] an entry's inclusion proof as a C2SP tlog-proof file
  log get INDEX --server URL [--log-key VKEY] [--json]
                                         a log entry, decoded, its inclusion checked under a signed checkpoint
  manifest get SHA256 --server URL [--log-key VKEY] [--json]
                                         signed manifests with this digest (or their object's or loader's),
                                         decoded, each checked to be the one its log entry names, and included
  log check-proof FILE --bundle BUNDLE (--log-key VKEY | --policy FILE) [--witness VKEY ... [--quorum K]] [--origin O]
                                         offline: the tlog-proof proves BUNDLE's signed manifest is in the log
                                         (and its checkpoint carries k of n witness cosignatures)
  witness serve --dir DIR --name NAME --log VKEY ... [--host H] [--port N]
                                         a C2SP tlog-witness: cosigns a log's checkpoints that extend the last it cosigned
  witness key --dir DIR --name NAME      the witness's verifier key (made on first use), for trust policies
  inspect OBJ [--json] [--name N]        programs, maps, globals, externs, CO-RE, BTF and features of a BPF object
  disasm OBJ [--section S] [--json]      disassembly of every program section, as llvm-objdump -d prints it
  btf FILE [--base BASE] [--json]        BTF of an object or raw BTF file, as bpftool btf dump ... format raw prints it
  verify DIR|BUNDLE|FILE.lskel.h [--object OBJ] (--policy FILE | --trust CERT.pem ...) [--log-key FILE|KEY ...]
      [--offline] [--cert CHAIN.pem] [--profile host|DIR|BTF] [--json]
                                         verdict for a bundle, every file of a gen directory, or a light skeleton
                                         (ours or bpftool's); exit 0 OK, 1 not verified, 2 unreadable input;
                                         --trust requires log inclusion unless --offline
  keys create|list|rotate [--dir DIR]    development keys (local CA + signing keys; default ./data/keys)
  tokens create --scopes S[,S] [--name N] | list | revoke ID
                                         API tokens in the service's store (scopes sign, verify, audit, admin)
  replay DIR|OBJ|FILE.lskel.h [--profile host|DIR|BTF] [--scheme S] [--object OBJ] [--trust [KEYRING=]CERT.pem ...] [--keyring-id ID] [--json]
                                         run a loader (gen output, generated from OBJ, or embedded in a light
                                         skeleton, ours or bpftool's) in the kernel model: every syscall, the
                                         effects, and the differences from the plan
  gen OBJ -o DIR [--scheme S] [--name N] [--flavour v1.7|libbpf-1.7|bpftool-7.1] [--standalone] [--map-excl]
      [--kconfig NAME=VALUE ...] [--kconfig-file .config] [--kernel-version A.B.C] [--ksym NAME=ADDR ...]
      [--cpus N] [--page-size N] [--no-usdt-uprobe-multi] [--key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--key-passphrase-env VAR]]
                                         the loader program (insns.bin, data.bin, loader.json, init.N.bin, NAME.lskel.h);
                                         S is unsigned (default), linux-6.18 or linux-load-time; host inputs default as documented;
                                         with --key/--cert also signature.p7s, manifest.json and bundle.json
  vm [MEM-HEX] [--budget N]              run hex instructions from stdin in the interpreter (bpf_conformance plugin protocol)
  help                                   this text
`;

const LOG_USAGE = `
log verify --server URL [--state FILE] [--log-key VKEY] [--policy FILE | --witness VKEY ... [--quorum K]]
log proof INDEX --server URL [-o FILE]
log get INDEX --server URL [--log-key VKEY] [--json]
log check-proof FILE --bundle BUNDLE (--log-key VKEY | --policy FILE) [--witness VKEY ... [--quorum K]] [--origin O]
`;

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'inspect': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false }, name: { type: 'string' } } });
      if (positionals.length !== 1) throw new CliError('inspect takes exactly one object file');
      return runInspect(positionals[0], { json: values.json ?? false, name: values.name }, out);
    }
    case 'disasm': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false }, section: { type: 'string' } } });
      if (positionals.length !== 1) throw new CliError('disasm takes exactly one object file');
      return runDisasm(positionals[0], { json: values.json ?? false, section: values.section }, out);
    }
    case 'btf': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false }, base: { type: 'string' } } });
      if (positionals.length !== 1) throw new CliError('btf takes exactly one file');
      return runBtf(positionals[0], { json: values.json ?? false, base: values.base }, out);
    }
    case 'gen': {
      const { values, positionals } = parseArgs({
        args: rest, allowPositionals: true, allowNegative: true,
        options: {
          out: { type: 'string', short: 'o' }, scheme: { type: 'string', default: 'unsigned' }, name: { type: 'string' },
          flavour: { type: 'string', default: 'v1.7' }, standalone: { type: 'boolean', default: false }, 'map-excl': { type: 'boolean', default: false },
          kconfig: { type: 'string', multiple: true }, 'kconfig-file': { type: 'string' }, 'kernel-version': { type: 'string' },
          ksym: { type: 'string', multiple: true }, cpus: { type: 'string' }, 'page-size': { type: 'string' }, 'usdt-uprobe-multi': { type: 'boolean' },
          key: { type: 'string' }, cert: { type: 'string' }, chain: { type: 'string' }, 'key-passphrase-env': { type: 'string' },
        },
      });
      if (positionals.length !== 1) throw new CliError('gen takes exactly one object file');
      if (!values.out) throw new CliError('gen needs -o DIR');
      if (!['unsigned', 'linux-6.18', 'linux-load-time'].includes(values.scheme!)) throw new CliError(`--scheme ${values.scheme}: want unsigned, linux-6.18 or linux-load-time`);
      if (!['v1.7', 'libbpf-1.7', 'bpftool-7.1'].includes(values.flavour!)) throw new CliError(`--flavour ${values.flavour}: want v1.7, libbpf-1.7 or bpftool-7.1`);
      return runGen(positionals[0], {
        scheme: values.scheme as 'unsigned', name: values.name, out: values.out, flavour: values.flavour as BuildFlavour,
        standalone: values.standalone ?? false, mapExcl: values['map-excl'] ?? false, host: hostOptionsFrom(values),
        key: values.key, cert: values.cert, chain: values.chain,
        passphrase: values['key-passphrase-env'] ? process.env[values['key-passphrase-env']] : undefined,
      }, out);
    }
    case 'verify': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        object: { type: 'string' }, policy: { type: 'string' }, trust: { type: 'string', multiple: true }, 'log-key': { type: 'string', multiple: true },
        offline: { type: 'boolean', default: false }, cert: { type: 'string' }, profile: { type: 'string' }, json: { type: 'boolean', default: false },
      } });
      if (positionals.length !== 1) throw new CliError('verify takes one bundle: a gen output directory, a bundle.json or a light skeleton header');
      return runVerify(positionals[0], {
        object: values.object, policy: values.policy, trust: values.trust, logKey: values['log-key'], offline: values.offline, cert: values.cert,
        profile: values.profile, json: values.json ?? false,
      }, out);
    }
    case 'keys': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { dir: { type: 'string', default: './data/keys' }, json: { type: 'boolean', default: false } } });
      return runKeys(positionals[0], { dir: values.dir!, json: values.json ?? false }, out);
    }
    case 'tokens': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { scopes: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } } });
      return runTokens(positionals[0], { ...values, id: positionals[1], json: values.json ?? false }, out);
    }
    case 'replay': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        json: { type: 'boolean', default: false }, profile: { type: 'string' }, scheme: { type: 'string' }, object: { type: 'string' },
        trust: { type: 'string', multiple: true }, 'keyring-id': { type: 'string' },
      } });
      if (positionals.length !== 1) throw new CliError('replay takes a gen output directory, an object, a light skeleton header, or INSNS.bin,DATA.bin');
      return runReplay(positionals[0], { json: values.json ?? false, profile: values.profile, scheme: values.scheme, object: values.object, trust: values.trust, keyringId: values['keyring-id'] }, out);
    }
    case 'sign': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        server: { type: 'string' }, keys: { type: 'string' }, token: { type: 'string' }, scheme: { type: 'string', default: 'linux-6.18' }, out: { type: 'string', short: 'o', default: '.' },
        key: { type: 'string' }, profile: { type: 'string' }, jobs: { type: 'string', short: 'j' },
      } });
      if (positionals.length === 0) throw new CliError('sign takes one or more object files');
      const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) throw new CliError(`--jobs ${values.jobs}: want an integer 1..64`);
      return runSign(positionals, { ...values, jobs, token: values.token ?? process.env.BPFSIGN_TOKEN, scheme: values.scheme!, out: values.out! }, out);
    }
    case 'log': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        server: { type: 'string' }, state: { type: 'string' }, 'log-key': { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean', default: false },
        out: { type: 'string', short: 'o' }, bundle: { type: 'string' }, origin: { type: 'string' },
        policy: { type: 'string' }, witness: { type: 'string', multiple: true }, quorum: { type: 'string' },
      } });
      const token = values.token ?? process.env.BPFSIGN_TOKEN;
      const witnesses = { policy: values.policy, witness: values.witness, quorum: values.quorum };
      if (positionals[0] === 'verify' && values.server) return runLogVerify({ server: values.server, state: values.state, logKey: values['log-key'], token, ...witnesses }, out);
      if (positionals[0] === 'get' && values.server && positionals.length === 2) return runLogGet(positionals[1], { server: values.server, logKey: values['log-key'], token, json: values.json ?? false }, out);
      if (positionals[0] === 'proof' && values.server && positionals.length === 2) return runLogProof({ server: values.server, index: positionals[1], out: values.out, token }, out);
      if (positionals[0] === 'check-proof' && positionals.length === 2 && values.bundle && (values['log-key'] || values.policy)) {
        return runLogCheckProof({ proof: positionals[1], bundle: values.bundle, logKey: values['log-key'], origin: values.origin, ...witnesses }, out);
      }
      throw new CliError(`usage: bpfsign ${LOG_USAGE.trim().split('\n').join(' | ')}`);
    }
    case 'manifest': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        server: { type: 'string' }, 'log-key': { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean', default: false },
      } });
      if (positionals[0] !== 'get' || positionals.length !== 2 || !values.server) throw new CliError('usage: bpfsign manifest get SHA256 --server URL [--log-key VKEY] [--json]');
      return runManifestGet(positionals[1], { server: values.server, logKey: values['log-key'], token: values.token ?? process.env.BPFSIGN_TOKEN, json: values.json ?? false }, out);
    }
    case 'witness': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        dir: { type: 'string' }, name: { type: 'string' }, log: { type: 'string', multiple: true }, host: { type: 'string' }, port: { type: 'string' },
      } });
      return runWitness(positionals[0], values, out);
    }
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string' }, workers: { type: 'string' } } });
      if (values.port) process.env.BPFSIGN_PORT = values.port;
      if (values.workers) process.env.BPFSIGN_WORKERS = values.workers;
      // Environment: BPFSIGN_HOST, BPFSIGN_PORT, BPFSIGN_DATABASE_URL, BPFSIGN_DATA_DIR, BPFSIGN_API_TOKENS, BPFSIGN_WORKERS (see README).
      const config = loadConfig(process.env);
      (config.workers > 1 && cluster.isPrimary ? startCluster(config) : startServer(config)).then((srv) => {
        const stop = () => { void srv.close().then(() => process.exit(0)); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }, (e) => { process.stderr.write(`bpfsign serve: ${(e as Error).message}\n`); process.exit(1); });
      return 0;
    }
    case 'vm':
      // bpf_conformance plugin protocol: program as hex on stdin, memory as hex in argv[0], r0 in hex on stdout.
      return runVm(rest, { stdin: readFileSync(0, 'utf8'), stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
    case undefined: case 'help': case '--help': case '-h':
      out(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new CliError(`unknown command '${cmd}'`);
  }
}

async function run(): Promise<void> {
  const json = process.argv.includes('--json');
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bpfsign: ${(e as Error).message} (bpfsign help lists every command)\n`);
      process.exitCode = 2;
    } else if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
      // Typed errors (LoaderError, SigningError, PolicyFormatError, BundleFormatError, …) and system errors.
      const err = e as Error & { code: string; details?: unknown; issues?: unknown };
      if (json) process.stderr.write(JSON.stringify({ error: { code: err.code, message: err.message, details: err.details ?? err.issues } }, jsonReplacer) + '\n');
      else process.stderr.write(`bpfsign: ${err.code}: ${err.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof Error && /^(kernel profile|no development keys|.* already holds development keys)/.test(e.message)) {
      process.stderr.write(`bpfsign: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      // Never a stack trace for a user: one line, exit 2; BPFSIGN_DEBUG=1 prints the stack.
      if (process.env.BPFSIGN_DEBUG === '1') throw e;
      process.stderr.write(`bpfsign: internal error: ${e instanceof Error ? e.message : String(e)} (BPFSIGN_DEBUG=1 prints the stack)\n`);
      process.exitCode = 2;
    }
  }
}

void run();
