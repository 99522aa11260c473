/** ReplayReport: what a loader did in the model — syscalls, return value, resulting maps and programs. */
import { createHash } from 'node:crypto';
import { ATTACH_TYPE_NAME, MAP_TYPE_NAME, PROG_TYPE_NAME } from '../../loader/uapi/index.js';
import { ARRAY_LIKE, elemSize } from '../bpf/maps.js';
const hex = (b) => Buffer.from(b).toString('hex');
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
export function reportMap(m, ctxIndex, fd) {
    let contents = null;
    let hash = null;
    if (ARRAY_LIKE.has(m.type) && m.values) {
        const stride = elemSize(m.valueSize);
        if (m.valueSize * m.maxEntries <= 1 << 20) {
            const out = new Uint8Array(m.valueSize * m.maxEntries);
            for (let i = 0; i < m.maxEntries; i++)
                out.set(m.values.bytes.subarray(i * stride, i * stride + m.valueSize), i * m.valueSize);
            contents = hex(out);
        }
        hash = sha256(m.values.bytes);
    }
    return {
        id: m.id, ctxIndex, fd, name: m.name, type: m.type, typeName: MAP_TYPE_NAME[m.type] ?? String(m.type), keySize: m.keySize,
        valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, numaNode: m.numaNode, mapExtra: m.mapExtra.toString(),
        btfId: m.btf?.id ?? 0, btfKeyTypeId: m.btfKeyTypeId, btfValueTypeId: m.btfValueTypeId, btfVmlinuxValueTypeId: m.btfVmlinuxValueTypeId,
        innerMap: m.innerMeta ? { ...m.innerMeta } : null, frozen: m.frozen, exclusive: m.exclProgHash !== null, contents, hash,
        entries: m.refs.size ? [] : [...m.entries].map(([key, v]) => ({ key, value: hex(v) })),
        slots: [...m.refs].map(([key, o]) => ({ key, kind: o.kind, id: o.id })),
    };
}
export function reportProg(p, ctxIndex, fd) {
    return {
        id: p.id, ctxIndex, fd, name: p.name, type: p.type, typeName: PROG_TYPE_NAME[p.type] ?? String(p.type),
        expectedAttachType: p.expectedAttachType, expectedAttachTypeName: ATTACH_TYPE_NAME[p.expectedAttachType] ?? String(p.expectedAttachType),
        attachBtfId: p.attachBtfId, attachTarget: p.attachTarget, attachModule: p.attachBtfObj?.kernelName ?? null, license: p.license,
        gpl: p.gpl, flags: p.flags, insnCnt: p.insns.length / 8, insns: hex(p.insns), sha256: sha256(p.insns), tag: hex(p.tag),
        digest: hex(p.digest), maps: p.loads.map((l) => ({ insn: l.insn, pseudo: l.pseudo, mapId: l.map.id, mapName: l.map.name, offset: l.offset })),
        kfuncs: p.kfuncs.map((k) => ({ ...k })), helpers: [...p.helpers], funcInfoCnt: p.funcInfoCnt, lineInfoCnt: p.lineInfoCnt,
        coreReloCnt: p.coreReloCnt, signed: p.signed,
    };
}
/** Maps and programs the loader created (the loader's own map and program excluded), with their ctx slots. */
export function collectEffects(model, exclude, mapFds, progFds) {
    const named = new Set();
    const slotOf = (fds, id) => {
        for (let i = 0; i < fds.length; i++) {
            const o = fds[i] > 0 ? model.fds.get(fds[i]) : undefined;
            if (o && o.id === id) {
                named.add(fds[i]);
                return { index: i, fd: fds[i] };
            }
        }
        return { index: null, fd: null };
    };
    const maps = [];
    const progs = [];
    for (const o of model.objects) {
        if (exclude.has(o.id))
            continue;
        if (o.kind === 'map') {
            const s = slotOf(mapFds, o.id);
            maps.push(reportMap(o, s.index, s.fd));
        }
        if (o.kind === 'prog') {
            const s = slotOf(progFds, o.id);
            progs.push(reportProg(o, s.index, s.fd));
        }
    }
    const leaked = model.fds.entries().filter(([fd, o]) => !named.has(fd) && !exclude.has(o.id)).map(([fd]) => fd);
    return { maps, progs, leaked };
}
//# sourceMappingURL=report.js.map