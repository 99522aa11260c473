/** JSON for data that holds bigints and bytes: bigints as decimal strings, bytes as lower-case hex. */
import { toHex } from './bytes.js';

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? toHex(value) : value;
}

/** The plain-JSON form of a value (what JSON.parse would give back after serialising it). */
export function toPlainJson<T = unknown>(value: unknown): T {
  return JSON.parse(JSON.stringify(value, jsonReplacer)) as T;
}
