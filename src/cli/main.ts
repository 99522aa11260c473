#!/usr/bin/env node
/**
 * The `bpfsign` command. Each subcommand is a small module, imported only when that command runs
 * (so `bpfsign vm` or `bpfsign --help` does not load the HTTP server or the signing code); this
 * file parses arguments, runs one, and turns typed errors into a one-line message (or JSON with
 * --json) and exit 2. `bpfsign CMD --help` prints that command's usage; `bpfsign --version` the
 * package version.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';
import { commandUsage, USAGE } from './usage.js';
import type { BuildFlavour } from '../service/loader.js';

const LOG_USAGE = `
log verify --server URL [--state FILE] [--log-key FILE|KEY] [--policy FILE | --witness VKEY ... [--quorum K]]
log proof INDEX --server URL [-o FILE]
log get INDEX --server URL [--log-key FILE|KEY] [--json]
log check-proof FILE --bundle BUNDLE (--log-key FILE|KEY | --policy FILE) [--witness VKEY ... [--quorum K]] [--origin O]
`;

/** A mistake on the command line of one command: "bpfsign CMD: what (bpfsign CMD --help)", exit 2. */
class UsageError extends CliError {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

/** parseArgs for one command, its errors turned into a UsageError naming the command and the option. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(cmd: string, args: string[], options: T, allowNegative = false) {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; allowNegative: boolean }>({
      args,
      options,
      allowPositionals: true,
      allowNegative,
    });
  } catch (e) {
    throw usageErrorFrom(cmd, e);
  }
}

function usageErrorFrom(cmd: string, e: unknown): unknown {
  const err = e as { code?: string; message?: string };
  if (typeof err.code !== 'string' || !err.code.startsWith('ERR_PARSE_ARGS')) return e;
  const unknown = /^Unknown option '([^']+)'/.exec(err.message ?? '');
  if (unknown) return new UsageError(cmd, `unknown option '${unknown[1]}'`);
  // Node's messages run on with advice about '--'; the first sentence says what is wrong.
  const first = (err.message ?? err.code).split('. ')[0]!.replace(/\.$/, '');
  return new UsageError(cmd, first.charAt(0).toLowerCase() + first.slice(1));
}

/** `--help` or `-h` among a command's options (before any `--`). */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

async function inspect(args: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', args, { json: { type: 'boolean', default: false }, name: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('inspect', 'takes exactly one object file');
  const { runInspect } = await import('./inspect.js');
  return runInspect(positionals[0]!, { json: values.json ?? false, name: values.name }, out);
}

async function disasm(args: string[]): Promise<number> {
  const { values, positionals } = parse('disasm', args, { json: { type: 'boolean', default: false }, section: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('disasm', 'takes exactly one object file');
  const { runDisasm } = await import('./disasm.js');
  return runDisasm(positionals[0]!, { json: values.json ?? false, section: values.section }, out);
}

async function btf(args: string[]): Promise<number> {
  const { values, positionals } = parse('btf', args, { json: { type: 'boolean', default: false }, base: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('btf', 'takes exactly one file');
  const { runBtf } = await import('./btf.js');
  return runBtf(positionals[0]!, { json: values.json ?? false, base: values.base }, out);
}

/** `--lang`: the light skeleton's language. */
function skeletonLang(cmd: string, v: string): 'c' | 'go' | 'rust' {
  if (v !== 'c' && v !== 'go' && v !== 'rust') throw new UsageError(cmd, `--lang ${v}: want c, go or rust`);
  return v;
}

/** gen's build options, which sign takes too: the skeleton's name and flavour and the host inputs libbpf would read. */
const GEN_BUILD_OPTIONS = {
  name: { type: 'string' },
  flavour: { type: 'string' },
  kconfig: { type: 'string', multiple: true },
  'kconfig-file': { type: 'string' },
  'kernel-version': { type: 'string' },
  ksym: { type: 'string', multiple: true },
  cpus: { type: 'string' },
  'page-size': { type: 'string' },
  'usdt-uprobe-multi': { type: 'boolean' },
} as const;

async function gen(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'gen',
    args,
    {
      ...GEN_BUILD_OPTIONS,
      out: { type: 'string', short: 'o' },
      scheme: { type: 'string', default: 'unsigned' },
      flavour: { type: 'string', default: 'v1.7' },
      standalone: { type: 'boolean', default: false },
      'map-excl': { type: 'boolean', default: false },
      key: { type: 'string' },
      cert: { type: 'string' },
      chain: { type: 'string' },
      'key-passphrase-env': { type: 'string' },
      lang: { type: 'string', default: 'c' },
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('gen', 'takes exactly one object file');
  if (!values.out) throw new UsageError('gen', 'needs -o DIR');
  if (!['unsigned', 'linux-6.18', 'linux-load-time'].includes(values.scheme!))
    throw new UsageError('gen', `--scheme ${values.scheme}: want unsigned, linux-6.18 or linux-load-time`);
  if (!['v1.7', 'libbpf-1.7', 'bpftool-7.1'].includes(values.flavour!))
    throw new UsageError('gen', `--flavour ${values.flavour}: want v1.7, libbpf-1.7 or bpftool-7.1`);
  // Checked before anything is written: a signed scheme needs its key, a key needs a signed scheme.
  if (!values.key !== !values.cert) throw new UsageError('gen', 'signing needs both --key KEY.pem and --cert CERT.pem');
  if (values.scheme === 'unsigned' && values.key)
    throw new UsageError('gen', '--key/--cert sign: give --scheme linux-6.18 or linux-load-time');
  if (values.scheme !== 'unsigned' && !values.key)
    throw new UsageError('gen', `--scheme ${values.scheme} is signed: give --key KEY.pem and --cert CERT.pem (or --scheme unsigned)`);
  const lang = skeletonLang('gen', values.lang!);
  const { hostOptionsFrom, runGen } = await import('./gen.js');
  return runGen(
    positionals[0]!,
    {
      scheme: values.scheme as 'unsigned',
      name: values.name,
      out: values.out,
      flavour: values.flavour as BuildFlavour,
      standalone: values.standalone ?? false,
      mapExcl: values['map-excl'] ?? false,
      host: hostOptionsFrom(values),
      key: values.key,
      cert: values.cert,
      chain: values.chain,
      lang,
      passphrase: values['key-passphrase-env'] ? process.env[values['key-passphrase-env']] : undefined,
    },
    out,
  );
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parse('verify', args, {
    object: { type: 'string' },
    policy: { type: 'string' },
    trust: { type: 'string', multiple: true },
    'log-key': { type: 'string', multiple: true },
    offline: { type: 'boolean', default: false },
    cert: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1)
    throw new UsageError('verify', 'takes one bundle: a gen output directory, a bundle.json or a light skeleton header');
  const { runVerify } = await import('./verify.js');
  return runVerify(
    positionals[0]!,
    {
      object: values.object,
      policy: values.policy,
      trust: values.trust,
      logKey: values['log-key'],
      offline: values.offline,
      cert: values.cert,
      profile: values.profile,
      json: values.json ?? false,
    },
    out,
  );
}

async function keys(args: string[]): Promise<number> {
  const { values, positionals } = parse('keys', args, {
    dir: { type: 'string', default: './data/keys' },
    json: { type: 'boolean', default: false },
  });
  const { runKeys } = await import('./verify.js');
  return runKeys(positionals[0], { dir: values.dir!, json: values.json ?? false }, out);
}

async function tokens(args: string[]): Promise<number> {
  const { values, positionals } = parse('tokens', args, {
    scopes: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const { runTokens } = await import('./tokens.js');
  return runTokens(positionals[0], { ...values, id: positionals[1], json: values.json ?? false }, out);
}

async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parse('replay', args, {
    json: { type: 'boolean', default: false },
    profile: { type: 'string' },
    scheme: { type: 'string' },
    object: { type: 'string' },
    trust: { type: 'string', multiple: true },
    'keyring-id': { type: 'string' },
  });
  if (positionals.length !== 1)
    throw new UsageError('replay', 'takes a gen output directory, an object, a light skeleton header, or INSNS.bin,DATA.bin');
  const { runReplay } = await import('./replay.js');
  return runReplay(
    positionals[0]!,
    {
      json: values.json ?? false,
      profile: values.profile,
      scheme: values.scheme,
      object: values.object,
      trust: values.trust,
      keyringId: values['keyring-id'],
    },
    out,
  );
}

async function sign(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'sign',
    args,
    {
      server: { type: 'string' },
      keys: { type: 'string' },
      token: { type: 'string' },
      scheme: { type: 'string', default: 'linux-6.18' },
      out: { type: 'string', short: 'o', default: '.' },
      'key-id': { type: 'string' },
      'map-excl': { type: 'boolean', default: false },
      jobs: { type: 'string', short: 'j' },
      lang: { type: 'string', default: 'c' },
      ...GEN_BUILD_OPTIONS,
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('sign', 'takes one or more object files');
  if (values.scheme !== 'linux-6.18' && values.scheme !== 'linux-load-time') {
    throw new UsageError('sign', `--scheme ${values.scheme}: want linux-6.18 or linux-load-time (unsigned loaders: bpfsign gen)`);
  }
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64))
    throw new UsageError('sign', `--jobs ${values.jobs}: want an integer 1..64`);
  const lang = skeletonLang('sign', values.lang!);
  if (values.flavour !== undefined && !['v1.7', 'libbpf-1.7', 'bpftool-7.1'].includes(values.flavour))
    throw new UsageError('sign', `--flavour ${values.flavour}: want v1.7, libbpf-1.7 or bpftool-7.1`);
  const { hostOptionsFrom } = await import('./gen.js');
  const { runSign } = await import('./client.js');
  return runSign(
    positionals,
    {
      server: values.server,
      keys: values.keys,
      token: values.token ?? process.env.BPFSIGN_TOKEN,
      scheme: values.scheme!,
      out: values.out!,
      key: values['key-id'],
      profile: values['map-excl'] ? 'linux-6.18-excl' : undefined,
      jobs,
      lang,
      flavour: values.flavour as BuildFlavour | undefined,
      name: values.name,
      host: hostOptionsFrom(values),
    },
    out,
  );
}

async function log(args: string[]): Promise<number> {
  const { values, positionals } = parse('log', args, {
    server: { type: 'string' },
    state: { type: 'string' },
    'log-key': { type: 'string' },
    token: { type: 'string' },
    json: { type: 'boolean', default: false },
    out: { type: 'string', short: 'o' },
    bundle: { type: 'string' },
    origin: { type: 'string' },
    policy: { type: 'string' },
    witness: { type: 'string', multiple: true },
    quorum: { type: 'string' },
  });
  const token = values.token ?? process.env.BPFSIGN_TOKEN;
  const witnesses = { policy: values.policy, witness: values.witness, quorum: values.quorum };
  // --log-key names a file holding the key, or is its text, as in verify.
  if (values['log-key'] !== undefined) values['log-key'] = (await import('./input.js')).logKeyFrom(values['log-key']);
  const [sub, arg] = positionals;
  if (sub === 'verify' && values.server) {
    const { runLogVerify } = await import('./client.js');
    return runLogVerify({ server: values.server, state: values.state, logKey: values['log-key'], token, ...witnesses }, out);
  }
  if (sub === 'get' && values.server && positionals.length === 2) {
    const { runLogGet } = await import('./log-get.js');
    return runLogGet(arg!, { server: values.server, logKey: values['log-key'], token, json: values.json ?? false }, out);
  }
  if (sub === 'proof' && values.server && positionals.length === 2) {
    const { runLogProof } = await import('./client.js');
    return runLogProof({ server: values.server, index: arg!, out: values.out, token }, out);
  }
  if (sub === 'check-proof' && positionals.length === 2 && values.bundle && (values['log-key'] || values.policy)) {
    const { runLogCheckProof } = await import('./client.js');
    return runLogCheckProof({ proof: arg!, bundle: values.bundle, logKey: values['log-key'], origin: values.origin, ...witnesses }, out);
  }
  throw new UsageError('log', `usage: bpfsign ${LOG_USAGE.trim().split('\n').join(' | ')}`);
}

async function manifest(args: string[]): Promise<number> {
  const { values, positionals } = parse('manifest', args, {
    server: { type: 'string' },
    'log-key': { type: 'string' },
    token: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals[0] !== 'get' || positionals.length !== 2 || !values.server)
    throw new UsageError('manifest', 'usage: bpfsign manifest get SHA256 --server URL [--log-key VKEY] [--json]');
  const { runManifestGet } = await import('./log-get.js');
  const logKey = values['log-key'] === undefined ? undefined : (await import('./input.js')).logKeyFrom(values['log-key']);
  return runManifestGet(
    positionals[1]!,
    { server: values.server, logKey, token: values.token ?? process.env.BPFSIGN_TOKEN, json: values.json ?? false },
    out,
  );
}

async function witness(args: string[]): Promise<number> {
  const { values, positionals } = parse('witness', args, {
    dir: { type: 'string' },
    name: { type: 'string' },
    log: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
  });
  const { runWitness } = await import('./witness.js');
  return runWitness(positionals[0], values, out);
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parse('serve', args, { port: { type: 'string' }, workers: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError('serve', `unexpected argument '${positionals[0]}'`);
  if (values.port) process.env.BPFSIGN_PORT = values.port;
  if (values.workers) process.env.BPFSIGN_WORKERS = values.workers;
  // Environment: BPFSIGN_HOST, BPFSIGN_PORT, BPFSIGN_DATABASE_URL, BPFSIGN_DATA_DIR, BPFSIGN_API_TOKENS, BPFSIGN_WORKERS (see README).
  const [{ default: cluster }, { startCluster, startServer }, { loadConfig }] = await Promise.all([
    import('node:cluster'),
    import('../api/server.js'),
    import('../api/config.js'),
  ]);
  const config = loadConfig(process.env);
  (config.workers > 1 && cluster.isPrimary ? startCluster(config) : startServer(config)).then(
    (srv) => {
      const stop = () => {
        void srv.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (e) => {
      // A configuration it will not start with (ConfigError: production on development keys) is bad usage: exit 2.
      process.stderr.write(`bpfsign serve: ${(e as Error).message}\n`);
      process.exit((e as { code?: string }).code === 'CONFIG_INVALID' ? 2 : 1);
    },
  );
  return 0;
}

/**
 * bpf_conformance plugin protocol: program as hex on stdin, memory as hex in argv[0], r0 in hex on
 * stdout. Options are checked here, before standard input is read, so a typo does not wait on it.
 */
async function vm(args: string[]): Promise<number> {
  for (let i = args.length > 0 && !args[0]!.startsWith('-') ? 1 : 0; i < args.length; i++) {
    if (args[i] === '--budget') i++;
    else if (args[i]!.startsWith('-')) throw new UsageError('vm', `unknown option '${args[i]}'`);
  }
  const { runVm } = await import('./vm.js');
  return runVm(args, { stdin: readFileSync(0, 'utf8'), stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  inspect,
  disasm,
  btf,
  gen,
  verify,
  keys,
  tokens,
  replay,
  sign,
  log,
  manifest,
  witness,
  serve,
  vm,
};

/** The command currently running (for error messages), set by main. */
let current: string | undefined;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-V':
      out((await import('../service/version.js')).packageVersion());
      return 0;
  }
  const run = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!run) throw new CliError(`unknown command '${cmd}'`);
  current = cmd;
  if (wantsHelp(rest)) {
    out(commandUsage(cmd)!);
    return 0;
  }
  return run(rest);
}

/** One line: error messages that carry newlines (a usage text, a nested cause) are joined. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim() + '\n';
}

async function report(e: unknown, json: boolean): Promise<void> {
  if (e instanceof UsageError || (e instanceof CliError && current)) {
    const cmd = e instanceof UsageError ? e.command : current!;
    process.stderr.write(oneLine(`bpfsign ${cmd}: ${e.message} (bpfsign ${cmd} --help)`));
  } else if (e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(oneLine(`bpfsign: ${(e as Error).message} (bpfsign help lists every command)`));
  } else if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
    // Typed errors (LoaderError, SigningError, PolicyFormatError, BundleFormatError, …) and system errors.
    const err = e as Error & { code: string; details?: unknown; issues?: unknown };
    if (json) {
      const { jsonReplacer } = await import('../shared/json.js');
      process.stderr.write(
        JSON.stringify({ error: { code: err.code, message: err.message, details: err.details ?? err.issues } }, jsonReplacer) + '\n',
      );
    } else process.stderr.write(oneLine(`bpfsign: ${err.code}: ${err.message}`));
  } else if (e instanceof SyntaxError && current) {
    // JSON.parse on a file that is not JSON (a proof, a bundle, a state file given the wrong file).
    process.stderr.write(oneLine(`bpfsign ${current}: unreadable input, not JSON: ${e.message}`));
  } else if (e instanceof Error && /^(kernel profile|no development keys|.* already holds development keys)/.test(e.message)) {
    process.stderr.write(oneLine(`bpfsign: ${e.message}`));
  } else {
    // Never a stack trace for a user: one line, exit 2; BPFSIGN_DEBUG=1 prints the stack.
    if (process.env.BPFSIGN_DEBUG === '1') throw e;
    process.stderr.write(
      oneLine(`bpfsign: internal error: ${e instanceof Error ? e.message : String(e)} (BPFSIGN_DEBUG=1 prints the stack)`),
    );
  }
}

async function run(): Promise<void> {
  // A reader that stops early (`bpfsign replay ... | head`) closes the pipe: stop quietly, not with EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    await report(e, process.argv.includes('--json'));
    process.exitCode = 2;
  }
}

void run();
