/**
 * Test support: a Go main that opens and loads one of the generated Go light skeletons it imports
 * (chosen by its argument), then prints what the loader left in the kernel in runner.c's JSON shape (stage, errno, maps and
 * programs by ctx index with their kernel info and array contents), found by reflection over the
 * skeleton's Maps and Progs, and the number of fds left open after Close. With `attach` it calls
 * Attach after Load and counts the links.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasTool } from '../support/objects.js';
import { work } from './harness.js';

const MAIN = String.raw`package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
IMPORTS)

type skeleton interface {
	Load() error
	Close() error
}

var opens = []func() (skeleton, error){
OPENS}

func bpf(cmd uintptr, attr []uint64) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)*8))
	return int(r), e
}

func info(fd int32, buf []byte) unix.Errno {
	a := make([]uint64, 2)
	a[0] = uint64(uint32(fd)) | uint64(len(buf))<<32
	a[1] = uint64(uintptr(unsafe.Pointer(&buf[0])))
	_, e := bpf(15, a)
	return e
}

func u32(b []byte, off int) uint32 { return *(*uint32)(unsafe.Pointer(&b[off])) }

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func lookup(fd int32, key uint32, val []byte, cmd uintptr) unix.Errno {
	a := make([]uint64, 4)
	a[0] = uint64(uint32(fd))
	a[1] = uint64(uintptr(unsafe.Pointer(&key)))
	a[2] = uint64(uintptr(unsafe.Pointer(&val[0])))
	_, e := bpf(cmd, a)
	return e
}

func mapEntry(i int, fd int32) map[string]interface{} {
	m := map[string]interface{}{"index": i, "fd": fd}
	if fd <= 0 {
		return m
	}
	b := make([]byte, 104)
	if e := info(fd, b); e != 0 {
		m["info_errno"] = int(e)
		return m
	}
	typ, ks, vs, me := u32(b, 0), u32(b, 8), u32(b, 12), u32(b, 16)
	m["id"], m["name"], m["type"], m["key_size"], m["value_size"], m["max_entries"], m["flags"] = u32(b, 4), cstr(b[24:40]), typ, ks, vs, me, u32(b, 20)
	m["frozen"], m["contents"] = nil, nil
	if typ == 3 {
		ids := []uint32{}
		for k := uint32(0); k < me; k++ {
			v := make([]byte, 4)
			if lookup(fd, k, v, 1) != 0 {
				ids = append(ids, 0)
			} else {
				ids = append(ids, u32(v, 0))
			}
		}
		m["prog_ids"] = ids
	}
	total := int(vs) * int(me)
	if typ != 2 || ks != 4 || vs == 0 || total > 1<<20 {
		return m
	}
	val := make([]byte, total)
	for k := uint32(0); k < me; k++ {
		if lookup(fd, k, val[int(k)*int(vs):], 1) != 0 {
			break
		}
	}
	if e := lookup(fd, 0, val, 2); e == unix.EPERM {
		m["frozen"] = true
	} else if e == 0 {
		m["frozen"] = false
	} else {
		m["frozen"] = nil
	}
	m["contents"] = hex.EncodeToString(val)
	return m
}

func progEntry(i int, fd int32) map[string]interface{} {
	p := map[string]interface{}{"index": i, "fd": fd}
	if fd <= 0 {
		return p
	}
	b := make([]byte, 256)
	if e := info(fd, b); e != 0 {
		p["info_errno"] = int(e)
		return p
	}
	p["type"], p["id"], p["tag"] = u32(b, 0), u32(b, 4), hex.EncodeToString(b[8:16])
	p["xlated_prog_len"], p["name"] = u32(b, 20), cstr(b[64:80])
	return p
}

func fds() int {
	d, _ := os.ReadDir("/proc/self/fd")
	return len(d)
}

func errInfo(err error, out map[string]interface{}) {
	var en unix.Errno
	if errors.As(err, &en) {
		out["errno"] = int(en)
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Ptr && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("Op"); f.IsValid() {
			out["op"] = f.String()
		}
	}
	out["error"] = err.Error()
}

func report(s skeleton, out map[string]interface{}) {
	sv := reflect.ValueOf(s).Elem()
	maps, progs := []interface{}{}, []interface{}{}
	mv := sv.FieldByName("Maps")
	for i := 0; i < mv.NumField(); i++ {
		maps = append(maps, mapEntry(i, int32(mv.Field(i).FieldByName("MapFd").Int())))
	}
	pv := sv.FieldByName("Progs")
	for i := 0; i < pv.NumField(); i++ {
		progs = append(progs, progEntry(i, int32(pv.Field(i).FieldByName("ProgFd").Int())))
	}
	out["maps"], out["progs"] = maps, progs
	mapped := 0
	for i := 0; i < sv.NumField(); i++ {
		f := sv.Field(i)
		if f.Kind() == reflect.Ptr && sv.Type().Field(i).IsExported() && !f.IsNil() {
			mapped++
		}
	}
	out["mmapped"] = mapped
}

func main() {
	which, _ := strconv.Atoi(os.Args[1])
	before := fds()
	out := map[string]interface{}{"stage": "ok", "errno": 0}
	s, err := opens[which]()
	if err != nil {
		out["stage"] = "open"
	} else if err = s.Load(); err != nil {
		out["stage"] = "load"
	}
	if err != nil {
		errInfo(err, out)
	}
	if a, ok := s.(interface{ Attach() error }); ok && err == nil && os.Getenv("BPFSIGN_ATTACH") == "1" {
		if aerr := a.Attach(); aerr != nil {
			errInfo(aerr, out)
			out["stage"] = "attach"
		}
		links := 0
		lv := reflect.ValueOf(s).Elem().FieldByName("Links")
		for i := 0; i < lv.NumField(); i++ {
			if lv.Field(i).Int() > 0 {
				links++
			}
		}
		out["links"] = links
	}
	if s != nil {
		report(s, out)
		s.Close()
	}
	out["leaked_fds"] = fds() - before
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

export interface GoSkelReport {
  stage: string;
  errno: number;
  op?: string;
  error?: string;
  mmapped?: number;
  leaked_fds: number;
  /** With `attach`: links Attach left open (before Close). */
  links?: number;
  maps?: import('./harness.js').RunnerMap[];
  progs?: import('./harness.js').RunnerProg[];
}

/** Why Go skeletons cannot be built here, or null. */
export function goSkipReason(): string | null {
  if (!hasTool('go')) return 'go not installed (golang-go)';
  return null;
}

export interface GoSkeleton {
  pkg: string;
  fileName: string;
  text: string;
}

/**
 * Build each skeleton as its package and one main importing them all (one `go build`: GOPATH
 * mode, offline), then run it once per skeleton, in order.
 */
export function runGoSkeletons(
  tag: string,
  skels: GoSkeleton[],
  opts: { attach?: boolean } = {},
): (GoSkelReport | { stage: 'build'; reason: string })[] {
  const gopath = join(work(), 'gopath');
  const mdir = join(gopath, 'src', `${tag}_main`);
  mkdirSync(mdir, { recursive: true });
  for (const k of skels) {
    mkdirSync(join(gopath, 'src', k.pkg), { recursive: true });
    writeFileSync(join(gopath, 'src', k.pkg, k.fileName), k.text);
  }
  const imports = skels.map((k, i) => `\tp${i} ${JSON.stringify(k.pkg)}\n`).join('');
  const opens = skels
    .map(
      (_, i) =>
        `\tfunc() (skeleton, error) {\n\t\ts, err := p${i}.Open()\n\t\tif s == nil {\n\t\t\treturn nil, err\n\t\t}\n\t\treturn s, err\n\t},\n`,
    )
    .join('');
  writeFileSync(join(mdir, 'main.go'), MAIN.replace('IMPORTS', `\n${imports}`).replace('OPENS', opens));
  const exe = join(mdir, 'main');
  const env = {
    ...process.env,
    GOPATH: `${gopath}:/usr/share/gocode`,
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOCACHE: join(work(), 'gocache'),
    CGO_ENABLED: '0',
  };
  const b = spawnSync('go', ['build', '-o', exe, '.'], { cwd: mdir, env, encoding: 'utf8', timeout: 600_000 });
  if (b.status !== 0) {
    const reason = (b.stderr || String(b.error)).trim().split('\n').slice(0, 8).join('\n');
    return skels.map(() => ({ stage: 'build' as const, reason }));
  }
  return skels.map((_, i) => {
    const r = spawnSync(exe, [String(i)], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, BPFSIGN_ATTACH: opts.attach ? '1' : '0' },
    });
    if (r.status !== 0) return { stage: 'build' as const, reason: `exit ${r.status ?? r.signal}: ${r.stderr.slice(0, 2000)}` };
    return JSON.parse(r.stdout) as GoSkelReport;
  });
}
