/**
 * The cores hold no module-level mutable state (docs/ARCHITECTURE.md): what src/loader,
 * src/kernel, src/signing and src/shared keep between calls lives in objects their callers own.
 * Each file is parsed with TypeScript's own parser, and every top-level declaration that can
 * hold state is reported: a `let` or `var`, a `const` made with `new` (a Map, a cache, a class
 * instance), a regular expression with the g or y flag (its lastIndex), a static class field
 * that is not readonly. A constant table may be a `new Map` or `new Set` declared ReadonlyMap or
 * ReadonlySet, which the type checker keeps from changing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './support.js';

const CORES = ['src/loader', 'src/kernel', 'src/signing', 'src/shared'];

/** Classes whose instances keep nothing between calls (TextDecoder only without `stream`). */
const STATELESS = new Set(['TextEncoder', 'TextDecoder', 'RegExp', 'Symbol']);
const READONLY_TABLES: Readonly<Record<string, string>> = { Map: 'ReadonlyMap', Set: 'ReadonlySet' };

/**
 * What may stay, `file name` with the reason. Tables that are never changed but not yet typed
 * ReadonlySet (in files another change of issue 16 owns), and process-wide native resources (a
 * PKCS#11 module is initialised once per process; the signing addon is loaded once). An entry no
 * longer needed fails the last test below.
 */
const ALLOWED: Readonly<Record<string, string>> = {
  'src/loader/gen/go.ts GO_KEYWORDS': 'a constant table (loader/gen is being reworked)',
  'src/loader/gen/go.ts RESERVED_MEMBERS': 'a constant table (loader/gen is being reworked)',
  'src/loader/gen/rust-types.ts KEYWORDS': 'a constant table (loader/gen is being reworked)',
  'src/loader/gen/rust-types.ts PATH_KEYWORDS': 'a constant table (loader/gen is being reworked)',
  'src/signing/keys/pkcs11.ts loaded': 'PKCS#11 modules, initialised once per process and shared by their keys',
  'src/signing/keys/primitive.ts loaded': 'the native signing addon, loaded once per process',
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The `new` expressions and stateful regular expressions of `node`, outside the functions in it (those run per call). */
function stateMakers(node: ts.Node): ts.Node[] {
  const found: ts.Node[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isNewExpression(n)) found.push(n);
    if (ts.isRegularExpressionLiteral(n) && /\/[a-z]*[gy][a-z]*$/.test(n.text)) found.push(n);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

function isReadonlyTable(decl: ts.VariableDeclaration, made: ts.Node): boolean {
  if (!ts.isNewExpression(made) || !ts.isIdentifier(made.expression)) return false;
  const want = READONLY_TABLES[made.expression.text];
  return want !== undefined && decl.type !== undefined && ts.isTypeReferenceNode(decl.type) && decl.type.typeName.getText() === want;
}

/** `rel name: what` for each top-level declaration of source `text` (file `rel`) that can hold state. */
function mutableStateOf(rel: string, text: string): string[] {
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const report = (name: string, what: string) => out.push(`${rel} ${name}: ${what}`);
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      for (const d of st.declarationList.declarations) {
        const name = d.name.getText(sf);
        if (!isConst) {
          report(name, `a module-level ${st.declarationList.flags & ts.NodeFlags.Let ? 'let' : 'var'}`);
          continue;
        }
        for (const made of d.initializer ? stateMakers(d.initializer) : []) {
          if (ts.isRegularExpressionLiteral(made)) report(name, `a regular expression with lastIndex state (${made.text})`);
          else if (ts.isNewExpression(made)) {
            const ctor = made.expression.getText(sf);
            if (!STATELESS.has(ctor) && !isReadonlyTable(d, made))
              report(name, `new ${ctor}${READONLY_TABLES[ctor] ? ` (a constant table: declare it ${READONLY_TABLES[ctor]})` : ''}`);
          }
        }
      }
    } else if (ts.isClassDeclaration(st)) {
      for (const m of st.members) {
        const mods = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
        const isStatic = mods.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
        if (!isStatic || !ts.isPropertyDeclaration(m)) continue;
        const name = `${st.name?.text ?? 'class'}.${m.name.getText(sf)}`;
        if (!mods.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword)) report(name, 'a static field that is not readonly');
        else if (
          m.initializer &&
          stateMakers(m.initializer).some((n) => !ts.isNewExpression(n) || !STATELESS.has(n.expression.getText(sf)))
        )
          report(name, 'a static field made with new');
      }
    }
  }
  return out;
}

const found = CORES.flatMap((dir) => sourceFiles(join(ROOT, dir))).flatMap((file) =>
  mutableStateOf(relative(ROOT, file).split('\\').join('/'), readFileSync(file, 'utf8')),
);
const key = (finding: string) => finding.slice(0, finding.indexOf(':'));

describe('the cores (loader, kernel, signing, shared)', () => {
  it('hold no module-level mutable state', () => {
    assert.deepEqual(
      found.filter((f) => ALLOWED[key(f)] === undefined),
      [],
      'move this state into an object the caller owns (and passes in), or make the table a ReadonlyMap/ReadonlySet',
    );
  });

  it('allow only what is still there', () => {
    const keys = new Set(found.map(key));
    assert.deepEqual(
      Object.keys(ALLOWED).filter((k) => !keys.has(k)),
      [],
      'delete these from ALLOWED in test/lint/core-state.test.ts',
    );
  });
});

describe('the module-level state check', () => {
  const probe = (text: string): string[] => mutableStateOf('probe.ts', text);

  it('reports a let, a cache made with new, an untyped table, a global regular expression and a writable static', () => {
    const got = probe(
      [
        'let n = 0;',
        'const memo = new WeakMap<object, number>();',
        'const TABLE = new Set([1, 2]);',
        'const RE = /a/g;',
        'class C { static count = 0; static readonly cache = new Map(); }',
      ].join('\n'),
    );
    assert.deepEqual(
      got.map((f) => f.slice(f.indexOf(' ') + 1)),
      [
        'n: a module-level let',
        'memo: new WeakMap',
        'TABLE: new Set (a constant table: declare it ReadonlySet)',
        'RE: a regular expression with lastIndex state (/a/g)',
        'C.count: a static field that is not readonly',
        'C.cache: a static field made with new',
      ],
    );
  });

  it('lets constant tables, stateless codecs, plain regular expressions and state made per call pass', () => {
    const got = probe(
      [
        'const TABLE: ReadonlySet<number> = new Set([1, 2]);',
        'const BY_NAME: ReadonlyMap<string, number> = new Map([["a", 1]]);',
        'const utf8 = new TextDecoder();',
        'const RE = /a+/i;',
        'const make = () => new Map<string, number>();',
        'export function f(): number { let k = 0; const m = new Map(); m.set(1, 1); return k++; }',
        'class C { static readonly NAME = "c"; cache = new Map(); }',
      ].join('\n'),
    );
    assert.deepEqual(got, []);
  });
});
