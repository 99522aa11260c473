/**
 * `bpfsign btf FILE [--base BASE] [--json]`: the BTF of an object (its .BTF section) or of a
 * raw BTF file such as /sys/kernel/btf/vmlinux, printed as `bpftool btf dump file FILE format raw`
 * prints it. With --base, FILE is split BTF over BASE (module BTF over vmlinux).
 */
import { readFileSync } from 'node:fs';
import { parseBtf, type Btf } from '../loader/btf/index.js';
import { parseElf } from '../loader/elf/index.js';
import { LoaderError } from '../loader/errors.js';

function btfBytes(file: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const sec = parseElf(bytes).section('.BTF');
    if (!sec) throw new LoaderError('BTF_NOT_FOUND', `${file}: no .BTF section`, { section: '.BTF' });
    return sec.data;
  }
  return bytes;
}

export function runBtf(file: string, opts: { base?: string; json: boolean }, out: (s: string) => void): number {
  const base: Btf | undefined = opts.base ? parseBtf(btfBytes(opts.base)) : undefined;
  const btf = parseBtf(btfBytes(file), { base });
  if (opts.json) {
    const types = [];
    for (let id = btf.startId; id < btf.totalCount; id++) types.push(btf.type(id));
    out(
      JSON.stringify({ byteOrder: btf.byteOrder, startId: btf.startId, types }, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? undefined : v,
      ),
    );
  } else {
    out(btf.rawDump());
  }
  return 0;
}
