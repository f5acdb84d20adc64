#!/usr/bin/env bash
# crossbuild.sh: prove the Dockerfile's build stage for every platform the
# image is published for, without a Docker engine.
#
# For linux/amd64, linux/arm64 and linux/arm/v7 it runs scripts/build.sh (the
# script the Dockerfile runs, with the TARGETOS/TARGETARCH/TARGETVARIANT that
# buildx would pass) into a temporary directory, then checks each binary:
#   - its ELF header names the right class and machine,
#   - it has no PT_INTERP or PT_DYNAMIC program header (static: no libc,
#     no dynamic loader),
#   - the Go build info records CGO_ENABLED=0, -trimpath and the right
#     GOOS/GOARCH/GOARM,
#   - the host-native one runs and prints the stamped version.
# It first checks that the Dockerfile still builds through scripts/build.sh.
# It prints every binary's size in bytes and MiB and fails on any error.
#
#   scripts/crossbuild.sh            (VERSION=... to stamp another version)
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSION:-v0.0.0-crossbuild}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

fail() {
	echo "crossbuild: FAIL: $*" >&2
	exit 1
}

# u16/u32/u64 FILE OFFSET: little-endian unsigned integer at OFFSET.
u16() { od -An -v -j "$2" -N 2 -t u2 --endian=little "$1" | tr -d ' '; }
u32() { od -An -v -j "$2" -N 4 -t u4 --endian=little "$1" | tr -d ' '; }
u64() { od -An -v -j "$2" -N 8 -t u8 --endian=little "$1" | tr -d ' '; }

# check_elf FILE CLASS MACHINE: CLASS 1 (32-bit) or 2 (64-bit); MACHINE the
# e_machine number (62 x86-64, 183 AArch64, 40 ARM).
check_elf() {
	local f="$1" want_class="$2" want_machine="$3"
	local magic class data machine phoff phentsize phnum i ptype
	magic="$(od -An -v -N 4 -t x1 "$f" | tr -d ' ')"
	[ "$magic" = "7f454c46" ] || fail "$f: not an ELF file (magic $magic)"
	class="$(od -An -v -j 4 -N 1 -t u1 "$f" | tr -d ' ')"
	data="$(od -An -v -j 5 -N 1 -t u1 "$f" | tr -d ' ')"
	[ "$class" = "$want_class" ] || fail "$f: ELF class $class, want $want_class"
	[ "$data" = 1 ] || fail "$f: not little-endian (EI_DATA $data)"
	machine="$(u16 "$f" 18)"
	[ "$machine" = "$want_machine" ] || fail "$f: e_machine $machine, want $want_machine"
	if [ "$class" = 2 ]; then
		phoff="$(u64 "$f" 32)" phentsize="$(u16 "$f" 54)" phnum="$(u16 "$f" 56)"
	else
		phoff="$(u32 "$f" 28)" phentsize="$(u16 "$f" 42)" phnum="$(u16 "$f" 44)"
	fi
	[ "$phnum" -gt 0 ] || fail "$f: no program headers"
	for ((i = 0; i < phnum; i++)); do
		ptype="$(u32 "$f" $((phoff + i * phentsize)))"
		case "$ptype" in
		2) fail "$f: has PT_DYNAMIC: dynamically linked" ;;
		3) fail "$f: has PT_INTERP: needs a dynamic loader" ;;
		esac
	done
}

# check_buildinfo FILE WANT...: every WANT line must be in `go version -m`.
check_buildinfo() {
	local f="$1" info lines want
	shift
	info="$(go version -m "$f")" || fail "$f: go version -m: no Go build info"
	# "\tbuild\tGOARM=7" -> "build GOARM=7"
	lines="$(printf '%s\n' "$info" | tr '\t' ' ' | sed 's/^ *//')"
	for want in "$@"; do
		grep -qxF "$want" <<<"$lines" || fail "$f: build info lacks '$want':"$'\n'"$info"
	done
}

# The proof below holds only if the Dockerfile builds the way this script
# does: through scripts/build.sh with buildx's target variables, on the
# build platform, into a distroless nonroot image.
dockerfile_code="$(grep -v '^[[:space:]]*#' Dockerfile)"
# shellcheck disable=SC2016 # the $ are the Dockerfile's, not ours
for want in \
	'FROM --platform=$BUILDPLATFORM golang:1.26 AS build' \
	'ARG TARGETOS TARGETARCH TARGETVARIANT' \
	'TARGETOS="$TARGETOS" TARGETARCH="$TARGETARCH" TARGETVARIANT="$TARGETVARIANT" VERSION="$VERSION"' \
	'bash scripts/build.sh /out/farmd' \
	'FROM gcr.io/distroless/static-debian12:nonroot' \
	'COPY --from=build /out/farmd /farmd' \
	'USER nonroot'; do
	grep -qF -- "$want" <<<"$dockerfile_code" || fail "Dockerfile lacks '$want'"
done
if grep -q 'go build' <<<"$dockerfile_code"; then
	fail "Dockerfile runs its own 'go build': build through scripts/build.sh so CI proves what ships"
fi

echo "crossbuild: Dockerfile builds through scripts/build.sh: ok"
host="$(go env GOOS)/$(go env GOARCH)"
printf '%-14s %12s %9s  %s\n' PLATFORM BYTES MiB CHECKS
# platform  ELF-class  e_machine  file(1) word  extra build-info line
while read -r platform class machine fileword extra; do
	IFS=/ read -r os arch variant <<<"$platform"
	bin="$out/farmd-${os}-${arch}${variant:+-$variant}"
	TARGETOS="$os" TARGETARCH="$arch" TARGETVARIANT="${variant:-}" VERSION="$version" \
		bash scripts/build.sh "$bin" 2>"$out/build.log" || fail "$platform: build failed:"$'\n'"$(cat "$out/build.log")"
	check_elf "$bin" "$class" "$machine"
	checks="elf static"
	wants=("build CGO_ENABLED=0" "build -trimpath=true" "build GOOS=$os" "build GOARCH=$arch")
	[ "$extra" = - ] || wants+=("build $extra")
	check_buildinfo "$bin" "${wants[@]}"
	checks+=" buildinfo"
	if command -v file >/dev/null 2>&1; then
		desc="$(file -b "$bin")"
		case "$desc" in
		*"$fileword"*"statically linked"*) checks+=" file(1)" ;;
		*) fail "$platform: file(1) says: $desc" ;;
		esac
	fi
	if [ "$os/$arch" = "$host" ]; then
		got="$("$bin" --version)" || fail "$platform: --version failed"
		case "$got" in
		"farmd $version "*" $os/$arch") checks+=" runs" ;;
		*) fail "$platform: --version printed '$got', want 'farmd $version ... $os/$arch'" ;;
		esac
	fi
	size="$(wc -c <"$bin" | tr -d ' ')"
	mib="$(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1048576 }')"
	printf '%-14s %12s %9s  %s\n' "$platform" "$size" "$mib" "$checks"
done <<'PLATFORMS'
linux/amd64    2 62  x86-64  -
linux/arm64    2 183 aarch64 -
linux/arm/v7   1 40  ARM     GOARM=7
PLATFORMS
echo "crossbuild: ok: 3 platforms built static with scripts/build.sh"
