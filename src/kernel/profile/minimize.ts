/**
 * minimizeBtf: a small BTF holding the given root types and what they need.
 * Types reached by value (members, array elements, typedef targets, function
 * prototypes, variables) are kept whole; a struct or union reached only
 * through a pointer becomes a "shell" (same name, kind and size, no
 * members), which is all CO-RE field matching, type matching behind
 * pointers and attach-target prototypes look at. DECL_TAG and DATASEC are
 * dropped. Types keep their relative order.
 */
import { type Btf, type BtfType, BtfBuilder } from '../../loader/btf/index.js';

export interface MinimizeResult {
  bytes: Uint8Array;
  /** Old id → new id of every kept type. */
  ids: Map<number, number>;
  full: number;
  shells: number;
}

function refs(t: BtfType): number[] {
  switch (t.kind) {
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
    case 'FUNC':
    case 'VAR':
      return [t.type];
    case 'ARRAY':
      return [t.elemType, t.indexType];
    case 'STRUCT':
    case 'UNION':
      return t.members.map((m) => m.type);
    case 'FUNC_PROTO':
      return [t.type, ...t.params.map((p) => p.type)];
    default:
      return [];
  }
}

export function minimizeBtf(btf: Btf, roots: Iterable<number>): MinimizeResult {
  const full = new Set<number>();
  const shell = new Set<number>();
  const seen = [new Set<number>(), new Set<number>()];
  const work: { id: number; behindPtr: boolean }[] = [...roots].map((id) => ({ id, behindPtr: false }));
  while (work.length > 0) {
    const { id, behindPtr } = work.pop() as { id: number; behindPtr: boolean };
    const mode = behindPtr ? 1 : 0;
    if (id === 0 || seen[mode].has(id)) continue;
    seen[mode].add(id);
    const kind = btf.kind(id);
    if (kind === 'DECL_TAG' || kind === 'DATASEC') continue;
    const composite = kind === 'STRUCT' || kind === 'UNION';
    if (composite && behindPtr) {
      if (!full.has(id)) shell.add(id);
      continue;
    }
    full.add(id);
    shell.delete(id);
    const t = btf.type(id);
    // Members of a kept struct are by value; a pointer puts its target behind a pointer.
    const childMode = t.kind === 'PTR' ? true : composite ? false : behindPtr;
    for (const r of refs(t)) if (r !== 0) work.push({ id: r, behindPtr: childMode });
  }
  const kept = [...new Set([...full, ...shell])].sort((a, b) => a - b);
  const ids = new Map<number, number>();
  kept.forEach((id, i) => ids.set(id, i + 1));
  const b = new BtfBuilder();
  for (const id of kept) {
    const t = btf.type(id);
    if (shell.has(id) && (t.kind === 'STRUCT' || t.kind === 'UNION')) {
      b.add({ kind: t.kind, name: t.name, size: t.size, members: [] });
    } else {
      b.addCopy(t, (x) => (x === 0 ? 0 : (ids.get(x) ?? 0)));
    }
  }
  return { bytes: b.toBytes({ byteOrder: btf.byteOrder }), ids, full: full.size, shells: shell.size };
}
