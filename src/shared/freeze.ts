/**
 * The mark deepFreeze leaves on each object of a shared value, so that memos may key on their
 * identity: an own property under this symbol, not enumerable, so JSON, Object.keys, spreads,
 * structuredClone and deep equality do not see it.
 */
const SHARED = Symbol('deepFrozen');

/**
 * Freezes a value and everything it holds (typed arrays excepted: they cannot be frozen), for
 * results shared from a memo. `share` false freezes without marking the objects for
 * isDeepFrozen, for a value no memo keeps (its objects then keep the shape they were made with).
 * An object something else made non-extensible before can be frozen but not marked.
 */
export function deepFreeze<T>(v: T, share = true): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !isDeepFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x, share);
    if (share && Object.isExtensible(v)) Object.defineProperty(v, SHARED, { value: true });
    Object.freeze(v);
  }
  return v;
}

/** True when `v` went through deepFreeze (shared): neither it nor anything it holds (typed arrays aside) can change. */
export function isDeepFrozen(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.hasOwn(v, SHARED);
}
