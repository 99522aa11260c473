/** Values frozen all the way down by deepFreeze (roots only), so memos may key on their identity. */
const deep = new WeakSet<object>();

/** Freezes a value and everything it holds (typed arrays excepted: they cannot be frozen), for results shared from a memo. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !deep.has(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
    deep.add(v);
  }
  return v;
}

/** True when `v` went through deepFreeze: neither it nor anything it holds (typed arrays aside) can change. */
export function isDeepFrozen(v: unknown): boolean {
  return typeof v === 'object' && v !== null && deep.has(v);
}
