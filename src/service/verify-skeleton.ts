/**
 * The Go and Rust light skeletons of a gen directory (`NAME.lskel.go`, `NAME.rs`) held to the
 * signed bundle as strictly as the C header: the file must be, byte for byte, what the emitter
 * prints for this bundle's loader, signature, excl_prog_hash and initial images. Without the
 * object the emitter's input is made again from what was signed (lskel-plan.ts):
 *
 *   loader, signature     the bundle's instructions, blob and PKCS#7 signature; excl_prog_hash is
 *                         the SHA-256 of the instructions
 *   maps, images          the signed plan's maps and map_update values
 *   variables             the DATASEC members of the BTF the loader loads: the plan's btf_load
 *                         bytes, which must lie in the loader's blob
 *   programs, attaches    the manifest's object summary (sections, program and expected attach
 *                         types) when the bundle is signed; an unsigned directory's loader.json
 *                         has no summary, so a loaded program's attach kind is the plan's and
 *                         only a raw tracepoint's target (and how an unloaded program attaches)
 *                         is read from the file itself — the comparison still decides
 *
 * The first line that differs is reported (line number, got, want). With the object, the file
 * must be gen's own bytes (skeletonFile).
 */
import { sha256 as sha256Bytes } from '../shared/bytes.js';
import { parseBtf, type Btf } from '../loader/btf/index.js';
import { goExport } from '../loader/gen/go.js';
import { emitSkeleton, type SkeletonLang } from '../loader/gen/lang.js';
import { attachFor, type LightSkeletonInput, type LskelAttach, type LskelFlavour } from '../loader/gen/lskel.js';
import { attachOfLoad, lskelInputFromPlan, planBtf } from '../loader/gen/lskel-plan.js';
import { firstDifference } from '../loader/gen/lskel-reread.js';
import type { Plan, ProgLoadAttr } from '../loader/plan/index.js';

/** The skeleton file names a gen directory may hold for skeleton NAME, by language. */
export function skeletonFileNames(name: string): { lang: SkeletonLang; file: string }[] {
  return [
    { lang: 'c', file: `${name}.lskel.h` },
    { lang: 'go', file: `${name}.lskel.go` },
    { lang: 'rust', file: `${name}.rs` },
  ];
}

const LANG_NAME: Record<SkeletonLang, string> = { c: 'C', go: 'Go', rust: 'Rust' };
const dec = new TextDecoder('utf-8', { fatal: false });
const enc = new TextEncoder();

/** What the bundle says the skeleton is made from. */
export interface SkeletonSource {
  name: string;
  plan: Plan;
  flavour: LskelFlavour;
  insns: Uint8Array;
  data: Uint8Array;
  signature: Uint8Array | null;
  /** The signed manifest's object summary programs (section, types), when there is one. */
  programs: { name: string; section: string; type: string | null; expectedAttachType: string | null }[] | null;
}

export type SkeletonProblem = { message: string; details?: Record<string, unknown> } | null;

/** The BTF the loader loads: the plan's btf_load bytes, found in the loader's blob. */
function loadedBtf(plan: Plan, data: Uint8Array): Btf | null {
  const want = planBtf(plan);
  if (!want) return null;
  const at = Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(Buffer.from(want.buffer, want.byteOffset, want.byteLength));
  if (at < 0) throw new Error(`the loader's blob does not hold the signed plan's BTF (${want.length} bytes)`);
  return parseBtf(data.subarray(at, at + want.length));
}

/**
 * How a Go skeleton attaches `prog`, read from the call its text makes with the program's fd (the
 * target is a JSON string literal, which Go reads the same), or null.
 */
function goTarget(text: string, prog: string): LskelAttach | null {
  const fd = `s.Progs.${goExport(prog)}.ProgFd`;
  const at = text.indexOf(`, ${fd})`);
  const rt = at < 0 ? null : /rawTracepointOpen\(("(?:[^"\\\n]|\\.)*")$/.exec(text.slice(Math.max(0, text.lastIndexOf('\n', at) + 1), at));
  if (rt) {
    try {
      return { kind: 'raw_tracepoint', target: JSON.parse(rt[1]) as string };
    } catch {
      return null;
    }
  }
  return text.includes(`linkCreate(${fd}, bpfTraceIter)`) ? { kind: 'iter' } : null;
}

/** How `<prog>__attach` attaches in a Rust skeleton's text, or null (no attach function read). */
function rustTarget(text: string, prog: string): LskelAttach | null {
  const head = `    pub fn ${prog}__attach(&mut self) -> Result<(), Error> {\n`;
  const at = text.indexOf(head);
  if (at < 0) return null;
  const body = text.slice(at + head.length, text.indexOf('\n    }\n', at + head.length));
  const rt = /let fd = raw_tracepoint_open\(Some\(b"((?:[^"\\]|\\x[0-9a-f]{2})*)\\0"\), prog_fd\)\?;/.exec(body);
  if (rt) {
    const bytes = Buffer.from(
      rt[1].replace(/\\x([0-9a-f]{2})|[^]/g, (m: string, h?: string) => (h ? String.fromCharCode(parseInt(h, 16)) : m)),
      'latin1',
    );
    return { kind: 'raw_tracepoint', target: bytes.toString('utf8') };
  }
  if (body.includes('let fd = link_create(prog_fd, BPF_TRACE_ITER)?;')) return { kind: 'iter' };
  if (body.includes('let fd = raw_tracepoint_open(None, prog_fd)?;')) return { kind: 'tracing' };
  return { kind: 'none' };
}

/** Each program's attach: the signed summary's, else the plan's kind with the target read from `text`. */
function attaches(
  src: SkeletonSource,
  lang: 'go' | 'rust',
  text: string,
): (p: { name: string; index: number; load: ProgLoadAttr | null }) => LskelAttach {
  const summary = src.programs;
  if (summary) {
    const names = src.plan.programs.map((p) => p.name);
    if (summary.length !== names.length || summary.some((p, i) => p.name !== names[i])) {
      throw new Error(
        `the manifest's object summary lists programs ${summary.map((p) => p.name).join(', ') || '(none)'}, the plan ${names.join(', ') || '(none)'}`,
      );
    }
    return ({ index }) => attachFor(summary[index].type, summary[index].expectedAttachType, summary[index].section);
  }
  return ({ name, load }) => {
    const read = (lang === 'go' ? goTarget(text, name) : rustTarget(text, name)) ?? { kind: 'none' };
    if (!load) return read;
    const target = read.kind === 'raw_tracepoint' ? read.target : '';
    return attachOfLoad(load, `raw_tp/${target}`);
  };
}

/** The skeleton input the bundle gives, for a Go or Rust file's text. */
export function skeletonInputFor(src: SkeletonSource, lang: 'go' | 'rust', text: string): LightSkeletonInput {
  return lskelInputFromPlan(src.plan, {
    name: src.name,
    loader: { insns: src.insns, data: src.data },
    ...(src.signature ? { signature: { sig: src.signature, exclHash: sha256Bytes(src.insns) } } : {}),
    btf: loadedBtf(src.plan, src.data),
    flavour: src.flavour,
    attach: attaches(src, lang, text),
  });
}

/**
 * Whether a Go or Rust skeleton's bytes are what the emitter prints for the bundle: null when they
 * are, else the first differing line. `exact` (gen's own text, when the object was given)
 * replaces the regeneration.
 */
export function checkSkeletonText(lang: 'go' | 'rust', got: Uint8Array, src: SkeletonSource | null, exact: string | null): SkeletonProblem {
  const what = `the ${LANG_NAME[lang]} light skeleton`;
  const text = dec.decode(got);
  let want: string;
  if (exact !== null) {
    want = exact;
  } else {
    if (!src) return { message: `nothing to hold ${what} to: the bundle has no plan` };
    try {
      want = emitSkeleton(lang, skeletonInputFor(src, lang, text), { flavour: 'v1.7' }).text;
    } catch (e) {
      return { message: `${what} of this bundle cannot be printed again: ${(e as Error).message}` };
    }
  }
  const wantBytes = enc.encode(want);
  if (got.length === wantBytes.length && Buffer.compare(got, wantBytes) === 0) return null;
  const of = exact !== null ? 'gen writes for this object' : "this bundle's loader, signature and plan print";
  const d = firstDifference(text, want);
  if (!d) {
    // Equal as text, not as bytes: bytes that are not UTF-8.
    let i = 0;
    while (got[i] === wantBytes[i]) i++;
    return { message: `byte ${i} differs from ${what} ${of} (not UTF-8)`, details: { offset: i } };
  }
  return { message: `line ${d.line} differs from ${what} ${of}`, details: d };
}
