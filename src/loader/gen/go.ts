/** The Go light skeleton (work in progress). */
import { LoaderError } from '../errors.js';
import type { LightSkeletonInput } from './lskel.js';

export function emitGoSkeleton(input: LightSkeletonInput): string {
  throw new LoaderError('OBJECT_UNSUPPORTED', `light skeleton: language 'go' is not yet available (${input.name})`, { field: 'lang', got: 'go' });
}
