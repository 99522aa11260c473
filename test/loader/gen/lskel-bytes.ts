/**
 * Reading bpftool's light skeleton: the `opts_data` / `opts_insn` byte strings, in both the
 * bpftool ≥ 7.2 form (`static const char opts_data[] ... = "\...";`) and the 7.1 form
 * (`opts.data = (void *)"\...";`). The literals are C strings with escapes and line continuations.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Decodes the C string literal that starts at `text[start] === '"'`; returns bytes and the index after the closing quote. */
export function decodeCString(text: string, start: number): { bytes: Uint8Array; end: number } {
  if (text[start] !== '"') throw new Error(`expected '"' at ${start}`);
  const out: number[] = [];
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new Error('unterminated string literal');
    const c = text[i];
    if (c === '"') {
      // Adjacent literals ("a" "b") concatenate.
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] === '"') {
        i = j + 1;
        continue;
      }
      return { bytes: Uint8Array.from(out), end: i + 1 };
    }
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      i++;
      continue;
    }
    const n = text[i + 1];
    if (n === '\n') {
      i += 2;
      continue;
    }
    if (n === '\r' && text[i + 2] === '\n') {
      i += 3;
      continue;
    }
    if (n === 'x') {
      let j = i + 2,
        v = 0,
        k = 0;
      while (j < text.length && /[0-9a-fA-F]/.test(text[j])) {
        v = v * 16 + parseInt(text[j], 16);
        j++;
        k++;
      }
      if (k === 0) throw new Error(`bad \\x escape at ${i}`);
      out.push(v & 0xff);
      i = j;
      continue;
    }
    if (n >= '0' && n <= '7') {
      let j = i + 1,
        v = 0,
        k = 0;
      while (k < 3 && text[j] >= '0' && text[j] <= '7') {
        v = v * 8 + (text.charCodeAt(j) - 48);
        j++;
        k++;
      }
      out.push(v & 0xff);
      i = j;
      continue;
    }
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, '"': 34, "'": 39, a: 7, b: 8, f: 12, v: 11, '?': 63 };
    if (simple[n] === undefined) throw new Error(`unknown escape \\${n} at ${i}`);
    out.push(simple[n]);
    i += 2;
  }
}

function findLiteral(text: string, patterns: RegExp[]): Uint8Array {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return decodeCString(text, m.index + m[0].length - 1).bytes;
  }
  throw new Error(`no literal matching ${patterns.map(String).join(' or ')}`);
}

export function extractLskelBytes(header: string): { data: Uint8Array; insns: Uint8Array } {
  const data = findLiteral(header, [/opts_data\[\][^=]*=\s*"/, /opts\.data\s*=\s*\(void \*\)\s*"/]);
  const insns = findLiteral(header, [/opts_insn\[\][^=]*=\s*"/, /opts\.insns\s*=\s*\(void \*\)\s*"/]);
  return { data, insns };
}

/** bpftool's skeleton name for a file: basename, `.o` stripped, non-alnum → '_'. */
export function bpftoolObjName(path: string): string {
  let b = path.slice(path.lastIndexOf('/') + 1);
  if (b.endsWith('.o')) b = b.slice(0, -2);
  return b.replace(/[^A-Za-z0-9_]/g, '_');
}

export type LskelResult =
  { ok: true; header: string; data: Uint8Array; insns: Uint8Array; ms: number } | { ok: false; reason: string; ms: number };

/** Runs `bpftool gen skeleton -L OBJ` (name derived by bpftool) and extracts the byte arrays. */
export function bpftoolLskel(path: string): LskelResult {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-lskel-'));
  const t0 = performance.now();
  try {
    const header = execFileSync('bpftool', ['gen', 'skeleton', '-L', path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
    const ms = performance.now() - t0;
    return { ok: true, header, ms, ...extractLskelBytes(header) };
  } catch (e) {
    const ms = performance.now() - t0;
    const err = e as { stderr?: string | Buffer; signal?: string; message: string };
    const lines = String(err.stderr ?? '')
      .trim()
      .split('\n')
      .filter((l) => l && !l.startsWith('libbpf: elf: skipping'));
    const telling = lines.filter((l) => !/failed to load object|^Error: failed to (load|open)/.test(l));
    const stderr = (telling.length ? telling : lines).slice(-2).join(' | ');
    return { ok: false, reason: err.signal ? `bpftool killed by ${err.signal}` : stderr || err.message.split('\n')[0], ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readText(p: string): string {
  return readFileSync(p, 'utf8');
}
