/**
 * The two parts of a light skeleton that its text check cannot hold, because the emitter prints
 * them back as read — checked here against what the signed loader itself loads:
 *
 *   images        the `static const char data[]` initial images of the memory-mapped maps. A
 *                 loader that copies `initial_value` from its ctx after the hash check (libbpf
 *                 v1.7.0's) loads these bytes, not the signed ones. The loader is replayed with no
 *                 image in the ctx, so it fills each map from its own (signed) blob, and every
 *                 header image must be that map's contents after the load, byte for byte (a .bss
 *                 image, or one of a map the loader does not fill, must be zeros).
 *   declarations  the `struct NAME__IDENT { … } *IDENT;` members, their padding and the
 *                 `_Static_assert` sizes: the layout user space reads and writes the mapped
 *                 globals through. They are printed again from the BTF the loader hands to
 *                 BTF_LOAD (its bytes are in the blob, where the traced BTF_LOAD attr points), and
 *                 the header must be that text.
 *
 * Both need the kernel model's replay; without a profile the result says they were not checked.
 */
import { parseBtf, type Btf } from '../loader/btf/index.js';
import { firstDifference, type RereadLightSkeleton } from '../loader/gen/lskel-reread.js';
import { headerWithBtfVars } from '../loader/gen/lskel-btf.js';
import { datasecIdent } from '../loader/gen/lskel-object.js';
import { replay, type ReplayReport, type ReplayScheme } from '../kernel/replay/index.js';
import type { KernelProfile } from '../kernel/profile/index.js';

const BPF_F_MMAPABLE = 0x400;

export interface ContentsProblem {
  what: 'image' | 'declarations' | 'mapping';
  /** The map identifier the problem is in (declarations: the first differing line's map, when known). */
  map: string | null;
  message: string;
  /** image: first differing byte offset; declarations: header line. */
  offset?: number;
  line?: number;
  got?: string;
  want?: string;
}

export type HeaderContentsCheck =
  | { status: 'pass'; images: number; declarations: number; message: string }
  | { status: 'fail'; problems: ContentsProblem[]; message: string }
  /** Not compared (no profile, or the replay did not get far enough): `reason` says why. */
  | { status: 'unchecked'; reason: string; images: number; declarations: number; message: string };

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const cut = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * The BTF the loader hands to BTF_LOAD (the one its maps use when `btfId` names it; else the first
 * the kernel took, else the first it tried), read from its blob; null when it loads none. A
 * BTF_LOAD the model refused still names the bytes the signed loader loads.
 */
export function loadedBtf(
  report: ReplayReport,
  blob: Uint8Array,
  btfId?: number,
): { bytes: Uint8Array; btf: Btf; offset: number } | { error: string } | null {
  const tried = report.trace.filter((e) => e.op === 'BTF_LOAD' && e.caller === 'loader' && e.attr);
  if (!tried.length) return null;
  const took = (e: (typeof tried)[number]) => typeof e.result === 'number' && e.result >= 0;
  const pick = (btfId ? tried.find((e) => e.objectId === btfId) : undefined) ?? tried.find(took) ?? tried[0]!;
  const addr = pick.attr?.btf,
    size = pick.attr?.btf_size;
  if (typeof addr !== 'string' || typeof size !== 'number') return { error: 'the traced BTF_LOAD has no btf pointer or size' };
  // The kernel model's memory puts a region at (n + 0x100) << 32: the low 32 bits are the offset
  // into the loader's metadata map value, its blob, where libbpf's gen_loader keeps the bytes.
  const offset = Number(BigInt(addr) & 0xffffffffn);
  if (offset + size > blob.length)
    return { error: `the BTF_LOAD's bytes (offset ${offset}, ${size} bytes) are not inside the ${blob.length}-byte blob` };
  const bytes = blob.subarray(offset, offset + size);
  try {
    return { bytes, btf: parseBtf(bytes), offset };
  } catch (e) {
    return { error: `the blob's bytes at ${offset} (${size}) the loader loads as BTF do not parse: ${(e as Error).message}` };
  }
}

/** The first offset where two byte strings differ (the shorter's length when one is a prefix of the other), or -1. */
function firstByteDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export interface HeaderContentsOptions {
  scheme: ReplayScheme;
  profile: KernelProfile | null | undefined;
}

/**
 * Checks a read-back header's images and declarations against a replay of its loader with no
 * initial images in the ctx. `text` is the header's text (the declarations are compared by
 * printing it again with the loaded BTF's members).
 */
export function checkHeaderContents(reread: RereadLightSkeleton, text: string, opts: HeaderContentsOptions): HeaderContentsCheck {
  const { parsed: h, input } = reread;
  const mmaps = input.maps.map((m, i) => ({ m, i })).filter((x) => x.m.mmap !== null);
  const nImages = mmaps.length;
  const nDecls = mmaps.reduce((n, x) => n + x.m.mmap!.vars.length, 0);
  if (!opts.profile) {
    const reason = 'no kernel profile to replay the loader';
    return {
      status: 'unchecked',
      reason,
      images: nImages,
      declarations: nDecls,
      message: `initial images and variable declarations not checked: ${reason}`,
    };
  }
  const report = replay({ insns: h.insns, data: h.data }, opts.profile, {
    scheme: opts.scheme,
    nrMaps: h.maps.length,
    nrProgs: h.progs.length,
  });
  const problems: ContentsProblem[] = [];
  const unchecked: string[] = [];

  // Images: each mapped map's contents after the loader filled it from its blob. A replay that
  // stopped (a program the model refuses) closed the ctx's fds: its maps are then found by name,
  // once the loader got to its programs (libbpf's order: every map made and filled first).
  const byCtx = new Map(report.maps.filter((m) => m.ctxIndex !== null).map((m) => [m.ctxIndex!, m]));
  const mapsDone = report.ok || report.trace.some((e) => e.caller === 'loader' && e.op === 'PROG_LOAD');
  const byIdent = (ident: string) => {
    const found = report.maps.filter((km) => km.ctxIndex === null && kernelMapIdent(km.name) === ident);
    return found.length === 1 ? found[0] : undefined;
  };
  for (const { m, i } of mmaps) {
    const km = byCtx.get(i) ?? (!report.ok && mapsDone ? byIdent(m.ident) : undefined);
    if (!km) {
      if (report.ok) problems.push({ what: 'mapping', map: m.ident, message: `map ${m.ident}: the loader leaves no map in ctx slot ${i}` });
      else
        unchecked.push(
          `the image of map ${m.ident} (the replay stopped at ${report.stage}${mapsDone ? '' : ' before the maps were made'})`,
        );
      continue;
    }
    if (!(km.flags & BPF_F_MMAPABLE)) {
      problems.push({
        what: 'mapping',
        map: m.ident,
        message: `map ${m.ident}: the header maps it into memory, but the loader creates it without BPF_F_MMAPABLE`,
      });
      continue;
    }
    if (km.contents === null || km.maxEntries !== 1) {
      unchecked.push(`map ${m.ident} (${km.typeName}, ${km.maxEntries} entries: no single value to compare)`);
      continue;
    }
    const want = Buffer.from(km.contents, 'hex');
    const got = m.mmap!.initialValue;
    // The image is the map's value: value_size bytes (the loader copies value_size bytes from it).
    const at = firstByteDifference(got, want);
    if (at >= 0) {
      const lengths = got.length !== want.length ? ` (the image is ${got.length} bytes, the map's value ${want.length})` : '';
      problems.push({
        what: 'image',
        map: m.ident,
        offset: at,
        got: cut(hex(got.subarray(at, at + 16))),
        want: cut(hex(want.subarray(at, at + 16))),
        message: `map ${m.ident}: the initial image differs from the value the signed loader loads at offset ${at}${lengths}`,
      });
    }
  }
  // A mapped internal map the header does not map (bpftool maps every BPF_F_MMAPABLE one it names).
  for (const km of report.maps) {
    if (km.ctxIndex === null || !(km.flags & BPF_F_MMAPABLE)) continue;
    const m = input.maps[km.ctxIndex];
    if (m && !m.mmap && km.typeName === 'array' && /\.(data|rodata|bss|kconfig)/.test(km.name)) {
      problems.push({
        what: 'mapping',
        map: m.ident,
        message: `map ${m.ident}: the loader creates it BPF_F_MMAPABLE, but the header does not map it`,
      });
    }
  }

  // Declarations: printed again from the BTF the loader loads (the one its mapped maps use).
  if (mmaps.length) {
    const btfIds = new Set(mmaps.map(({ i, m }) => (byCtx.get(i) ?? byIdent(m.ident))?.btfId ?? 0).filter((id) => id > 0));
    const found = loadedBtf(report, h.data, btfIds.size === 1 ? [...btfIds][0] : undefined);
    if (found === null) {
      // No BTF (libbpf loads it first of all): the skeleton of an object without BTF declares no members.
      if (!nDecls) {
        /* nothing to compare */
      } else if (report.ok || mapsDone)
        problems.push({ what: 'declarations', map: null, message: 'the header declares variables, but the loader loads no BTF' });
      else unchecked.push(`declarations (the replay stopped at ${report.stage} before any BTF_LOAD)`);
    } else if ('error' in found) {
      if (report.ok) problems.push({ what: 'declarations', map: null, message: found.error });
      else unchecked.push(`declarations (${found.error}; the replay stopped at ${report.stage})`);
    } else {
      let want: string | null = null;
      try {
        want = headerWithBtfVars(input, reread.options, found.btf);
      } catch (e) {
        problems.push({
          what: 'declarations',
          map: null,
          message: `the loaded BTF's declarations cannot be printed: ${(e as Error).message}`,
        });
      }
      const d = want === null ? null : firstDifference(text, want);
      if (d) {
        problems.push({
          what: 'declarations',
          map: mapOfLine(text, d.line, h.name),
          line: d.line,
          got: d.got,
          want: d.want,
          message: `line ${d.line} is not the declaration the loaded BTF gives`,
        });
      }
    }
  }

  if (problems.length) return { status: 'fail', problems, message: problems.map((p) => p.message).join('; ') };
  const summary = `${nImages} initial image${nImages === 1 ? '' : 's'} and ${nDecls} variable declaration${nDecls === 1 ? '' : 's'}`;
  if (unchecked.length) {
    const reason = `not compared: ${unchecked.join(', ')}`;
    return { status: 'unchecked', reason, images: nImages, declarations: nDecls, message: `${summary}: ${reason}` };
  }
  return { status: 'pass', images: nImages, declarations: nDecls, message: `${summary} are the signed loader's` };
}

/** bpftool's identifier of an internal map from its kernel name (`obj.data.x` → `data_x`), or null. */
function kernelMapIdent(name: string): string | null {
  const dot = name.indexOf('.');
  return dot < 0 ? null : datasecIdent(name.slice(dot));
}

/** The datasec struct (map identifier) a header line falls in, or null. */
function mapOfLine(text: string, line: number, name: string): string | null {
  const lines = text.split('\n');
  const open = new RegExp(`^\\tstruct ${name}__([A-Za-z_][A-Za-z0-9_]*) \\{$`);
  const assert = /^\t_Static_assert\(sizeof\(s->([A-Za-z_][A-Za-z0-9_]*)->/.exec(lines[line - 1] ?? '');
  if (assert) return assert[1];
  for (let i = line - 1; i >= 0; i--) {
    const l = lines[i]!;
    const m = open.exec(l);
    if (m) return m[1]!;
    if (i < line - 1 && /^\t\} \*/.test(l)) return null;
  }
  return null;
}
