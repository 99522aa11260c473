/**
 * generateLoader: lays out a plan as libbpf v1.7.0 gen_loader would — loader instructions plus
 * the data blob — for one of three schemes:
 *  - 'unsigned': bpftool gen skeleton -L;
 *  - 'linux-6.18': signed loader that checks the frozen metadata map's SHA-256 itself
 *    (libbpf gen_hash, with the post-v1.7.0 fixes: branches land on the cleanup label, no ctx
 *    max_entries / initial_value reads; optional map->excl check);
 *  - 'linux-load-time': signed loader for kernels that verify the metadata at PROG_LOAD
 *    (no in-loader check, no ctx overrides).
 */
import { createHash } from 'node:crypto';
import { LoaderError } from '../errors.js';
import { ctxOffsets } from '../uapi/index.js';
import { Emitter } from './emitter.js';
import { Recorder } from './recorders.js';
function sha256(b) {
    return new Uint8Array(createHash('sha256').update(b).digest());
}
export function generateLoader(plan, opts) {
    const scheme = opts.scheme;
    if (scheme !== 'unsigned' && scheme !== 'linux-6.18' && scheme !== 'linux-load-time') {
        throw new LoaderError('OBJECT_UNSUPPORTED', `gen: unknown scheme '${String(scheme)}'`, { field: 'scheme', got: scheme });
    }
    const e = new Emitter(plan.byteOrder);
    const r = new Recorder(e, { overrides: scheme === 'unsigned', stackSize: plan.stackSize });
    r.init(plan.nrPrograms, plan.nrMaps);
    const hashInsns = scheme === 'linux-6.18' ? r.signatureMatch(opts.kernel?.mapExcl ?? false) : [];
    for (const op of plan.ops) {
        switch (op.op) {
            case 'btf_load':
                r.loadBtf(op.btf);
                break;
            case 'map_create':
                r.mapCreate(op.attr, op.mapIndex);
                break;
            case 'map_update':
                r.mapUpdateElem(op.mapIndex, op.value);
                break;
            case 'map_freeze':
                r.mapFreeze(op.mapIndex);
                break;
            case 'populate_outer_map':
                r.populateOuterMap(op.outerIndex, op.slot, op.innerIndex);
                break;
            case 'prog_load':
                r.progLoad(op.prog);
                break;
            case 'prog_array_update':
                r.progArrayUpdate(op.mapIndex, op.slot, op.loadIndex);
                break;
        }
    }
    r.finish(plan.nrMaps);
    const data = e.data();
    const dataHash = sha256(data);
    if (hashInsns.length) {
        const dv = new DataView(dataHash.buffer, dataHash.byteOffset, dataHash.byteLength);
        const le = plan.byteOrder === 'le';
        hashInsns.forEach((at, i) => {
            const w = dv.getBigUint64(8 * i, le);
            e.insns[at].imm = Number(BigInt.asIntN(32, w & 0xffffffffn));
            e.insns[at + 1].imm = Number(BigInt.asIntN(32, w >> 32n));
        });
    }
    const insns = e.encode();
    const progs = plan.programs.map((p, j) => ({ name: p.name, offset: ctxOffsets.progFd(plan.nrMaps, j) }));
    return {
        scheme,
        insns,
        data,
        ctxLayout: {
            size: ctxOffsets.size(plan.nrMaps, plan.programs.length),
            maps: plan.maps.map((m) => ({ name: m.name, ident: m.ident, offset: ctxOffsets.mapDesc(m.index) })),
            progs,
        },
        dataHash,
        insnsHash: sha256(insns),
        hashInsns,
    };
}
//# sourceMappingURL=generate.js.map