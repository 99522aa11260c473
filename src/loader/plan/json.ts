/**
 * Plans as JSON (in loader.json and manifests: bytes as hex, bigints as decimal strings) and back.
 * planFromJson validates the shape it needs and rebuilds the byte fields, so a plan read from an
 * untrusted manifest can be compared with a replay; anything malformed is a typed error.
 */
import { LoaderError } from '../errors.js';
import type { MapCreateAttr, Plan, PlanOp, ProgLoadAttr } from './plan.js';

const bad = (path: string, msg: string) => new LoaderError('OBJECT_MALFORMED', `plan: ${path}: ${msg}`, { field: path });

function hex(v: unknown, path: string): Uint8Array {
  if (typeof v !== 'string' || v.length % 2 !== 0 || !/^[0-9a-f]*$/.test(v)) throw bad(path, 'want a hex string');
  return new Uint8Array(Buffer.from(v, 'hex'));
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, 'want an object');
  return v as Record<string, unknown>;
}

export function planFromJson(value: unknown): Plan {
  const p = obj(value, 'plan');
  if (!Array.isArray(p.ops) || !Array.isArray(p.maps) || !Array.isArray(p.programs))
    throw bad('plan', 'want ops, maps and programs arrays');
  const ops: PlanOp[] = p.ops.map((raw, i) => {
    const op = obj(raw, `ops[${i}]`);
    switch (op.op) {
      case 'btf_load':
        return { op: 'btf_load', btf: hex(op.btf, `ops[${i}].btf`) };
      case 'map_update':
        return { op: 'map_update', mapIndex: Number(op.mapIndex), value: hex(op.value, `ops[${i}].value`) };
      case 'map_create': {
        const attr = obj(op.attr, `ops[${i}].attr`);
        if (typeof attr.mapExtra !== 'string' || !/^\d+$/.test(attr.mapExtra))
          throw bad(`ops[${i}].attr.mapExtra`, 'want a decimal string');
        return { op: 'map_create', mapIndex: Number(op.mapIndex), attr: { ...attr, mapExtra: BigInt(attr.mapExtra) } as MapCreateAttr };
      }
      case 'prog_load': {
        const at = `ops[${i}].prog`;
        const prog = obj(op.prog, at);
        const bytes = {
          insns: hex(prog.insns, `${at}.insns`),
          funcInfo: hex(prog.funcInfo, `${at}.funcInfo`),
          lineInfo: hex(prog.lineInfo, `${at}.lineInfo`),
          coreRelos: hex(prog.coreRelos, `${at}.coreRelos`),
        };
        return { op: 'prog_load', loadIndex: Number(op.loadIndex), prog: { ...prog, ...bytes } as ProgLoadAttr };
      }
      case 'map_freeze':
      case 'populate_outer_map':
      case 'prog_array_update':
        return op as unknown as PlanOp;
      default:
        throw bad(`ops[${i}].op`, `unknown operation ${JSON.stringify(op.op)}`);
    }
  });
  return { ...(p as unknown as Plan), ops };
}
