#!/usr/bin/env bash
# build.sh: the one place that says how a release farmd binary is built.
#
#   scripts/build.sh OUTPUT
#
# The Dockerfile's build stage runs this script, and scripts/crossbuild.sh and
# scripts/static-proof.sh run it too, so the command CI proves is the command
# the image ships. It takes the target the way `docker buildx` hands it over:
#
#   TARGETOS       GOOS (default: the host's, from `go env GOOS`)
#   TARGETARCH     GOARCH (default: the host's)
#   TARGETVARIANT  optional: v6/v7 -> GOARM=6/7 on arm, v2/v3/v4 -> GOAMD64 on
#                  amd64; ignored elsewhere (arm64/v8 is the only arm64 level)
#   VERSION        stamped into `farmd --version` (default: empty, which
#                  makes farmd fall back to the module version or "devel")
#
# The result is a static, stripped, reproducible-path binary: CGO_ENABLED=0,
# -trimpath, -ldflags "-s -w -X main.version=$VERSION".
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 OUTPUT" >&2
	exit 2
fi
out="$1"
case "$out" in
/*) ;;
*) out="$PWD/$out" ;; # relative to where the caller stands, not the repo
esac
cd "$(dirname "$0")/.."

os="${TARGETOS:-$(go env GOOS)}"
arch="${TARGETARCH:-$(go env GOARCH)}"
variant="${TARGETVARIANT:-}"
version="${VERSION:-}"

# buildx's TARGETVARIANT is "v7" for linux/arm/v7; Go wants GOARM=7.
goarm=""
goamd64=""
case "$arch/$variant" in
arm/) goarm=7 ;; # linux/arm without a variant: be explicit, not the toolchain's default
arm/v5 | arm/v6 | arm/v7) goarm="${variant#v}" ;;
amd64/) ;;
amd64/v1 | amd64/v2 | amd64/v3 | amd64/v4) goamd64="$variant" ;;
*/) ;;
arm64/v8) ;;
*)
	echo "build: unsupported variant ${variant} for ${os}/${arch}" >&2
	exit 2
	;;
esac

echo "build: ${os}/${arch}${variant:+/$variant} GOARM=${goarm:-} GOAMD64=${goamd64:-} version=${version:-<none>} -> ${out}" >&2
env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOARM="$goarm" GOAMD64="$goamd64" \
	go build -trimpath -ldflags "-s -w -X main.version=${version}" -o "$out" ./cmd/farmd
