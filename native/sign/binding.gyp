{
  # bpfsign's native signing primitive: N-API, plain C, no libraries of its own. The OpenSSL
  # symbols (EVP_*, d2i_*) resolve at load time against the node binary, which exports the
  # OpenSSL it is built with; the headers are node's own (include/node/openssl), so the
  # addon is compiled against exactly the OpenSSL it runs with.
  "targets": [
    {
      "target_name": "bpfsign_sign",
      "sources": ["sign.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED"]
    }
  ]
}
