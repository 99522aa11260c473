/**
 * The light-skeleton languages and their emitters. Every emitter takes what the C header is made
 * from (LightSkeletonInput: loader bytes, maps, programs, global-variable layouts, optional
 * signature) and returns one file: C prints `NAME.lskel.h` (lskel.ts), Go a package file
 * `NAME.lskel.go` (go.ts), Rust a module (rust.ts).
 */
import { LoaderError } from '../errors.js';
import { emitLightSkeleton, type LightSkeletonInput, type LightSkeletonOptions } from './lskel.js';
import { emitGoSkeleton } from './go.js';
import { emitRustSkeleton } from './rust.js';

export type SkeletonLang = 'c' | 'go' | 'rust';

/** Every language, in the order the CLI and the API list them. */
export const SKELETON_LANGS: readonly SkeletonLang[] = ['c', 'go', 'rust'];

export interface SkeletonFile {
  /** File name (no directory): `NAME.lskel.h`, `NAME.lskel.go`, ... */
  fileName: string;
  text: string;
}

/**
 * One language's emitter. `opts` is the C header's options: the Go and Rust emitters use the
 * layout of the v1.7 flavour whatever it says (they have no bpftool 7.1 counterpart) and ignore
 * `standalone` (they are always self-contained).
 */
export type SkeletonEmitter = (input: LightSkeletonInput, opts: LightSkeletonOptions) => SkeletonFile;

/** The file a language's skeleton of `name` goes to. */
export function skeletonFileName(lang: SkeletonLang, name: string): string {
  return lang === 'c' ? `${name}.lskel.h` : lang === 'go' ? `${name}.lskel.go` : `${name}.rs`;
}

const EMITTERS: Readonly<Record<SkeletonLang, (input: LightSkeletonInput, opts: LightSkeletonOptions) => string>> = {
  c: (input, opts) => emitLightSkeleton(input, opts),
  go: (input) => emitGoSkeleton(input),
  rust: (input) => emitRustSkeleton(input),
};

export function isSkeletonLang(s: string): s is SkeletonLang {
  return (SKELETON_LANGS as readonly string[]).includes(s);
}

/** The light skeleton of `input` in `lang`. Throws LoaderError OBJECT_UNSUPPORTED (field 'lang') for an unknown or unavailable language. */
export function emitSkeleton(lang: SkeletonLang, input: LightSkeletonInput, opts: LightSkeletonOptions): SkeletonFile {
  if (!isSkeletonLang(lang)) {
    throw new LoaderError('OBJECT_UNSUPPORTED', `light skeleton: unknown language '${String(lang)}'`, {
      field: 'lang',
      got: lang,
      want: SKELETON_LANGS,
    });
  }
  return { fileName: skeletonFileName(lang, input.name), text: EMITTERS[lang](input, opts) };
}
