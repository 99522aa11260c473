/**
 * Test support: build and run test/kernel-runner/runner.c and small skeleton mains on this
 * kernel. Everything is built with gcc in one temporary directory per process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, hasTool } from '../support/objects.js';
import { bpfPermitted } from '../support/bpf-permitted.js';
import type { LskelMap, LskelProg } from '../../src/loader/gen/lskel.js';
import type { Btf } from '../../src/loader/btf/index.js';
import { btfAlignOf } from '../../src/loader/gen/lskel-decl.js';

/** Why the kernel runner cannot run here (it is built with gcc and needs bpf()), or null. */
export function runnerSkipReason(): string | null {
  if (!hasTool('gcc')) return 'gcc not installed';
  const p = bpfPermitted();
  return p.ok ? null : p.reason;
}

/**
 * Opaque stand-ins for the named struct/union/enum types the skeleton's variable structs use
 * (a user includes the real definitions; size and alignment are all the skeleton needs).
 */
export function opaqueTypes(btf: Btf | null, maps: LskelMap[]): string {
  if (!btf) return '';
  const seen = new Set<string>();
  let out = '';
  for (const m of maps) {
    for (const v of m.mmap?.vars ?? []) {
      for (const [, kw, name] of v.decl.matchAll(/\b(struct|union|enum) ([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const key = `${kw} ${name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const id = btf.findByName(name, kw === 'struct' ? 'STRUCT' : kw === 'union' ? 'UNION' : 'ENUM');
        if (id === undefined) continue;
        if (kw === 'enum') out += `enum ${name} { ${name}__opaque = 0 };\n`;
        else out += `${kw} ${name} { unsigned char __opaque[${btf.sizeOf(id)}]; } __attribute__((aligned(${btfAlignOf(btf, id)})));\n`;
      }
    }
  }
  return out;
}

let workDir: string | undefined;
export function work(): string {
  if (!workDir) {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-kr-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    workDir = dir;
  }
  return workDir;
}

export function gcc(args: string[]): { ok: true } | { ok: false; reason: string } {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: r.error.message };
  return r.status === 0 ? { ok: true } : { ok: false, reason: r.stderr.trim().split('\n').slice(0, 6).join('\n') };
}

let runnerPath: string | undefined;
/** Path of the compiled runner (built once). */
export function runner(): string {
  if (runnerPath) return runnerPath;
  const exe = join(work(), 'runner');
  const r = gcc(['-O1', '-Wall', '-Werror', '-o', exe, join(ROOT, 'test/kernel-runner/runner.c')]);
  if (!r.ok) throw new Error(`runner.c does not build: ${r.reason}`);
  runnerPath = exe;
  return exe;
}

export interface RunnerMap {
  index: number;
  fd: number;
  id?: number;
  name?: string;
  prog_ids?: number[];
  type?: number;
  key_size?: number;
  value_size?: number;
  max_entries?: number;
  flags?: number;
  frozen?: boolean | null;
  contents?: string | null;
}
export interface RunnerProg {
  index: number;
  fd: number;
  id?: number;
  name?: string;
  type?: number;
  xlated_prog_len?: number;
  tag?: string;
}
export interface RunnerReport {
  stage: string;
  errno: number;
  retval: number;
  log_tail?: string;
  maps: RunnerMap[];
  progs: RunnerProg[];
  fds_before: number;
  fds_after: number;
  leaked_fds: number;
  /** --signed: what the metadata map sequence saw (errno 0 = accepted). */
  signed?: { excl_requested: boolean; excl_errno: number; freeze_errno: number; hash_errno: number; hash: string };
  pins?: { index: number; path: string; pin_errno: number; get_errno?: number; same_map?: boolean }[];
  ctx_log_tail?: string;
}

export interface RunOptions {
  /** Prepare the metadata map as libbpf v1.7 does for signed loaders (freeze + map hash). */
  signed?: boolean;
  /** excl_prog_hash for the metadata map (32 bytes; with `signed`). */
  excl?: Uint8Array;
  /** Pin these maps after the loader ran (and unlink them again). */
  pins?: { index: number; path: string }[];
  /** Give the ctx a log buffer: the loader passes it to the programs' loads (report: ctx_log_tail). */
  log?: boolean;
}

/** Run a loader (instruction and blob bytes) with a ctx of nrMaps map descs and nrProgs prog descs. */
export function runLoader(
  tag: string,
  insns: Uint8Array,
  data: Uint8Array,
  nrMaps: number,
  nrProgs: number,
  opts: RunOptions = {},
): RunnerReport {
  const dir = work();
  const ip = join(dir, `${tag}.insns`);
  const dp = join(dir, `${tag}.data`);
  writeFileSync(ip, insns);
  writeFileSync(dp, data);
  const extra: string[] = [];
  if (opts.signed) extra.push('--signed');
  if (opts.excl) {
    const hp = join(dir, `${tag}.excl`);
    writeFileSync(hp, opts.excl);
    extra.push('--excl', hp);
  }
  for (const p of opts.pins ?? []) extra.push('--pin', String(p.index), p.path);
  if (opts.log) extra.push('--log');
  const r = spawnSync(runner(), [ip, dp, String(nrMaps), String(nrProgs), ...extra], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`runner failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as RunnerReport;
}

export interface SkelReport {
  stage: string;
  errno?: number;
  err?: number;
  maps?: number;
  progs?: number;
  mmapped?: number;
  leaked_fds?: number;
}

/** A main() that opens, loads and destroys skeleton `name` and prints JSON about it. */
export function skelMain(name: string, maps: LskelMap[], progs: LskelProg[], prelude = ''): string {
  const mapLines = maps
    .map((m) => `\tif (s->maps.${m.ident}.map_fd > 0) nmaps++;\n` + (m.mmap ? `\tif (s->${m.ident}) nmapped++;\n` : ''))
    .join('');
  const progLines = progs.map((p) => `\tif (s->progs.${p.name}.prog_fd > 0) nprogs++;\n`).join('');
  return `#include <stdio.h>
#include <errno.h>
#include <dirent.h>
#include <linux/types.h>
${prelude}#include "skel.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(void)
{
	int before = count_fds(), err, nmaps = 0, nprogs = 0, nmapped = 0;
	struct ${name} *s = ${name}__open();

	if (!s) {
		printf("{\\"stage\\":\\"open\\",\\"errno\\":%d}\\n", errno);
		return 0;
	}
	err = ${name}__load(s);
	if (err) {
		${name}__destroy(s);
		printf("{\\"stage\\":\\"load\\",\\"err\\":%d,\\"leaked_fds\\":%d}\\n", err, count_fds() - before);
		return 0;
	}
${mapLines}${progLines}	${name}__destroy(s);
	printf("{\\"stage\\":\\"ok\\",\\"maps\\":%d,\\"progs\\":%d,\\"mmapped\\":%d,\\"leaked_fds\\":%d}\\n", nmaps, nprogs, nmapped, count_fds() - before);
	return 0;
}
`;
}

/** Compile header text + main against the system headers and run it. */
export function runSkeleton(tag: string, header: string, main: string): SkelReport | { stage: 'build'; reason: string } {
  const dir = join(work(), tag);
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'skel.h'), header);
  writeFileSync(join(dir, 'main.c'), main);
  const exe = join(dir, 'main');
  const b = gcc(['-O0', '-Wall', '-Wno-unused-function', '-o', exe, join(dir, 'main.c')]);
  if (!b.ok) return { stage: 'build', reason: b.reason };
  const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return { stage: 'build', reason: `exit ${r.status ?? r.signal}: ${r.stderr}` };
  return JSON.parse(r.stdout) as SkelReport;
}
