/**
 * Upper layer of the loader generator: one recorder per kernel operation (libbpf's
 * bpf_gen__* functions, v1.7.0 semantics), writing the blob and the instructions through
 * the Emitter. `overrides` false (signed schemes) drops the ctx max_entries/initial_value reads.
 */
import { LoaderError } from '../errors.js';
import type { ExternRecord, MapCreateAttr, ProgLoadAttr } from '../plan/index.js';
import {
  BPF_CMD,
  BPF_LOADER_CTX,
  BPF_SKEL_KERNEL,
  BTF_LOAD_ATTR,
  ERRNO,
  HELPER,
  MAP_CREATE_ATTR,
  MAP_FREEZE_ATTR,
  MAP_TYPE,
  MAP_UPDATE_ELEM_ATTR,
  PROG_LOAD_ATTR,
  PSEUDO,
  ctxOffsets,
  writeStruct,
} from '../uapi/index.js';
import { Emitter, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from './emitter.js';
import { alu32, alu64, ja, jmp, regsByte } from '../isa/index.js';

const MAX_USED_MAPS = 64;
const MAX_KFUNC_DESCS = 256;
const MAX_FD_ARRAY_SZ = MAX_USED_MAPS + MAX_KFUNC_DESCS;

interface KsymDesc {
  name: string;
  kind: number;
  ld64: boolean;
  typeless: boolean;
  ref: number;
  insn: number;
  slot: number;
}

const enc = new TextEncoder();
const cstr = (s: string): Uint8Array => {
  const b = enc.encode(s);
  const o = new Uint8Array(b.length + 1);
  o.set(b);
  return o;
};
const F = (layout: { fields: Record<string, { offset: number }> }, f: string) => layout.fields[f].offset;

export interface RecorderOptions {
  /** Honour ctx map_desc max_entries / initial_value (unsigned loaders; libbpf without gen_hash). */
  overrides: boolean;
  stackSize: number;
  /**
   * libbpf v1.7.0's metadata check computes its branch offset before emitting `r7 = -EINVAL`, so
   * a mismatch lands one instruction past the cleanup label (still failing closed: r7 is set).
   * Only for byte-identical reproduction of v1.7.0 loaders.
   */
  hashBranchPastCleanup?: boolean;
}

export class Recorder {
  readonly e: Emitter;
  readonly opts: RecorderOptions;
  nrMaps = 0;
  nrProgs = 0;
  #fdArray = 0;
  #nrFdArray = 0;
  #ksyms: KsymDesc[] = [];

  constructor(e: Emitter, opts: RecorderOptions) {
    this.e = e;
    this.opts = opts;
  }

  stackOff(field: 'btf_fd' | 'inner_map_fd' | number): number {
    const base = -this.opts.stackSize;
    if (field === 'btf_fd') return base;
    if (field === 'inner_map_fd') return base + 4;
    return base + 8 + 4 * field;
  }
  fdArrayOff(i: number): number {
    return this.#fdArray + 4 * i;
  }

  /** bpf_gen__init: fd_array, prologue, cleanup block; returns after the cleanup `exit`. */
  init(nrPrograms: number, nrMaps: number): void {
    const e = this.e;
    const stack = this.opts.stackSize;
    this.#fdArray = e.addData(null, MAX_FD_ARRAY_SZ * 4);
    e.mov64Reg(R6, R1);
    e.mov64Reg(R1, R10);
    e.emit(alu64.add.imm(R1, -stack));
    e.mov64Imm(R2, stack);
    e.mov64Imm(R3, 0);
    e.call(HELPER.probe_read_kernel);
    const progsSz = 8 + 4 * nrPrograms;
    e.emit(ja((progsSz / 4) * 3 + 2 + nrMaps * 6));
    e.cleanupLabel = e.pc;
    for (let i = 0; i < progsSz; i += 4) {
      e.ldx(4, R1, R10, -stack + i);
      e.emit(jmp.jsle.imm(R1, 0, 1));
      e.call(HELPER.sys_close);
    }
    for (let i = 0; i < nrMaps; i++) e.closeBlob(this.fdArrayOff(i));
    e.mov64Reg(R0, R7);
    e.exit();
  }

  /** The 6.18 metadata check: map->excl (optional) and map->sha against patched constants. Returns the ld_imm64 indexes to patch. */
  signatureMatch(withExcl: boolean): number[] {
    const e = this.e;
    if (withExcl) {
      e.ldImm64(R1, PSEUDO.MAP_IDX, 0, 0);
      e.ldx(4, R2, R1, 32);
      e.mov64Imm(R7, -ERRNO.EINVAL);
      e.emit(jmp.jne.imm(R2, 1, e.jumpTo(e.cleanupLabel)));
    }
    const at: number[] = [];
    const target = e.cleanupLabel + (this.opts.hashBranchPastCleanup ? 1 : 0);
    for (let i = 0; i < 4; i++) {
      e.ldImm64(R1, PSEUDO.MAP_IDX, 0, 0);
      e.ldx(8, R2, R1, 8 * i);
      at.push(e.pc);
      e.ldImm64(R3, 0, 0, 0);
      e.mov64Imm(R7, -ERRNO.EINVAL);
      e.emit(jmp.jne.reg(R2, R3, e.jumpTo(target)));
    }
    return at;
  }

  loadBtf(btf: Uint8Array): void {
    const e = this.e;
    const data = e.addData(btf);
    const attr = e.addData(writeStruct(BTF_LOAD_ATTR, { btf_size: btf.length }, e.order));
    e.ctx2blob(attr + F(BTF_LOAD_ATTR, 'btf_log_level'), 4, F(BPF_LOADER_CTX, 'log_level'), false);
    e.ctx2blob(attr + F(BTF_LOAD_ATTR, 'btf_log_size'), 4, F(BPF_LOADER_CTX, 'log_size'), false);
    e.ctx2blob(attr + F(BTF_LOAD_ATTR, 'btf_log_buf'), 8, F(BPF_LOADER_CTX, 'log_buf'), false);
    e.relStore(attr + F(BTF_LOAD_ATTR, 'btf'), data);
    e.sysBpf(BPF_CMD.BTF_LOAD, attr, BTF_LOAD_ATTR.size);
    e.checkErr();
    e.stx(4, R10, R7, this.stackOff('btf_fd'));
  }

  mapCreate(a: MapCreateAttr, mapIdx: number): void {
    const e = this.e;
    const attr = e.addData(
      writeStruct(
        MAP_CREATE_ATTR,
        {
          map_type: a.type,
          key_size: a.keySize,
          value_size: a.valueSize,
          max_entries: a.maxEntries,
          map_flags: a.flags,
          numa_node: a.numaNode,
          map_name: a.name,
          map_ifindex: a.ifindex,
          btf_key_type_id: a.btfKeyTypeId,
          btf_value_type_id: a.btfValueTypeId,
          map_extra: a.mapExtra,
        },
        e.order,
      ),
    );
    if (a.btfValueTypeId) e.stack2blob(attr + F(MAP_CREATE_ATTR, 'btf_fd'), 4, this.stackOff('btf_fd'));
    const mapInMap = a.type === MAP_TYPE.ARRAY_OF_MAPS || a.type === MAP_TYPE.HASH_OF_MAPS;
    if (mapInMap) e.stack2blob(attr + F(MAP_CREATE_ATTR, 'inner_map_fd'), 4, this.stackOff('inner_map_fd'));
    if (mapIdx >= 0 && this.opts.overrides) e.ctx2blob(attr + F(MAP_CREATE_ATTR, 'max_entries'), 4, ctxOffsets.mapMaxEntries(mapIdx), true);
    e.sysBpf(BPF_CMD.MAP_CREATE, attr, MAP_CREATE_ATTR.size);
    e.checkErr();
    if (mapIdx < 0) {
      e.stx(4, R10, R7, this.stackOff('inner_map_fd'));
    } else {
      if (mapIdx !== this.nrMaps)
        throw new LoaderError('OBJECT_MALFORMED', `gen: map index ${mapIdx} created out of order (expected ${this.nrMaps})`, {
          got: mapIdx,
          want: this.nrMaps,
        });
      if (this.nrMaps === MAX_USED_MAPS)
        throw new LoaderError('OBJECT_UNSUPPORTED', `gen: more than ${MAX_USED_MAPS} maps`, { field: 'maps' });
      const idx = this.nrMaps++;
      e.ldBlob(R1, this.fdArrayOff(idx));
      e.stx(4, R1, R7, 0);
    }
    if (mapInMap) e.closeStack(this.stackOff('inner_map_fd'));
  }

  mapUpdateElem(mapIdx: number, value: Uint8Array): void {
    const e = this.e;
    const val = e.addData(value);
    const key = e.addData(new Uint8Array(4));
    if (this.opts.overrides) {
      e.ldx(8, R3, R6, ctxOffsets.mapInitialValue(mapIdx));
      e.emit(jmp.jeq.imm(R3, 0, 8));
      e.ldBlob(R1, val);
      e.mov64Imm(R2, value.length);
      e.ldx(4, R0, R6, F(BPF_LOADER_CTX, 'flags'));
      e.emit(jmp.jset.imm(R0, BPF_SKEL_KERNEL, 2));
      e.call(HELPER.copy_from_user);
      e.emit(ja(1));
      e.call(HELPER.probe_read_kernel);
    }
    const attr = e.addData(new Uint8Array(MAP_UPDATE_ELEM_ATTR.size));
    e.blob2blob(attr + F(MAP_UPDATE_ELEM_ATTR, 'map_fd'), 4, this.fdArrayOff(mapIdx));
    e.relStore(attr + F(MAP_UPDATE_ELEM_ATTR, 'key'), key);
    e.relStore(attr + F(MAP_UPDATE_ELEM_ATTR, 'value'), val);
    e.sysBpf(BPF_CMD.MAP_UPDATE_ELEM, attr, MAP_UPDATE_ELEM_ATTR.size);
    e.checkErr();
  }

  mapFreeze(mapIdx: number): void {
    const e = this.e;
    const attr = e.addData(new Uint8Array(MAP_FREEZE_ATTR.size));
    e.blob2blob(attr + F(MAP_FREEZE_ATTR, 'map_fd'), 4, this.fdArrayOff(mapIdx));
    e.sysBpf(BPF_CMD.MAP_FREEZE, attr, MAP_FREEZE_ATTR.size);
    e.checkErr();
  }

  #u32(v: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, this.e.order === 'le');
    return b;
  }

  /** Update of `outer` at `slot` with the value stored at blob offset `valueOff`. */
  #slotUpdate(outerIdx: number, slot: number, valueOff: number | null, fill?: () => number): void {
    const e = this.e;
    const key = e.addData(this.#u32(slot));
    const value = valueOff ?? fill!();
    const attr = e.addData(new Uint8Array(MAP_UPDATE_ELEM_ATTR.size));
    e.blob2blob(attr + F(MAP_UPDATE_ELEM_ATTR, 'map_fd'), 4, this.fdArrayOff(outerIdx));
    e.relStore(attr + F(MAP_UPDATE_ELEM_ATTR, 'key'), key);
    e.relStore(attr + F(MAP_UPDATE_ELEM_ATTR, 'value'), value);
    e.sysBpf(BPF_CMD.MAP_UPDATE_ELEM, attr, MAP_UPDATE_ELEM_ATTR.size);
    e.checkErr();
  }

  populateOuterMap(outerIdx: number, slot: number, innerIdx: number): void {
    this.#slotUpdate(outerIdx, slot, this.fdArrayOff(innerIdx));
  }

  /** Beyond libbpf: PROG_ARRAY slot ← fd of the n-th loaded program (copied from the stack into a blob cell). */
  progArrayUpdate(mapIdx: number, slot: number, loadIndex: number): void {
    this.#slotUpdate(mapIdx, slot, null, () => {
      const cell = this.e.addData(null, 4);
      this.e.stack2blob(cell, 4, this.stackOff(loadIndex));
      return cell;
    });
  }

  progLoad(p: ProgLoadAttr): void {
    const e = this.e;
    const license = e.addData(cstr(p.license));
    const insns = e.addData(p.insns);
    const funcInfo = e.addData(p.funcInfo);
    const lineInfo = e.addData(p.lineInfo);
    const coreRelos = e.addData(p.coreRelos);
    const attr = e.addData(
      writeStruct(
        PROG_LOAD_ATTR,
        {
          prog_type: p.type,
          insn_cnt: p.insnCnt,
          kern_version: 0,
          prog_flags: p.flags,
          prog_name: p.name,
          prog_ifindex: 0,
          expected_attach_type: p.expectedAttachType,
          func_info_rec_size: p.funcInfoRecSize,
          func_info_cnt: p.funcInfoCnt,
          line_info_rec_size: p.lineInfoRecSize,
          line_info_cnt: p.lineInfoCnt,
          attach_btf_id: p.attachBtfId,
          core_relo_cnt: p.coreReloCnt,
          core_relo_rec_size: 16,
        },
        e.order,
      ),
    );
    const A = (f: string) => attr + F(PROG_LOAD_ATTR, f);
    e.relStore(A('license'), license);
    e.relStore(A('insns'), insns);
    e.relStore(A('func_info'), funcInfo);
    e.relStore(A('line_info'), lineInfo);
    e.relStore(A('core_relos'), coreRelos);
    e.relStore(A('fd_array'), this.#fdArray);
    e.ctx2blob(A('log_level'), 4, F(BPF_LOADER_CTX, 'log_level'), false);
    e.ctx2blob(A('log_size'), 4, F(BPF_LOADER_CTX, 'log_size'), false);
    e.ctx2blob(A('log_buf'), 8, F(BPF_LOADER_CTX, 'log_buf'), false);
    e.stack2blob(A('prog_btf_fd'), 4, this.stackOff('btf_fd'));
    if (p.attach) {
      this.#findByNameKind(p.attach.name, p.attach.kind);
      e.checkErr();
      e.ldBlob(R0, attr);
      e.stx(4, R0, R7, F(PROG_LOAD_ATTR, 'attach_btf_id'));
      e.emit(alu64.rsh.imm(R7, 32));
      e.stx(4, R0, R7, F(PROG_LOAD_ATTR, 'attach_btf_obj_fd'));
    }
    for (const r of p.externs) this.#relo(r, insns);
    e.sysBpf(BPF_CMD.PROG_LOAD, attr, PROG_LOAD_ATTR.size);
    this.#cleanupRelos();
    if (p.attach) e.closeBlob(A('attach_btf_obj_fd'));
    e.checkErr();
    e.stx(4, R10, R7, this.stackOff(this.nrProgs));
    this.nrProgs++;
  }

  #findByNameKind(name: string, kind: number): void {
    const e = this.e;
    const s = cstr(name);
    const off = e.addData(s);
    e.ldBlob(R1, off);
    e.mov64Imm(R2, s.length);
    e.mov64Imm(R3, kind);
    e.mov64Imm(R4, 0);
    e.call(HELPER.btf_find_by_name_kind);
    e.mov64Reg(R7, R0);
  }

  #desc(r: ExternRecord): KsymDesc {
    const d = this.#ksyms.find((k) => k.kind === r.kind && k.ld64 === r.ld64 && k.name === r.name);
    if (d) {
      d.ref++;
      return d;
    }
    const n: KsymDesc = { name: r.name, kind: r.kind, ld64: r.ld64, typeless: false, ref: 1, insn: 0, slot: 0 };
    this.#ksyms.push(n);
    return n;
  }

  #relo(r: ExternRecord, insns: number): void {
    const e = this.e;
    const insn = insns + 8 * r.insn;
    e.ldBlob(R8, insn);
    if (r.ld64 && r.typeless) this.#ksymTypeless(r, insn);
    else if (r.ld64) this.#ksymBtf(r, insn);
    else this.#kfunc(r, insn);
  }

  #kfunc(r: ExternRecord, insn: number): void {
    const e = this.e;
    const d = this.#desc(r);
    if (d.ref > 1) {
      e.blob2blob(insn + 4, 4, d.insn + 4);
      e.blob2blob(insn + 2, 2, d.insn + 2);
      return;
    }
    d.insn = insn;
    this.#findByNameKind(r.name, r.kind);
    if (!r.weak) e.checkErr();
    let slot: number;
    if (this.#nrFdArray === MAX_KFUNC_DESCS) slot = (e.addData(null, 4) - this.#fdArray) / 4;
    else slot = MAX_USED_MAPS + this.#nrFdArray++;
    if (slot > 0x7fff)
      throw new LoaderError('OBJECT_UNSUPPORTED', `gen: kfunc '${r.name}': BTF fd slot ${slot} exceeds INT16_MAX`, {
        symbol: r.name,
        got: slot,
      });
    d.slot = slot;
    e.emit(jmp.jsge.imm(R7, 0, 3));
    e.st(4, R8, 4, 0);
    e.st(2, R8, 2, 0);
    e.emit(ja(10));
    e.stx(4, R8, R7, 4);
    e.mov64Reg(R9, R7);
    e.emit(alu64.rsh.imm(R9, 32));
    e.ldBlob(R0, this.fdArrayOff(slot));
    e.stx(4, R0, R9, 0);
    e.emit(jmp.jne.imm(R9, 0, 2));
    e.st(2, R8, 2, 0);
    e.emit(ja(1));
    e.st(2, R8, 2, slot);
  }

  #clearSrcReg(): void {
    const e = this.e;
    e.ldx(1, R9, R8, 1);
    e.emit(alu32.and.imm(R9, regsByte(0xf, 0, e.order))); // keep the dst nibble, clear src
    e.stx(1, R8, R9, 1);
  }

  #ksymBtf(r: ExternRecord, insn: number): void {
    const e = this.e;
    const d = this.#desc(r);
    if (d.ref > 1) {
      e.blob2blob(insn + 12, 4, d.insn + 12);
      e.blob2blob(insn + 4, 4, d.insn + 4);
      e.emit(jmp.jne.imm(R0, 0, 3));
      this.#clearSrcReg();
      return;
    }
    d.insn = insn;
    this.#findByNameKind(r.name, r.kind);
    if (!r.weak) e.checkErr();
    e.emit(jmp.jsge.imm(R7, 0, 3));
    e.st(4, R8, 4, 0);
    e.st(4, R8, 12, 0);
    e.emit(ja(4));
    e.stx(4, R8, R7, 4);
    e.emit(alu64.rsh.imm(R7, 32));
    e.stx(4, R8, R7, 12);
    e.emit(ja(3));
    this.#clearSrcReg();
  }

  #ksymTypeless(r: ExternRecord, insn: number): void {
    const e = this.e;
    const d = this.#desc(r);
    if (d.ref > 1) {
      e.blob2blob(insn + 4, 4, d.insn + 4);
      e.blob2blob(insn + 12, 4, d.insn + 12);
      return;
    }
    d.insn = insn;
    d.typeless = true;
    const s = cstr(r.name);
    const name = e.addData(s);
    const res = e.addData(null, 8);
    e.ldBlob(R1, name);
    e.mov64Imm(R2, s.length);
    e.mov64Imm(R3, 0);
    e.ldBlob(R4, res);
    e.mov64Reg(R7, R4);
    e.call(HELPER.kallsyms_lookup_name);
    e.ldx(8, R9, R7, 0);
    e.mov64Reg(R7, R0);
    e.emit(jmp.jeq.imm(R7, -ERRNO.ENOENT, 1));
    e.checkErr();
    e.stx(4, R8, R9, 4);
    e.emit(alu64.rsh.imm(R9, 32));
    e.stx(4, R8, R9, 12);
  }

  #cleanupRelos(): void {
    for (const d of this.#ksyms) {
      if (d.ld64 && !d.typeless) this.e.closeBlob(d.insn + 12);
      else if (!d.ld64) {
        this.e.closeBlob(this.fdArrayOff(d.slot));
        if (d.slot < MAX_FD_ARRAY_SZ) this.#nrFdArray--;
      }
    }
    this.#ksyms = [];
  }

  /** bpf_gen__finish: close BTF, copy program and map fds into the ctx, return 0. */
  finish(nrMaps: number): void {
    const e = this.e;
    if (nrMaps !== this.nrMaps)
      throw new LoaderError('OBJECT_MALFORMED', `gen: ${this.nrMaps} maps created, ${nrMaps} expected`, { got: this.nrMaps, want: nrMaps });
    e.closeStack(this.stackOff('btf_fd'));
    for (let i = 0; i < this.nrProgs; i++) e.stack2ctx(ctxOffsets.progFd(this.nrMaps, i), 4, this.stackOff(i));
    for (let i = 0; i < this.nrMaps; i++) e.blob2ctx(ctxOffsets.mapFd(i), 4, this.fdArrayOff(i));
    e.mov64Imm(R0, 0);
    e.exit();
  }
}
