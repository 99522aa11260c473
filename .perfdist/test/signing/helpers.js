/** Shared test plumbing for the signing tests: a freshly minted openssl PKI and an openssl runner. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
/** repo root: dist/test/signing → ../../.. */
export const repoRoot = resolve(here, '..', '..', '..');
export function hasTool(name) {
    return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
export const OPENSSL_MISSING = hasTool('openssl') ? false : 'openssl is not installed (apt-get install openssl)';
export function tempDir(prefix) {
    const dir = mkdtempSync(join(tmpdir(), `bpfsign-${prefix}-`));
    return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
/** Runs test/fixtures/pki/mint.sh into a temp directory. */
export function mintPki() {
    const t = tempDir('pki');
    execFileSync('bash', [join(repoRoot, 'test', 'fixtures', 'pki', 'mint.sh'), t.dir], { stdio: 'pipe' });
    return {
        dir: t.dir,
        path: (n) => join(t.dir, n),
        read: (n) => readFileSync(join(t.dir, n)),
        text: (n) => readFileSync(join(t.dir, n), 'utf8'),
        cleanup: t.cleanup,
    };
}
export function openssl(args, input) {
    const r = spawnSync('openssl', args, { input, env: { ...process.env, OPENSSL_CONF: '/dev/null' } });
    return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
/** openssl's view of a certificate's SKI, lower-case hex without colons. */
export function opensslSki(certPath) {
    const r = openssl(['x509', '-in', certPath, '-noout', '-ext', 'subjectKeyIdentifier']);
    const m = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(r.stdout);
    if (!m)
        throw new Error(`no SKI in ${certPath}: ${r.stdout}${r.stderr}`);
    return m[1].replace(/:/g, '').toLowerCase();
}
export function writeFile(dir, name, data) {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
}
export function randomBytes(n, seed = 1) {
    const out = new Uint8Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
    }
    return out;
}
//# sourceMappingURL=helpers.js.map