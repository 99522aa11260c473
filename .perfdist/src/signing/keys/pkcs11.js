/**
 * Signer over a private key held in a PKCS#11 token (SoftHSM2, YubiHSM, cloud HSMs). The key
 * never leaves the token: we find it by label or id, ask the token to sign, and only see the
 * signature. RSA uses CKM_SHA256_RSA_PKCS; ECDSA hashes locally and uses CKM_ECDSA (the most
 * widely implemented mechanism), converting the token's r‖s to DER.
 *
 * pkcs11js is a native addon and an optional dependency; it is loaded on first use.
 */
import { createHash } from 'node:crypto';
import { ecdsaRawToDer } from '../der.js';
import { SigningError } from '../errors.js';
import { parseCertificate } from '../x509/certificate.js';
import { fromHex, toHex } from '../../shared/bytes.js';
/** Curve OIDs as DER, the form of CKA_EC_PARAMS. */
const EC_PARAMS = {
    '06082a8648ce3d030107': 'ecdsa-p256-sha256',
    '06052b81040022': 'ecdsa-p384-sha256',
};
/**
 * Loaded modules. A module is initialized while it has users and finalized when the last signer
 * closes, but never unloaded: dlclose() of some modules (SoftHSM2 over OpenSSL 3) crashes the
 * process at exit.
 */
const loaded = new Map();
function tokenError(message, e) {
    const detail = e instanceof Error ? `: ${e.message}` : '';
    return new SigningError('TOKEN_ERROR', `pkcs11: ${message}${detail}`, {}, e === undefined ? undefined : { cause: e });
}
async function open(module) {
    let lib;
    try {
        const imported = (await import('pkcs11js'));
        lib = imported.default ?? imported;
    }
    catch (e) {
        throw tokenError('the optional dependency pkcs11js is not installed', e);
    }
    let entry = loaded.get(module);
    if (!entry) {
        const pkcs11 = new lib.PKCS11();
        try {
            pkcs11.load(module);
        }
        catch (e) {
            throw tokenError(`cannot load ${module}`, e);
        }
        entry = { pkcs11, users: 0 };
        loaded.set(module, entry);
    }
    if (entry.users === 0) {
        try {
            entry.pkcs11.C_Initialize();
        }
        catch (e) {
            throw tokenError(`cannot initialize ${module}`, e);
        }
    }
    entry.users++;
    return { lib, pkcs11: entry.pkcs11 };
}
function release(module) {
    const entry = loaded.get(module);
    if (!entry || entry.users === 0)
        return;
    if (--entry.users === 0) {
        try {
            entry.pkcs11.C_Finalize();
        }
        catch {
            /* already finalized */
        }
    }
}
function findKey(lib, p, session, input) {
    const template = [{ type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY }];
    if (input.keyLabel !== undefined)
        template.push({ type: lib.CKA_LABEL, value: input.keyLabel });
    if (input.keyId !== undefined)
        template.push({ type: lib.CKA_ID, value: Buffer.from(fromHex(input.keyId)) });
    if (template.length === 1)
        throw new SigningError('KEY_INVALID', 'pkcs11: give keyLabel or keyId');
    p.C_FindObjectsInit(session, template);
    const found = p.C_FindObjects(session, 2);
    p.C_FindObjectsFinal(session);
    const what = input.keyLabel !== undefined ? `label "${input.keyLabel}"` : `id ${input.keyId}`;
    if (found.length === 0)
        throw tokenError(`no private key with ${what}`);
    if (found.length > 1)
        throw tokenError(`more than one private key with ${what}`);
    return found[0];
}
function keyAlgorithm(lib, p, session, key) {
    const [type] = p.C_GetAttributeValue(session, key, [{ type: lib.CKA_KEY_TYPE }]);
    const keyType = Number(type.value.length === 8 ? type.value.readBigUInt64LE(0) : type.value.readUInt32LE(0)); // CK_ULONG, host order
    if (keyType === lib.CKK_RSA) {
        const [mod] = p.C_GetAttributeValue(session, key, [{ type: lib.CKA_MODULUS }]);
        let n = mod.value;
        while (n.length > 0 && n[0] === 0)
            n = n.subarray(1);
        const bits = n.length * 8;
        if (bits < 2048 || bits > 4096)
            throw new SigningError('KEY_UNSUPPORTED', `pkcs11: RSA key of ${bits} bits (want 2048..4096)`);
        return 'rsa-pkcs1v15-sha256';
    }
    if (keyType === lib.CKK_EC) {
        const [params] = p.C_GetAttributeValue(session, key, [{ type: lib.CKA_EC_PARAMS }]);
        const alg = EC_PARAMS[toHex(params.value)];
        if (!alg)
            throw new SigningError('KEY_UNSUPPORTED', `pkcs11: EC key with parameters ${toHex(params.value)} (want P-256 or P-384)`);
        return alg;
    }
    throw new SigningError('KEY_UNSUPPORTED', `pkcs11: key type ${keyType} (want RSA or EC)`);
}
/** Opens a session, logs in and finds the key. Call `close()` when done. */
export async function pkcs11Signer(input) {
    let cert;
    try {
        cert = parseCertificate(input.certificate);
    }
    catch (e) {
        throw new SigningError('CERT_INVALID', `pkcs11: ${e.message}`, {}, { cause: e });
    }
    if (!cert.subjectKeyIdentifier)
        throw new SigningError('CERT_INVALID', `pkcs11: certificate ${cert.subject} has no subjectKeyIdentifier`);
    const { lib, pkcs11 } = await open(input.module);
    let session;
    try {
        const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === input.tokenLabel);
        if (!slot)
            throw tokenError(`no token labelled "${input.tokenLabel}"`);
        session = pkcs11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION);
        try {
            pkcs11.C_Login(session, lib.CKU_USER, input.pin);
        }
        catch (e) {
            throw tokenError('login failed', e);
        }
        const key = findKey(lib, pkcs11, session, input);
        const algorithm = keyAlgorithm(lib, pkcs11, session, key);
        const s = session;
        let closed = false;
        return {
            algorithm,
            subjectKeyIdentifier: fromHex(cert.subjectKeyIdentifier),
            async sign(data) {
                if (closed)
                    throw tokenError('signer is closed');
                try {
                    if (algorithm === 'rsa-pkcs1v15-sha256') {
                        pkcs11.C_SignInit(s, { mechanism: lib.CKM_SHA256_RSA_PKCS }, key);
                        return new Uint8Array(pkcs11.C_Sign(s, Buffer.from(data), Buffer.alloc(512)));
                    }
                    const digest = createHash('sha256').update(data).digest();
                    pkcs11.C_SignInit(s, { mechanism: lib.CKM_ECDSA }, key);
                    return ecdsaRawToDer(new Uint8Array(pkcs11.C_Sign(s, digest, Buffer.alloc(132))));
                }
                catch (e) {
                    throw tokenError('sign failed', e);
                }
            },
            close() {
                if (closed)
                    return;
                closed = true;
                try {
                    pkcs11.C_Logout(s);
                    pkcs11.C_CloseSession(s);
                }
                catch {
                    /* session already gone */
                }
                release(input.module);
            },
        };
    }
    catch (e) {
        if (session) {
            try {
                pkcs11.C_CloseSession(session);
            }
            catch {
                /* ignore */
            }
        }
        release(input.module);
        throw e instanceof SigningError ? e : tokenError('token operation failed', e);
    }
}
//# sourceMappingURL=pkcs11.js.map