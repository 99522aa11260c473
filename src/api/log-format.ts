/**
 * Log lines for people: pino writes one JSON object a line; on a terminal each becomes
 * `HH:MM:SS.mmm LEVEL message key=value …` (the level coloured), with a request shown as
 * `GET /path` and a response as its status. Anything else (a pipe, a file, a log collector) gets
 * pino's JSON unchanged.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
};

/** Fields pino adds that the line already shows, or that say nothing to a person at a terminal. */
const SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(key: string, v: unknown): string {
  if (key === 'req' && v && typeof v === 'object') {
    const r = v as { method?: string; url?: string };
    return `${r.method ?? '?'} ${r.url ?? '?'}`;
  }
  if (key === 'res' && v && typeof v === 'object') return String((v as { statusCode?: number }).statusCode ?? '?');
  if (key === 'responseTime' && typeof v === 'number') return `${v.toFixed(1)}ms`;
  if (key === 'err' && v && typeof v === 'object') return JSON.stringify((v as { message?: string }).message ?? v);
  return typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/** One pino JSON line as a readable line (newline-terminated); a line that is not JSON is passed through. */
export function prettyLine(line: string, colour: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const [name, code] = LEVELS[o.level as number] ?? [String(o.level).padEnd(5), '0'];
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${k}=${value(k, v)}`);
  const level = colour ? `\x1b[${code}m${name}\x1b[0m` : name;
  return `${[time, level, o.msg ?? '', ...fields].filter((s) => s !== '').join(' ')}\n`;
}

/** A pino destination writing readable lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): DestinationStream {
  return {
    write: (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) out.write(prettyLine(line, out.isTTY === true));
    },
  };
}

/** Readable lines when `format` says so, or when it is 'auto' and `out` is a terminal; else undefined (pino's JSON). */
export function logStream(
  format: 'auto' | 'pretty' | 'json',
  out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): DestinationStream | undefined {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true) ? prettyStream(out) : undefined;
}
