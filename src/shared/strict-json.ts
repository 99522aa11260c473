/**
 * Strict JSON: JSON.parse's grammar and values, and no object with the same member name twice
 * (at any depth). JSON.parse keeps the last of duplicate members, other parsers the first: a
 * document with duplicates can mean two things to two readers, so it is refused, naming where.
 *
 * The value is JSON.parse's own (native, and the same value by construction); a second pass over
 * the text then looks for duplicate member names. That pass needs no validation (the text has
 * just parsed), so it jumps over each string with indexOf, which is what bundles are made of:
 * the long base64 fields cost a native search each, not a character loop in JavaScript. Member
 * names are compared decoded ("a" and "\u0061" are the same name). Only when JSON.parse refuses
 * the text does a validating scan run, to say where (offset and path) the text goes wrong.
 */

export type JsonErrorCode = 'JSON_DUPLICATE_KEY' | 'JSON_INVALID';

/** Why a text was refused: `path` in JSONPath-like form ($, .name, ["odd name"], [3]), `offset` in UTF-16 code units. */
export class JsonParseError extends Error {
  override readonly name = 'JsonParseError';
  constructor(
    readonly code: JsonErrorCode,
    message: string,
    readonly path: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** JSON.parse, refusing duplicate member names with JSON_DUPLICATE_KEY and bad text with JSON_INVALID (never a SyntaxError). */
export function parseJsonStrict(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(text, e as Error);
  }
  const dup = findDuplicateKey(text);
  if (dup)
    throw new JsonParseError(
      'JSON_DUPLICATE_KEY',
      `duplicate key ${JSON.stringify(dup.key)} at ${dup.path} (offset ${dup.offset})`,
      dup.path,
      dup.offset,
    );
  return value;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function pathOf(steps: readonly (string | number)[]): string {
  let p = '$';
  for (const s of steps) p += typeof s === 'number' ? `[${s}]` : IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return p;
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c;

/** The index of the quote closing the string whose opening quote is at `open` (the text is valid JSON). */
function stringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  for (;;) {
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j; // an even run of backslashes escapes nothing
    j = text.indexOf('"', j + 1);
  }
}

/** Member names of one object: a list while short (most objects), a set past that. */
const SET_FROM = 12;

/** The first duplicate member name in valid JSON text, or null. */
function findDuplicateKey(text: string): { key: string; path: string; offset: number } | null {
  // Per open container: its member names (objects) or null (arrays), and the step to it.
  const names: (string[] | Set<string> | null)[] = [];
  const steps: (string | number)[] = [];
  let top = -1;
  let expectName = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectName) {
        let key = text.slice(i + 1, end);
        if (key.includes('\\')) key = JSON.parse(text.slice(i, end + 1)) as string;
        const seen = names[top]!;
        if (Array.isArray(seen)) {
          if (seen.includes(key)) return { key, path: pathOf([...steps.slice(1, top + 1), key]), offset: i };
          seen.push(key);
          if (seen.length >= SET_FROM) names[top] = new Set(seen);
        } else {
          if (seen.has(key)) return { key, path: pathOf([...steps.slice(1, top + 1), key]), offset: i };
          seen.add(key);
        }
        steps[top + 1] = key;
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      names[++top] = [];
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      names[++top] = null;
      steps[top + 1] = 0;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top--;
      expectName = false;
    } else if (c === 0x2c /* , */) {
      if (names[top] === null) (steps[top + 1] as number)++;
      else expectName = true;
    }
  }
  return null;
}

/** Where and why JSON.parse refused the text, found by a validating scan (JSON.parse's message when the scan disagrees). */
function invalid(text: string, e: Error): JsonParseError {
  const at = locateError(text);
  if (at) return new JsonParseError('JSON_INVALID', `invalid JSON at ${at.path} (offset ${at.offset}): ${at.message}`, at.path, at.offset);
  const m = /position (\d+)/.exec(e.message);
  const offset = m ? Number(m[1]) : 0;
  return new JsonParseError('JSON_INVALID', `invalid JSON (offset ${offset}): ${e.message}`, '$', offset);
}

function describe(text: string, i: number): string {
  return i >= text.length ? 'unexpected end of text' : `unexpected ${JSON.stringify(text[i])}`;
}

/**
 * An iterative JSON validator (RFC 8259, as JSON.parse reads it): the first offset where the
 * text stops being JSON, with the path of the value being read there; null if it is valid.
 */
export function locateError(text: string): { offset: number; path: string; message: string } | null {
  const stack: ('o' | 'a')[] = [];
  const steps: (string | number)[] = [];
  // Sticky: matches at lastIndex only. Made per call, as it keeps its lastIndex.
  const number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const n = text.length;
  let i = 0;
  const ws = () => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
  };
  // While a member name is due, the object's last step is not a path yet.
  const fail = (message: string) => ({
    offset: i,
    path: pathOf(state === 'name' || state === 'firstName' ? steps.slice(0, -1) : steps),
    message,
  });
  /** Reads a string at i (a quote); returns its decoded text or an error message. */
  const str = (): string | { error: string } => {
    const start = i;
    i++;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c < 0x20) return { error: `control character U+${c.toString(16).padStart(4, '0')} in a string` };
      if (c === BACKSLASH) {
        const d = text[i + 1];
        if (d === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return { error: 'bad \\u escape' };
          }
          i += 5;
        } else if (d !== undefined && '"\\/bfnrt'.includes(d)) i++;
        else {
          i++;
          return { error: `bad escape \\${d ?? ''}` };
        }
      }
    }
    return { error: 'unterminated string' };
  };
  // state: 'value' (a value is due), 'after' (a value ended), 'name' (a member name is due, or } when first)
  let state: 'value' | 'after' | 'name' | 'firstName' | 'firstValue' = 'value';
  for (;;) {
    ws();
    if (state === 'value' || state === 'firstValue') {
      const c = text[i];
      if (state === 'firstValue' && c === ']') {
        i++;
        stack.pop();
        steps.pop();
        state = 'after';
        continue;
      }
      if (c === '{') {
        i++;
        stack.push('o');
        steps.push('');
        state = 'firstName';
        continue;
      }
      if (c === '[') {
        i++;
        stack.push('a');
        steps.push(0);
        state = 'firstValue';
        continue;
      }
      if (c === '"') {
        const s = str();
        if (typeof s !== 'string') return fail(s.error);
        state = 'after';
        continue;
      }
      if (c === 't' || c === 'f' || c === 'n') {
        const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        if (text.startsWith(word, i)) {
          i += word.length;
          state = 'after';
          continue;
        }
        return fail(describe(text, i));
      }
      number.lastIndex = i;
      if ((c === '-' || (c >= '0' && c <= '9')) && number.test(text)) {
        i = number.lastIndex;
        state = 'after';
        continue;
      }
      return fail(describe(text, i));
    }
    if (state === 'name' || state === 'firstName') {
      if (state === 'firstName' && text[i] === '}') {
        i++;
        stack.pop();
        steps.pop();
        state = 'after';
        continue;
      }
      if (text[i] !== '"') return fail(`${describe(text, i)} where a member name is due`);
      const s = str();
      if (typeof s !== 'string') return fail(s.error);
      steps[steps.length - 1] = s;
      ws();
      if (text[i] !== ':') return fail(`${describe(text, i)} where ':' is due`);
      i++;
      state = 'value';
      continue;
    }
    // after a value
    const top = stack[stack.length - 1];
    if (top === undefined) return i === n ? null : fail(`${describe(text, i)} after the value`);
    const c = text[i];
    if (c === ',') {
      i++;
      if (top === 'a') {
        (steps[steps.length - 1] as number)++;
        state = 'value';
      } else state = 'name';
      continue;
    }
    if ((c === ']' && top === 'a') || (c === '}' && top === 'o')) {
      i++;
      stack.pop();
      steps.pop();
      state = 'after';
      continue;
    }
    return fail(`${describe(text, i)} where ',' or '${top === 'a' ? ']' : '}'}' is due`);
  }
}
