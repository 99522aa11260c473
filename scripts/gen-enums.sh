#!/usr/bin/env bash
# Regenerates src/loader/uapi/enums.ts from the kernel's own BTF.
#
# Usage: scripts/gen-enums.sh [BTF_FILE] [OUT_FILE]
#   BTF_FILE defaults to /sys/kernel/btf/vmlinux
#   OUT_FILE defaults to src/loader/uapi/enums.ts (relative to the repo root)
#   KERNEL_LABEL (env) overrides the "Linux X.Y" label (default: from uname -r)
#
# Needs bpftool. The enum values are read from
#   bpftool btf dump file BTF_FILE format raw
# whose ENUM records look like:
#   [1892] ENUM 'bpf_prog_type' encoding=UNSIGNED size=4 vlen=34
#   	'BPF_PROG_TYPE_UNSPEC' val=0
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
btf="${1:-/sys/kernel/btf/vmlinux}"
out="${2:-$here/src/loader/uapi/enums.ts}"

if ! command -v bpftool >/dev/null 2>&1; then
  echo "gen-enums: bpftool not found" >&2
  exit 1
fi
if [ ! -r "$btf" ]; then
  echo "gen-enums: cannot read $btf" >&2
  exit 1
fi

if [ -n "${KERNEL_LABEL:-}" ]; then
  label="$KERNEL_LABEL"
else
  label="$(uname -r | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')"
fi

raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
bpftool btf dump file "$btf" format raw >"$raw"

# emit_enum ENUM_NAME CONST_NAME STRIP_PREFIX
# Prints a TS const object (name without prefix -> value) and its reverse map.
# Aliases ending in _DEPRECATED are kept in the forward map but never chosen
# as the reverse-map name; __MAX_* sentinels are dropped.
emit_enum() {
  local enum="$1" const="$2" prefix="$3"
  awk -v enum="$enum" -v const="$const" -v prefix="$prefix" '
    BEGIN { inside = 0; n = 0 }
    /^\[[0-9]+\] / {
      if (inside) { inside = 0 }
      if ($2 == "ENUM" && $3 == "\x27" enum "\x27") { inside = 1; found = 1 }
      next
    }
    inside && /^[ \t]+\x27/ {
      line = $0
      sub(/^[ \t]+\x27/, "", line)
      name = line; sub(/\x27.*$/, "", name)
      val = line; sub(/^.*val=/, "", val)
      if (name ~ /^__MAX_/) next
      if (index(name, prefix) != 1) { print "gen-enums: " name " lacks prefix " prefix > "/dev/stderr"; exit 2 }
      short = substr(name, length(prefix) + 1)
      n++; names[n] = short; vals[n] = val
      if (!(val in rev) || rev[val] ~ /_DEPRECATED$/) rev[val] = short
      if (!(val in order)) { order[val] = n; vorder[++m] = val }
    }
    END {
      if (!found) { print "gen-enums: enum " enum " not found" > "/dev/stderr"; exit 2 }
      printf "/** enum %s: name without the %s prefix -> value. */\n", enum, prefix
      printf "export const %s = {\n", const
      for (i = 1; i <= n; i++) printf "  %s: %s,\n", names[i], vals[i]
      printf "} as const;\n\n"
      printf "/** enum %s: value -> canonical name (without the %s prefix). */\n", enum, prefix
      printf "export const %s_NAME: Readonly<Record<number, string>> = {\n", const
      for (i = 1; i <= m; i++) printf "  %s: \x27%s\x27,\n", vorder[i], rev[vorder[i]]
      printf "};\n\n"
    }
  ' "$raw"
}

tmp_out="$(mktemp)"
{
  echo "// Generated from the kernel's BTF (enum bpf_prog_type, bpf_attach_type, bpf_map_type) of Linux ${label}; regenerate with scripts/gen-enums.sh"
  echo "// Do not edit by hand."
  echo
  emit_enum bpf_prog_type PROG_TYPE BPF_PROG_TYPE_
  emit_enum bpf_attach_type ATTACH_TYPE BPF_
  emit_enum bpf_map_type MAP_TYPE BPF_MAP_TYPE_
  cat <<'EOF'
export type ProgTypeName = keyof typeof PROG_TYPE;
export type AttachTypeName = keyof typeof ATTACH_TYPE;
export type MapTypeName = keyof typeof MAP_TYPE;
EOF
} >"$tmp_out"

mkdir -p "$(dirname "$out")"
mv "$tmp_out" "$out"
echo "gen-enums: wrote $out (Linux $label)"
