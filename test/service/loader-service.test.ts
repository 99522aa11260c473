/**
 * The loader service on a real store and log: a signing request is built, signed, logged and
 * stored in one call, answered with the bundle and its proof; stored loaders read back as made.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildOptions, LoaderServiceError } from '../../src/service/loader-service.js';
import { loaderService as service, OBJECT as obj, OPTIONS } from '../support/loader-service.js';

/** What `fn` rejects with, as a LoaderServiceError. */
async function refusal(fn: () => Promise<unknown>): Promise<LoaderServiceError> {
  const e = await fn().then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(e instanceof LoaderServiceError, `want a LoaderServiceError, got ${String(e)}`);
  return e;
}

describe('LoaderService', () => {
  describe('sign', () => {
    it('answers the bundle with its log proof as the bytes JSON.stringify gives, with links where it is served', async () => {
      const timed: string[] = [];
      const { svc } = await service({ timed });
      const made = await svc.sign(obj, OPTIONS);
      const answer = JSON.parse(made.json.toString('utf8'));
      assert.equal(made.json.toString('utf8'), JSON.stringify(answer));
      assert.equal(made.id, '00000000-0000-4000-8000-000000000001');
      assert.equal(made.location, `/v1/loaders/${made.id}`);
      assert.equal(made.logIndex, '0');
      assert.equal(made.keyId, 'k1');
      assert.equal(answer.bundle.tlog.logIndex, '0');
      assert.deepEqual(answer.links, {
        self: made.location,
        header: `${made.location}/lskel.h`,
        insns: `${made.location}/insns`,
        data: `${made.location}/data`,
        signature: `${made.location}/signature`,
        manifest: `${made.location}/manifest`,
      });
      assert.deepEqual(timed, ['linux-6.18']);
    });

    it("stores a logged loader's files as blobs and its row without them, and reads the bundle back whole", async () => {
      const { svc, store } = await service();
      const made = await svc.sign(obj, OPTIONS);
      const answer = JSON.parse(made.json.toString('utf8'));
      const row = await store.getBundle(made.id);
      assert.ok(row);
      assert.equal(row.logIndex, 0n);
      assert.equal(row.signer, 'k1');
      assert.equal(row.createdAt, '2026-12-01T00:00:00.000Z');
      const stored = JSON.parse(row.bundle);
      assert.equal(stored.v, 2);
      assert.deepEqual(stored.bundle.loader, { insns: '', data: '' });
      assert.equal(stored.bundle.manifest, null);
      assert.equal(stored.refs.manifest, 'log');
      assert.deepEqual(await store.getBlob(stored.refs.insns), new Uint8Array(Buffer.from(answer.bundle.loader.insns, 'base64')));
      assert.deepEqual(await svc.bundle(made.id), answer.bundle);
      assert.deepEqual(await svc.part(made.id, 'signature'), Buffer.from(answer.bundle.signature, 'base64'));
      assert.match(await svc.header(made.id), /struct xdp_filter \{/);
      assert.equal(JSON.parse(await svc.manifest(made.id)).scheme, 'linux-6.18');
    });

    it('signs a loader made again by the same key once: the next request gets the same signatures, logged as an entry of its own', async () => {
      const { svc, store } = await service();
      const [a, b] = [await svc.sign(obj, OPTIONS), await svc.sign(obj, OPTIONS)];
      const [x, y] = [a, b].map((m) => JSON.parse(m.json.toString('utf8')).bundle);
      assert.notEqual(a.id, b.id);
      assert.deepEqual([a.logIndex, b.logIndex], ['0', '1']);
      assert.equal(y.signature, x.signature);
      assert.deepEqual(y.manifest, x.manifest);
      const entries = [await store.logEntry(0n), await store.logEntry(1n)];
      assert.equal(entries[1]?.ref, b.id);
      assert.deepEqual(await svc.bundle(b.id), { ...y, tlog: (await svc.bundle(b.id)).tlog });
      assert.equal((await svc.bundle(a.id)).manifest?.signatures[0]?.sig, x.manifest.signatures[0].sig);
    });

    it('signs every request anew with the loader cache off (ECDSA: every signature differs)', async () => {
      const { svc } = await service({ cacheEntries: 0 });
      const [x, y] = [await svc.sign(obj, OPTIONS), await svc.sign(obj, OPTIONS)].map((m) => JSON.parse(m.json.toString('utf8')).bundle);
      assert.notEqual(y.signature, x.signature);
      assert.notEqual(y.manifest.signatures[0].sig, x.manifest.signatures[0].sig);
      assert.equal(y.manifest.payload, x.manifest.payload);
    });

    it('stores an unsigned loader without a log entry, and has no signature or manifest to give for it', async () => {
      const timed: string[] = [];
      const { svc, log } = await service({ timed });
      const made = await svc.sign(obj, { ...OPTIONS, scheme: 'unsigned' });
      assert.equal(made.logIndex, null);
      assert.equal(made.keyId, null);
      assert.equal(JSON.parse(made.json.toString('utf8')).bundle.tlog, null);
      assert.equal((await log.checkpoint()).size, 0n);
      assert.equal((await refusal(() => svc.part(made.id, 'signature'))).code, 'NOT_SIGNED');
      assert.equal((await refusal(() => svc.manifest(made.id))).code, 'NOT_SIGNED');
      assert.deepEqual(timed, ['unsigned']);
    });

    it('refuses an unknown key with KEY_NOT_FOUND naming the field, before building anything, and logs nothing', async () => {
      const timed: string[] = [];
      const { svc, log, loaders } = await service({ timed });
      const e = await refusal(() => svc.sign(obj, { ...OPTIONS, key: 'nope' }));
      assert.equal(e.code, 'KEY_NOT_FOUND');
      assert.deepEqual(e.details, { field: 'key', got: 'nope' });
      assert.equal(loaders.stats.misses, 0);
      assert.equal((await log.checkpoint()).size, 0n);
      assert.deepEqual(timed, []);
    });
  });

  it('answers LOADER_NOT_FOUND for a loader it never stored', async () => {
    const { svc } = await service();
    const e = await refusal(() => svc.bundle('00000000-0000-4000-8000-999999999999'));
    assert.equal(e.code, 'LOADER_NOT_FOUND');
    assert.deepEqual(e.details, { id: '00000000-0000-4000-8000-999999999999' });
  });

  it('finds signed manifests by object digest and by instructions digest', async () => {
    const { svc } = await service();
    const made = await svc.sign(obj, OPTIONS);
    const manifest = JSON.parse(await svc.manifest(made.id));
    const byObject = await svc.manifestsByDigest(manifest.object.sha256);
    assert.deepEqual(
      byObject.map((m) => [m.id, m.logIndex]),
      [[made.id, '0']],
    );
    assert.deepEqual(byObject[0].envelope, JSON.parse(made.json.toString('utf8')).bundle.manifest);
    assert.equal((await svc.manifestsByDigest(manifest.loader.insns.sha256)).length, 1);
  });
});

describe('buildOptions', () => {
  it('packs the kernel version as KERNEL_VERSION(a, b, min(c, 255)) and keeps the host values in their order', () => {
    const o = buildOptions({ ...OPTIONS, kernelVersion: '6.1.300', cpus: 4, pageSize: 16384, profile: 'linux-6.18-excl' });
    assert.deepEqual(o, {
      scheme: 'linux-6.18',
      name: 'xdp_filter',
      flavour: 'v1.7',
      standalone: false,
      mapExcl: true,
      host: { kernelVersion: 0x0601ff, possibleCpus: 4, pageSize: 16384 },
    });
    assert.deepEqual(Object.keys(o.host), ['kernelVersion', 'possibleCpus', 'pageSize']);
    assert.equal(buildOptions({ ...OPTIONS, kernelVersion: '5.10' }).host.kernelVersion, 0x050a00);
    assert.deepEqual(buildOptions(OPTIONS).host, {});
  });
});
