#!/usr/bin/env bash
# Installs the Debian packages bpfsign's tests use as oracles and fixtures' toolchain:
# clang/llvm (llvm-objdump, llvm-mc), gcc-bpf, bpftool, libbpf-dev (headers, libbpf for the
# btf__parse benchmark), xdp-tools/libxdp (third-party .o files), gcc and make, and wrk (the
# HTTP load generator of `npm run bench`), and Go with golang.org/x/mod (sumdb/note, sumdb/tlog:
# the third-party log client test/go/tlogcheck, built in GOPATH mode from /usr/share/gocode) and
# golang.org/x/sys/unix (the Go light skeletons' one dependency, test/loader/gen/kernel-go.test.ts), and
# chromium (the web console's browser tests, test/e2e/console.test.ts), and curl and jq (the README's
# quick start, run as written by test/docs/readme.test.ts), and rustc, cargo, rustfmt and the libc
# crate (the Rust light skeletons' tests build them offline from /usr/share/cargo/registry).
set -euo pipefail
pkgs=(clang llvm gcc gcc-bpf make bpftool libbpf-dev linux-libc-dev xdp-tools libxdp1 libxdp-dev openssl softhsm2 wrk golang-go golang-golang-x-mod-dev golang-golang-x-sys-dev chromium curl jq rustc cargo librust-libc-dev rustfmt)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: ${#missing[@]} package(s) installed; clang $(clang --version | head -1 | grep -o '[0-9.]*' | head -1), bpftool $(bpftool version | head -1 | awk '{print $2}')"
