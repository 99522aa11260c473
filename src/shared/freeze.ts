/** Values frozen all the way down by deepFreeze, each object in them too, so memos may key on their identity. */
const deep = new WeakSet<object>();

/**
 * Freezes a value and everything it holds (typed arrays excepted: they cannot be frozen), for
 * results shared from a memo. `share` false freezes without recording the objects for
 * isDeepFrozen, for a value no memo keeps: what a weak collection holds survives V8's scavenges
 * (as a WeakMap keyed by built loaders showed), so a few hundred short-lived objects recorded per
 * request would be copied and promoted.
 */
export function deepFreeze<T>(v: T, share = true): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !deep.has(v)) {
    for (const x of Object.values(v)) deepFreeze(x, share);
    Object.freeze(v);
    if (share) deep.add(v);
  }
  return v;
}

/** True when `v` went through deepFreeze (shared): neither it nor anything it holds (typed arrays aside) can change. */
export function isDeepFrozen(v: unknown): boolean {
  return typeof v === 'object' && v !== null && deep.has(v);
}
