/**
 * `bpfsign replay DIR [--json] [--profile VMLINUX_BTF]`: runs the loader of a `bpfsign gen`
 * output directory (insns.bin, data.bin, loader.json) in the kernel model and prints the
 * report: every syscall with its attributes and result, the loader's return value, printk
 * output, and the maps and programs it created. DIR may also be a comma-separated
 * `INSNS.bin,DATA.bin` pair (unsigned, no ctx descs unless loader.json says otherwise).
 * The profile is the kernel BTF given (default /sys/kernel/btf/vmlinux when present).
 * Exit 0 when the loader ran and returned >= 0, 1 otherwise.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../loader/btf/index.js';
import { profileView } from '../kernel/bpf/index.js';
import { formatReport, replay } from '../kernel/replay/index.js';
import { CliError } from './errors.js';
function profileFrom(path) {
    const p = path ?? (existsSync('/sys/kernel/btf/vmlinux') ? '/sys/kernel/btf/vmlinux' : undefined);
    if (p === undefined)
        return profileView({ name: 'no-btf', btf: null });
    if (!existsSync(p))
        throw new CliError(`--profile ${p}: no such file`);
    return profileView({ name: p, btf: parseBtf(new Uint8Array(readFileSync(p))) });
}
export function runReplay(dirOrFiles, opts, out) {
    let insnsPath, dataPath, meta = {};
    if (existsSync(dirOrFiles) && statSync(dirOrFiles).isDirectory()) {
        insnsPath = join(dirOrFiles, 'insns.bin');
        dataPath = join(dirOrFiles, 'data.bin');
        const j = join(dirOrFiles, 'loader.json');
        if (existsSync(j))
            meta = JSON.parse(readFileSync(j, 'utf8'));
    }
    else {
        const parts = dirOrFiles.split(',');
        if (parts.length !== 2)
            throw new CliError(`replay ${dirOrFiles}: want a gen output directory or INSNS.bin,DATA.bin`);
        [insnsPath, dataPath] = parts;
    }
    for (const f of [insnsPath, dataPath])
        if (!existsSync(f))
            throw new CliError(`replay: ${f} not found`);
    const insns = new Uint8Array(readFileSync(insnsPath));
    const data = new Uint8Array(readFileSync(dataPath));
    if (insns.length % 8)
        throw new CliError(`replay: ${insnsPath} is ${insns.length} bytes, not a multiple of 8`);
    const report = replay({ insns, data }, profileFrom(opts.profile), {
        scheme: meta.scheme ?? 'unsigned',
        byteOrder: meta.plan?.byteOrder ?? 'le',
        ...(meta.ctx ? { ctx: { size: meta.ctx.size, maps: meta.ctx.maps, progs: meta.ctx.progs } } : {}),
    });
    out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.ok ? 0 : 1;
}
//# sourceMappingURL=replay.js.map