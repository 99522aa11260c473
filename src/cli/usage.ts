/**
 * The text of `bpfsign help` and of `bpfsign CMD --help`. One command's usage is cut out of the
 * full text (its lines under "commands:"), so the two cannot drift apart.
 */

export const USAGE = `usage: bpfsign <command> [options]

commands:
  serve [--port N] [--workers N]         run the HTTP service (configured by BPFSIGN_* environment variables)
  sign OBJ... (--server URL [--token T] | --keys DIR) [--scheme S] [--key-id ID] [--map-excl] [-j JOBS] [-o DIR] [--lang c|go|rust]
      [--name N] [--flavour F] [host inputs: --kconfig, --kconfig-file, --kernel-version, --ksym, --cpus, --page-size]
                                         signed bundles (NAME.bundle.json) and light skeletons, from the service or offline;
                                         S is linux-6.18 (default) or linux-load-time; --map-excl adds the loader's check that
                                         its metadata map is exclusive; a progress bar for several objects
  log verify --server URL [--state FILE] [--log-key FILE|KEY] [--policy FILE | --witness VKEY ... [--quorum K]]
                                         audit the transparency log over its tiles (256 entries a request): checkpoint
                                         signature and witness cosignatures, every new entry, the root; resumable
                                         (state saved as it goes); 429/503 are retried as Retry-After says
  log proof INDEX --server URL [-o FILE] an entry's inclusion proof as a C2SP tlog-proof file
  log get INDEX --server URL [--log-key FILE|KEY] [--json]
                                         a log entry, decoded, its inclusion checked under a signed checkpoint
  manifest get SHA256 --server URL [--log-key FILE|KEY] [--json]
                                         signed manifests with this digest (or their object's or loader's),
                                         decoded, each checked to be the one its log entry names, and included
  log check-proof FILE --bundle BUNDLE (--log-key FILE|KEY | --policy FILE) [--witness VKEY ... [--quorum K]] [--origin O]
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
      [--lang c|go|rust]
                                         the loader program (insns.bin, data.bin, loader.json, init.N.bin, NAME.lskel.h,
                                         or with --lang go NAME.lskel.go, with --lang rust the Rust module);
                                         S is unsigned (default), linux-6.18 or linux-load-time; host inputs default as documented;
                                         with --key/--cert also signature.p7s, manifest.json and bundle.json
  vm [MEM-HEX] [--budget N]              run hex instructions from stdin in the interpreter (bpf_conformance plugin protocol)
  help                                   this text; bpfsign CMD --help prints one command's usage
  --version                              the version of bpfsign
`;

/** Commands whose exit status 1 means something of its own. */
const EXIT_ONE: Record<string, string> = { verify: ', 1 not verified', vm: ', 1 a fault while running the program' };

/** The lines of USAGE that describe `cmd` (every form of it, e.g. all of `log`), or undefined. */
export function commandUsage(cmd: string): string | undefined {
  const lines = USAGE.slice(USAGE.indexOf('commands:\n') + 'commands:\n'.length).split('\n');
  const picked: string[] = [];
  let keep = false;
  for (const line of lines) {
    if (/^  \S/.test(line)) keep = line.slice(2).split(' ')[0] === cmd;
    if (keep && line !== '') picked.push(line);
  }
  if (picked.length === 0) return undefined;
  return `usage: bpfsign ${cmd} ...\n\n${picked.join('\n')}\n\nexit status: 0 success${EXIT_ONE[cmd] ?? ''}, 2 bad usage or unreadable input; bpfsign help lists every command\n`;
}
