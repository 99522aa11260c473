/*
 * bpfsign native signing primitive (N-API, C).
 *
 * One key = one prepared EVP_PKEY_CTX (sign-initialised once, with padding and signature digest
 * set) plus one reusable EVP_MD_CTX, so a signature costs one digest and one EVP_PKEY_sign: no
 * per-call context allocation, algorithm fetch or key re-parse. ECDSA output is the DER
 * Ecdsa-Sig-Value, RSA output is PKCS#1 v1.5 (DigestInfo wrapped by OpenSSL from the digest).
 *
 * OpenSSL is the one inside node (its symbols are exported by the node binary); nothing here
 * links another libcrypto. A handle is used only from the JS thread that created it.
 *
 * JS surface:
 *   load(pkcs8: Uint8Array, digest: 'sha256' | 'sha384') -> handle (private key never leaves C)
 *   signDigest(handle, digest: Uint8Array) -> Buffer   signs a precomputed digest
 *   sign(handle, data: Uint8Array) -> Buffer           hashes data with the key's digest, then signs
 *   info(handle) -> { type: 'rsa' | 'ec', bits, digest }
 *   openssl -> the OpenSSL version string this addon runs against
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIG 1024 /* RSA-8192; P-384 DER is at most 104 bytes */

typedef struct {
  EVP_PKEY *pkey;
  EVP_PKEY_CTX *pctx;
  EVP_MD *md;
  EVP_MD_CTX *mdctx;
  size_t mdlen;
  int type; /* EVP_PKEY_EC or EVP_PKEY_RSA */
  char digest[8];
} key_t_;

static void key_free(key_t_ *k) {
  if (!k) return;
  EVP_MD_CTX_free(k->mdctx);
  EVP_MD_free(k->md);
  EVP_PKEY_CTX_free(k->pctx);
  EVP_PKEY_free(k->pkey);
  free(k);
}

static void key_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  key_free((key_t_ *)data);
}

/* Throws an Error with `code` and a message ending in OpenSSL's last error (if any); clears the queue. */
static napi_value throw_ssl(napi_env env, const char *code, const char *what) {
  char msg[512];
  unsigned long e = ERR_peek_last_error();
  if (e) {
    char reason[256];
    ERR_error_string_n(e, reason, sizeof reason);
    snprintf(msg, sizeof msg, "native sign: %s: %s", what, reason);
  } else {
    snprintf(msg, sizeof msg, "native sign: %s", what);
  }
  ERR_clear_error();
  napi_throw_error(env, code, msg);
  return NULL;
}

#define CHECK_NAPI(call)                                                      \
  do {                                                                        \
    if ((call) != napi_ok) {                                                  \
      napi_throw_error(env, "ERR_NATIVE_SIGN", "native sign: N-API call failed: " #call); \
      return NULL;                                                            \
    }                                                                         \
  } while (0)

static int get_bytes(napi_env env, napi_value v, const unsigned char **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type t;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, &p, &ab, &off) != napi_ok || t != napi_uint8_array) return 0;
  *data = (const unsigned char *)p;
  return 1;
}

static key_t_ *get_key(napi_env env, napi_value v) {
  napi_valuetype vt;
  void *p = NULL;
  if (napi_typeof(env, v, &vt) != napi_ok || vt != napi_external || napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (key_t_ *)p;
}

static napi_value to_buffer(napi_env env, const unsigned char *sig, size_t len) {
  napi_value out;
  void *unused;
  CHECK_NAPI(napi_create_buffer_copy(env, len, sig, &unused, &out));
  return out;
}

static napi_value do_sign(napi_env env, key_t_ *k, const unsigned char *dgst, size_t dlen) {
  unsigned char sig[MAX_SIG];
  size_t siglen = sizeof sig;
  if (dlen != k->mdlen) {
    char what[96];
    snprintf(what, sizeof what, "digest of %zu bytes (want %zu for %s)", dlen, k->mdlen, k->digest);
    napi_throw_range_error(env, "ERR_NATIVE_SIGN_DIGEST", what);
    return NULL;
  }
  if (EVP_PKEY_sign(k->pctx, sig, &siglen, dgst, dlen) <= 0) return throw_ssl(env, "ERR_NATIVE_SIGN", "EVP_PKEY_sign failed");
  return to_buffer(env, sig, siglen);
}

static napi_value js_load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const unsigned char *der;
  size_t derlen;
  if (argc < 2 || !get_bytes(env, argv[0], &der, &derlen)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native sign: load(pkcs8: Uint8Array, digest: string)");
    return NULL;
  }
  char digest[16];
  size_t dn = 0;
  if (napi_get_value_string_utf8(env, argv[1], digest, sizeof digest, &dn) != napi_ok ||
      (strcmp(digest, "sha256") != 0 && strcmp(digest, "sha384") != 0)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "native sign: digest must be 'sha256' or 'sha384'");
    return NULL;
  }
  ERR_clear_error();
  key_t_ *k = calloc(1, sizeof *k);
  if (!k) {
    napi_throw_error(env, "ERR_NATIVE_SIGN", "native sign: out of memory");
    return NULL;
  }
  strcpy(k->digest, digest);
  const unsigned char *p = der;
  k->pkey = d2i_AutoPrivateKey(NULL, &p, (long)derlen);
  if (!k->pkey || (size_t)(p - der) != derlen) {
    key_free(k);
    return throw_ssl(env, "ERR_NATIVE_SIGN_KEY", "cannot decode the PKCS#8 private key");
  }
  k->type = EVP_PKEY_get_base_id(k->pkey);
  if (k->type != EVP_PKEY_EC && k->type != EVP_PKEY_RSA) {
    key_free(k);
    napi_throw_error(env, "ERR_NATIVE_SIGN_KEY", "native sign: key is neither RSA nor EC");
    return NULL;
  }
  if (EVP_PKEY_get_size(k->pkey) <= 0 || EVP_PKEY_get_size(k->pkey) > MAX_SIG) {
    key_free(k);
    napi_throw_error(env, "ERR_NATIVE_SIGN_KEY", "native sign: key's signature size is out of range");
    return NULL;
  }
  k->md = EVP_MD_fetch(NULL, strcmp(digest, "sha256") == 0 ? "SHA2-256" : "SHA2-384", NULL);
  k->mdctx = EVP_MD_CTX_new();
  k->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
  if (!k->md || !k->mdctx || !k->pctx || EVP_PKEY_sign_init(k->pctx) <= 0 ||
      (k->type == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(k->pctx, RSA_PKCS1_PADDING) <= 0) ||
      EVP_PKEY_CTX_set_signature_md(k->pctx, k->md) <= 0) {
    key_free(k);
    return throw_ssl(env, "ERR_NATIVE_SIGN_KEY", "cannot prepare the signing context");
  }
  k->mdlen = (size_t)EVP_MD_get_size(k->md);
  napi_value handle;
  if (napi_create_external(env, k, key_finalize, NULL, &handle) != napi_ok) {
    key_free(k);
    napi_throw_error(env, "ERR_NATIVE_SIGN", "native sign: cannot create the key handle");
    return NULL;
  }
  return handle;
}

/* (handle, bytes) arguments of sign and signDigest; on failure throws `usage` and returns 0. */
static int key_and_bytes(napi_env env, napi_callback_info info, const char *usage, key_t_ **k, const unsigned char **p, size_t *n) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_NATIVE_SIGN", "native sign: N-API call failed: napi_get_cb_info");
    return 0;
  }
  *k = argc >= 1 ? get_key(env, argv[0]) : NULL;
  if (!*k || argc < 2 || !get_bytes(env, argv[1], p, n)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", usage);
    return 0;
  }
  return 1;
}

static napi_value js_sign_digest(napi_env env, napi_callback_info info) {
  key_t_ *k;
  const unsigned char *d;
  size_t dlen;
  if (!key_and_bytes(env, info, "native sign: signDigest(handle, digest: Uint8Array)", &k, &d, &dlen)) return NULL;
  return do_sign(env, k, d, dlen);
}

static napi_value js_sign(napi_env env, napi_callback_info info) {
  key_t_ *k;
  const unsigned char *data;
  size_t len;
  if (!key_and_bytes(env, info, "native sign: sign(handle, data: Uint8Array)", &k, &data, &len)) return NULL;
  unsigned char dgst[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  if (EVP_DigestInit_ex(k->mdctx, k->md, NULL) <= 0 || EVP_DigestUpdate(k->mdctx, data, len) <= 0 ||
      EVP_DigestFinal_ex(k->mdctx, dgst, &dlen) <= 0)
    return throw_ssl(env, "ERR_NATIVE_SIGN", "digest failed");
  return do_sign(env, k, dgst, dlen);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  key_t_ *k = argc >= 1 ? get_key(env, argv[0]) : NULL;
  if (!k) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "native sign: info(handle)");
    return NULL;
  }
  napi_value o, type, bits, digest;
  CHECK_NAPI(napi_create_object(env, &o));
  CHECK_NAPI(napi_create_string_utf8(env, k->type == EVP_PKEY_RSA ? "rsa" : "ec", NAPI_AUTO_LENGTH, &type));
  CHECK_NAPI(napi_create_int32(env, EVP_PKEY_get_bits(k->pkey), &bits));
  CHECK_NAPI(napi_create_string_utf8(env, k->digest, NAPI_AUTO_LENGTH, &digest));
  CHECK_NAPI(napi_set_named_property(env, o, "type", type));
  CHECK_NAPI(napi_set_named_property(env, o, "bits", bits));
  CHECK_NAPI(napi_set_named_property(env, o, "digest", digest));
  return o;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[5];
  memset(props, 0, sizeof props);
  props[0].utf8name = "load";
  props[0].method = js_load;
  props[1].utf8name = "signDigest";
  props[1].method = js_sign_digest;
  props[2].utf8name = "sign";
  props[2].method = js_sign;
  props[3].utf8name = "info";
  props[3].method = js_info;
  napi_value version;
  if (napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version) != napi_ok) return NULL;
  props[4].utf8name = "openssl";
  props[4].value = version;
  props[4].attributes = napi_enumerable;
  if (napi_define_properties(env, exports, 5, props) != napi_ok) return NULL;
  return exports;
}
