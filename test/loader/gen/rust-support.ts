/**
 * Test support for the Rust light skeletons: the toolchain (Debian's rustc/cargo/rustfmt in
 * /usr/bin when present, else whatever is on PATH, e.g. rustup's), `rustfmt --check`, and one
 * offline cargo crate holding any number of skeleton modules with Debian's vendored libc crate
 * (/usr/share/cargo/registry as a directory source). The crate's target directory is shared by
 * every build of the process, so libc compiles once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY = '/usr/share/cargo/registry';

function onPath(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** `/usr/bin/NAME` when Debian's package is installed, else NAME from PATH, else null. */
export function tool(name: 'rustc' | 'cargo' | 'rustfmt'): string | null {
  return existsSync(`/usr/bin/${name}`) ? `/usr/bin/${name}` : onPath(name);
}

/** Why the skeletons cannot be formatted-checked here, or null. */
export function rustfmtSkipReason(): string | null {
  return tool('rustfmt') ? null : "rustfmt not installed (scripts/install-deps.sh installs Debian's rustfmt)";
}

/** Why a skeleton crate cannot be built here, or null. */
export function cargoSkipReason(): string | null {
  if (!tool('cargo') || !tool('rustc')) return "cargo/rustc not installed (scripts/install-deps.sh installs Debian's rustc and cargo)";
  const libc = spawnSync('sh', ['-c', `ls -d ${REGISTRY}/libc-0.2.* 2>/dev/null`], { encoding: 'utf8' });
  if (libc.status !== 0 || !libc.stdout.trim()) return `no libc crate in ${REGISTRY} (Debian package librust-libc-dev)`;
  return null;
}

/** `rustfmt --check --edition 2021` on `text`: null when clean, else rustfmt's diff. */
export function rustfmtDiff(text: string): string | null {
  // A file, not stdin: on stdin rustfmt --check prints a diff but exits 0.
  const file = join(workDir(), 'fmt-check.rs');
  writeFileSync(file, text);
  const r = spawnSync(tool('rustfmt')!, ['--check', '--edition', '2021', '--color', 'never', file], { encoding: 'utf8' });
  if (r.status === 0 && !r.stdout) return null;
  return `${r.stdout}${r.stderr}`.split('\n').slice(0, 40).join('\n');
}

let work: string | undefined;
function workDir(): string {
  if (!work) {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-rs-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    work = dir;
  }
  return work;
}

const CARGO_CONFIG = `[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "${REGISTRY}"

[net]
offline = true
`;

export type BuildResult = { ok: true; exe: string } | { ok: false; reason: string };

/**
 * Build binary crate `name` from modules (file name → text) and main.rs; `cargo check` only when
 * `checkOnly`. Uses the rustc beside the chosen cargo, so Debian's cargo builds with Debian's rustc.
 */
export function buildCrate(name: string, modules: Map<string, string>, main: string, checkOnly = false): BuildResult {
  const dir = join(workDir(), name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, '.cargo'), { recursive: true });
  writeFileSync(
    join(dir, 'Cargo.toml'),
    `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nlibc = "0.2"\n`,
  );
  writeFileSync(join(dir, '.cargo/config.toml'), CARGO_CONFIG);
  for (const [file, text] of modules) writeFileSync(join(dir, 'src', file), text);
  writeFileSync(join(dir, 'src/main.rs'), main);
  const cargo = tool('cargo')!;
  // No debug info and no incremental cache: a test build is run once.
  const env = {
    ...process.env,
    RUSTC: rustcFor(cargo),
    CARGO_TARGET_DIR: join(workDir(), 'target'),
    RUSTFLAGS: '-D warnings',
    CARGO_PROFILE_DEV_DEBUG: '0',
    CARGO_INCREMENTAL: '0',
  };
  const r = spawnSync(cargo, [checkOnly ? 'check' : 'build', '--quiet', '--offline'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.error) return { ok: false, reason: r.error.message };
  if (r.status !== 0) return { ok: false, reason: r.stderr.split('\n').slice(0, 60).join('\n') };
  return { ok: true, exe: join(workDir(), 'target/debug', name) };
}

/** Debian's rustc for Debian's cargo (rustup's proxies may come first on PATH), else rustc from PATH. */
function rustcFor(cargo: string): string {
  return cargo.startsWith('/usr/bin/') && existsSync('/usr/bin/rustc') ? '/usr/bin/rustc' : (tool('rustc') ?? 'rustc');
}

/** The rustc version the crates build with (for diagnostics). */
export function rustcVersion(): string {
  const cargo = tool('cargo');
  if (!cargo) return 'none';
  return spawnSync(rustcFor(cargo), ['--version'], { encoding: 'utf8' }).stdout.trim();
}
