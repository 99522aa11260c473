/**
 * What ships beside a bundle: a `bpfsign gen` directory holds the loader's files, its signature
 * and manifest, loader.json, each map's initial image and the light-skeleton header people
 * compile. Every one of them is held to the signed bundle here; a missing, extra or different
 * file is named. The bundle itself (signature, chain, manifest, log, replay) is the verifier's.
 *
 * What each file must be:
 *   insns.bin, data.bin      the bundle's loader, byte for byte
 *   signature.p7s            the bundle's signature (signed bundles only)
 *   manifest.json            the signed statement's predicate, RFC 8785 bytes and a newline
 *   loader.json              the signed plan, options and object, the loader's digests and the ctx
 *                            layout of the loader that plan generates (equal as canonical JSON,
 *                            written as gen writes it); with the object, gen's own bytes
 *   init.N.bin               the plan's initial value of map N, for exactly the maps it fills
 *   NAME.lskel.h             printed again from its own reading (every line of C is the
 *                            emitter's), embedding this loader, signature, excl_prog_hash and
 *                            initial images; with the object, gen's own bytes
 *   NAME.lskel.go, NAME.rs   (gen --lang go|rust, in place of the header) printed again from the
 *                            signed loader, signature and plan, the variables from the BTF in
 *                            the loader's blob (verify-skeleton.ts); with the object, gen's own bytes
 * A directory holds exactly one light skeleton: a second one is refused.
 */
import { sha256 as sha256Bytes, sha256Hex } from '../shared/bytes.js';
import { jsonReplacer } from '../shared/json.js';
import { generateLoader } from '../loader/gen/index.js';
import { checkLightSkeletonText, firstDifference } from '../loader/gen/lskel-reread.js';
import { planFromJson, type Plan } from '../loader/plan/index.js';
import { canonicalBytes, type JsonValue } from '../signing/canonical.js';
import { fromB64, type Bundle } from '../signing/bundle.js';
import { signedHeader, skeletonFile, type BuiltLoader } from './loader.js';
import { checkSkeletonText, skeletonFileNames, type SkeletonSource } from './verify-skeleton.js';

export interface FileProblem {
  file: string;
  problem: 'missing' | 'extra' | 'different';
  message: string;
  details?: Record<string, unknown>;
}

export interface FilesCheck {
  ok: boolean;
  /** Files compared and found as they must be. */
  checked: string[];
  problems: FileProblem[];
}

/** The plain predicate of a bundle's manifest envelope, or null (no manifest, or not readable). */
export function manifestPredicate(bundle: Bundle): Record<string, unknown> | null {
  if (!bundle.manifest) return null;
  try {
    const st = JSON.parse(Buffer.from(bundle.manifest.payload, 'base64').toString('utf8')) as { predicate?: unknown };
    return typeof st.predicate === 'object' && st.predicate !== null && !Array.isArray(st.predicate)
      ? (st.predicate as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const dec = new TextDecoder('utf-8', { fatal: false });
const enc = new TextEncoder();

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** Where two byte strings first differ, for a message a person can act on. */
function byteDifference(got: Uint8Array, want: Uint8Array): Record<string, unknown> {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return { offset: i, got: { size: got.length, sha256: sha256Hex(got) }, want: { size: want.length, sha256: sha256Hex(want) } };
}

interface Expectation {
  /** Exact bytes, or a checker returning a problem message (null when the file is right). */
  bytes?: Uint8Array;
  check?: (got: Uint8Array) => { message: string; details?: Record<string, unknown> } | null;
  /** Refused whatever it holds (a second light skeleton): an extra file, for this reason. */
  refuse?: string;
  /** Named in the message when missing. */
  missing?: string;
}

/** loader.json as gen writes it for a loader: regenerated from the signed plan (no object at hand). */
function expectedLoaderJson(
  predicate: Record<string, unknown>,
  bundle: Bundle,
): { value: Record<string, unknown>; inits: Map<number, Uint8Array>; plan: Plan } {
  const plan = planFromJson(predicate.plan);
  const options = predicate.options as { flavour?: string; compat?: string; kernel?: { mapExcl?: boolean } };
  const scheme = bundle.scheme;
  // gen's libbpf-1.7 flavour generates libbpf v1.7.0's own loader (service/loader.ts).
  const libbpf = options?.flavour === 'libbpf-1.7' || options?.compat === 'libbpf-1.7.0';
  const loader = generateLoader(plan, {
    scheme,
    kernel: { mapExcl: options?.kernel?.mapExcl === true },
    ...(libbpf ? { compat: 'libbpf-1.7.0' as const } : {}),
  });
  const inits = new Map<number, Uint8Array>();
  for (const op of plan.ops) if (op.op === 'map_update') inits.set(op.mapIndex, op.value);
  const o = predicate.object as { file: string; name: string; sha256: string; size: number };
  const value = {
    generator: predicate.generator,
    object: { file: o.file, name: o.name, sha256: o.sha256, size: o.size },
    scheme,
    options: predicate.options,
    digests: {
      insns: { sha256: sha256Hex(loader.insns), size: loader.insns.length },
      data: { sha256: sha256Hex(loader.data), size: loader.data.length },
    },
    ctx: {
      size: loader.ctxLayout.size,
      maps: loader.ctxLayout.maps.map((m, i) => ({ index: i, ...m, ...(inits.has(i) ? { init: `init.${i}.bin` } : {}) })),
      progs: loader.ctxLayout.progs.map((p, i) => ({ index: i, ...p })),
    },
    plan: predicate.plan,
  };
  return { value, inits, plan };
}

function canonicalOf(value: unknown): string {
  return dec.decode(canonicalBytes(JSON.parse(JSON.stringify(value, jsonReplacer)) as JsonValue));
}

/** A JSON file equal to `want` as canonical JSON, and written as gen writes JSON (2-space indent, final newline). */
function jsonChecker(want: unknown): Expectation['check'] {
  const wantText = canonicalOf(want);
  return (got) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(dec.decode(got));
    } catch (e) {
      return { message: `not JSON: ${(e as Error).message}` };
    }
    if (dec.decode(got) !== `${JSON.stringify(parsed, null, 2)}\n`)
      return { message: 'not written as gen writes JSON (2-space indent, one final newline)' };
    const gotText = canonicalOf(parsed);
    if (gotText === wantText) return null;
    const d = firstDifference(gotText.replace(/,/g, ',\n'), wantText.replace(/,/g, ',\n'));
    return { message: "its content differs from the signed manifest's", details: d ? { got: d.got, want: d.want } : {} };
  };
}

function headerChecker(name: string, bundle: Bundle, inits: Map<number, Uint8Array> | null, exact: string | null): Expectation['check'] {
  const insns = fromB64(bundle.loader.insns);
  const data = fromB64(bundle.loader.data);
  const signature = bundle.signature ? fromB64(bundle.signature) : null;
  return (got) => {
    const text = dec.decode(got);
    if (exact !== null) {
      const d = firstDifference(text, exact);
      return d ? { message: `line ${d.line} differs from the header gen writes for this object`, details: d } : null;
    }
    const r = checkLightSkeletonText(text);
    if (!r.ok) return { message: r.message, details: { line: r.line, got: r.got, want: r.want } };
    const p = r.reread.parsed;
    if (p.name !== name)
      return { message: `the skeleton is named ${p.name}, the manifest's object ${name}`, details: { got: p.name, want: name } };
    if (!same(p.insns, insns))
      return { message: "its loader instructions (opts_insn) are not the signed loader's", details: byteDifference(p.insns, insns) };
    if (!same(p.data, data))
      return { message: "its loader metadata (opts_data) is not the signed loader's", details: byteDifference(p.data, data) };
    if (signature === null) {
      if (p.signature) return { message: 'it embeds a signature (opts_sig) but the bundle is unsigned' };
    } else if (p.signature || r.reread.options.flavour === 'v1.7') {
      if (!p.signature) return { message: 'it embeds no signature (opts_sig) but the bundle is signed' };
      if (!same(p.signature, signature))
        return { message: "its signature (opts_sig) is not the bundle's", details: byteDifference(p.signature, signature) };
      if (!p.exclProgHash || !same(p.exclProgHash, sha256Bytes(insns)))
        return { message: 'its opts_excl_hash is not the SHA-256 of the loader instructions' };
    }
    if (inits) {
      for (const [index, image] of p.initialValues) {
        const want = inits.get(index);
        // An image the plan does not fill (.bss) must be zeros.
        const ok = want ? same(image, want) : image.every((b) => b === 0);
        if (!ok)
          return {
            message: `the initial image of map ${p.maps[index]} (index ${index}) is not the signed plan's`,
            details: byteDifference(image, want ?? new Uint8Array(image.length)),
          };
      }
    }
    return null;
  };
}

/**
 * The light skeleton's expectation: exactly one of NAME.lskel.h, NAME.lskel.go and NAME.rs (the
 * header when there is none), held to the bundle as its language's checker says.
 */
function skeletonExpectations(
  expect: Map<string, Expectation>,
  files: ReadonlyMap<string, Uint8Array>,
  name: string,
  bundle: Bundle,
  built: BuiltLoader | null,
  inits: Map<number, Uint8Array> | null,
  source: SkeletonSource | null,
): void {
  const names = skeletonFileNames(name);
  const present = names.filter((s) => files.has(s.file));
  if (present.length > 1) {
    const all = present.map((s) => s.file).join(', ');
    for (const s of present)
      expect.set(s.file, { refuse: `a gen directory holds one light skeleton, this one holds ${present.length} (${all})` });
    return;
  }
  const { lang, file } = present[0] ?? names[0];
  const signature = bundle.signature ? fromB64(bundle.signature) : null;
  if (lang === 'c') {
    const exact = built ? (signature && built.headerOptions.flavour === 'v1.7' ? signedHeader(built, signature) : built.header) : null;
    expect.set(file, {
      check: headerChecker(name, bundle, inits, exact),
      missing: `(a gen directory holds one light skeleton: ${names.map((s) => s.file).join(', ')})`,
    });
    return;
  }
  let exact: string | null = null;
  if (built) {
    try {
      exact = skeletonFile(built, lang, signature).text;
    } catch (e) {
      expect.set(file, { check: () => ({ message: `gen writes no ${lang} skeleton for this object: ${(e as Error).message}` }) });
      return;
    }
  }
  expect.set(file, { check: (got) => checkSkeletonText(lang, got, source, exact) });
}

/**
 * Holds a gen directory's files (name → bytes) to its bundle. `built`, when the object was given
 * and the loader re-derived from it, makes loader.json and the header exact byte comparisons.
 */
export function checkBundleFiles(files: ReadonlyMap<string, Uint8Array>, bundle: Bundle, built?: BuiltLoader | null): FilesCheck {
  const expect = new Map<string, Expectation>();
  const predicate = manifestPredicate(bundle);
  const signed = bundle.signature !== null;
  expect.set('bundle.json', { check: () => null });
  expect.set('insns.bin', { bytes: fromB64(bundle.loader.insns) });
  expect.set('data.bin', { bytes: fromB64(bundle.loader.data) });
  if (signed) expect.set('signature.p7s', { bytes: fromB64(bundle.signature!) });
  if (predicate)
    expect.set('manifest.json', { bytes: new Uint8Array(Buffer.concat([canonicalBytes(predicate as JsonValue), enc.encode('\n')])) });

  let inits: Map<number, Uint8Array> | null = null;
  let name: string | null = null;
  let source: Omit<SkeletonSource, 'name'> | null = null;
  const sourceOf = (plan: Plan, l: Record<string, unknown>, summary: unknown): Omit<SkeletonSource, 'name'> => ({
    plan,
    flavour: (l.options as { flavour?: string } | undefined)?.flavour === 'bpftool-7.1' ? 'bpftool-7.1' : 'v1.7',
    insns: fromB64(bundle.loader.insns),
    data: fromB64(bundle.loader.data),
    signature: signed ? fromB64(bundle.signature!) : null,
    programs: Array.isArray((summary as { programs?: unknown } | undefined)?.programs)
      ? (summary as { programs: SkeletonSource['programs'] }).programs
      : null,
  });
  if (built) {
    inits = built.inits;
    name = built.name;
    expect.set('loader.json', { bytes: enc.encode(`${JSON.stringify(built.manifest, jsonReplacer, 2)}\n`) });
  } else if (predicate) {
    name = (predicate.object as { name?: string } | undefined)?.name ?? null;
    try {
      const l = expectedLoaderJson(predicate, bundle);
      inits = l.inits;
      source = sourceOf(l.plan, predicate, (predicate.object as { summary?: unknown } | undefined)?.summary);
      expect.set('loader.json', { check: jsonChecker(l.value) });
    } catch (e) {
      expect.set('loader.json', { check: () => ({ message: `the signed plan does not generate a loader: ${(e as Error).message}` }) });
    }
  } else {
    // An unsigned bundle has no manifest: loader.json says what it is, and is held to the loader.
    const own = files.get('loader.json');
    try {
      const l = own ? (JSON.parse(dec.decode(own)) as Record<string, unknown>) : null;
      if (l) {
        name = (l.object as { name?: string } | undefined)?.name ?? null;
        const again = expectedLoaderJson({ ...l, object: l.object }, bundle);
        inits = again.inits;
        source = sourceOf(again.plan, l, null);
        expect.set('loader.json', { check: jsonChecker({ ...again.value, options: l.options, generator: l.generator }) });
      } else {
        expect.set('loader.json', {});
      }
    } catch (e) {
      expect.set('loader.json', { check: () => ({ message: `does not describe this loader: ${(e as Error).message}` }) });
    }
  }
  if (inits) for (const [i, v] of inits) expect.set(`init.${i}.bin`, { bytes: v });
  if (name !== null) skeletonExpectations(expect, files, name, bundle, built ?? null, inits, source && { ...source, name });

  const checked: string[] = [];
  const problems: FileProblem[] = [];
  for (const [file, e] of expect) {
    const got = files.get(file);
    if (e.refuse) {
      problems.push({ file, problem: 'extra', message: `${file}: ${e.refuse}` });
      continue;
    }
    if (got === undefined) {
      problems.push({ file, problem: 'missing', message: `${file} is missing${e.missing ? ` ${e.missing}` : ''}` });
      continue;
    }
    if (e.bytes && !same(got, e.bytes)) {
      problems.push({ file, problem: 'different', message: `${file} is not the signed bundle's`, details: byteDifference(got, e.bytes) });
      continue;
    }
    const bad = e.check?.(got) ?? null;
    if (bad) {
      problems.push({ file, problem: 'different', message: `${file}: ${bad.message}`, ...(bad.details ? { details: bad.details } : {}) });
      continue;
    }
    if (!e.bytes && !e.check) {
      problems.push({ file, problem: 'different', message: `${file}: nothing to hold it to` });
      continue;
    }
    checked.push(file);
  }
  for (const file of [...files.keys()].sort()) {
    if (!expect.has(file)) problems.push({ file, problem: 'extra', message: `${file} is not part of this bundle` });
  }
  return { ok: problems.length === 0, checked, problems };
}
