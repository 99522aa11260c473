/**
 * The transparency log service: RFC 6962 leaves in the store, C2SP checkpoints signed with the
 * log's Ed25519 key, inclusion and consistency proofs. Proofs are computed from the leaf hashes
 * (O(size) per proof; tiles would make that O(log size) — see README "Scale").
 */
import { consistencyProof, formatCheckpoint, hashLeaf, inclusionProof, rootHash, signNote, } from '../signing/tlog/index.js';
const b64 = (b) => Buffer.from(b).toString('base64');
export class TransparencyLog {
    store;
    signer;
    origin;
    now;
    constructor(store, signer, origin, now) {
        this.store = store;
        this.signer = signer;
        this.origin = origin;
        this.now = now;
    }
    /** Appends one entry; returns its index and leaf hash. */
    async append(kind, ref, body) {
        const leafHash = hashLeaf(body);
        const { first } = await this.store.appendLog([{ leafHash, kind, ref, body }], this.now().toISOString());
        return { index: first, leafHash };
    }
    async #leaves(size) {
        const hashes = await this.store.leafHashes(0n, size);
        return (i) => hashes[Number(i)];
    }
    /** The signed checkpoint of the tree as it is now (stored once per size). */
    async checkpoint() {
        const size = await this.store.logSize();
        const existing = await this.store.checkpointAt(size);
        if (existing)
            return existing;
        const root = rootHash(await this.#leaves(size), size);
        const note = signNote(formatCheckpoint({ origin: this.origin, size, root }), [this.signer]);
        await this.store.putCheckpoint(size, note, this.now().toISOString());
        return { size, note };
    }
    /** Inclusion of `index` in the tree of the latest checkpoint (made now if needed). */
    async inclusion(index) {
        const cp = await this.checkpoint();
        if (index < 0n || index >= cp.size)
            throw new RangeError(`log index ${index} not in tree of size ${cp.size}`);
        const leaves = await this.#leaves(cp.size);
        return {
            logIndex: index.toString(), treeSize: cp.size.toString(), leafHash: b64(leaves(index)),
            hashes: inclusionProof(leaves, index, cp.size).map(b64), checkpoint: cp.note,
        };
    }
    async consistency(from, to) {
        const size = await this.store.logSize();
        if (from < 1n || from > to || to > size)
            throw new RangeError(`consistency ${from} → ${to}: want 1 <= from <= to <= ${size}`);
        return { from: from.toString(), to: to.toString(), hashes: consistencyProof(await this.#leaves(to), from, to).map(b64) };
    }
}
//# sourceMappingURL=log.js.map