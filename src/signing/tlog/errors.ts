/** Transparency-log errors: literal codes, got/want details. */
export type TlogErrorCode =
  | 'TLOG_INDEX_OUT_OF_RANGE'
  | 'TLOG_INCLUSION_PROOF_ERROR'
  | 'TLOG_CONSISTENCY_PROOF_ERROR'
  | 'TLOG_CHECKPOINT_MALFORMED'
  | 'TLOG_CHECKPOINT_SIGNATURE'
  | 'TLOG_BAD_HASH'
  | 'TLOG_PROOF_MALFORMED'
  | 'TLOG_ENTRY_MALFORMED';

export class TlogError extends Error {
  override readonly name = 'TlogError';
  constructor(
    readonly code: TlogErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
