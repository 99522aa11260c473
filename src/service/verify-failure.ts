/**
 * A verification that threw (in a worker or inline, answered as a VerifyFailure of kind 'thrown'),
 * as the error it was: the API's error handler then answers it as it answers that error anywhere.
 */
import { LoaderError, type LoaderErrorCode } from '../loader/errors.js';
import { TlogError, type TlogErrorCode } from '../signing/tlog/index.js';
import type { VerifyFailure } from './verify-request.js';

export function thrownError(f: Extract<VerifyFailure, { kind: 'thrown' }>): Error {
  // The codes came from an error of that class (verify-request.ts copies err.code as it is).
  if (f.name === 'LoaderError') return new LoaderError(f.code as LoaderErrorCode, f.message, f.details);
  if (f.name === 'TlogError') return new TlogError(f.code as TlogErrorCode, f.message, f.details);
  if (f.name === 'RangeError') return new RangeError(f.message);
  return Object.assign(new Error(`verification: ${f.message}`), { code: f.code });
}
