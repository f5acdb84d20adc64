#!/usr/bin/env bash
# Runs every Go fuzz target in the module, one after another, for a bounded
# time each (FUZZTIME, default 10s). New inputs that fail are written under
# the package's testdata/fuzz/<Target>/ by go test; commit them as seeds.
#
#   scripts/fuzz.sh                 # every target, 10 s each
#   FUZZTIME=5m scripts/fuzz.sh ./config   # one package, longer
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	mapfile -t pkgs < <(go list ./...)
fi
status=0
for pkg in "${pkgs[@]}"; do
	dir="$(go list -f '{{.Dir}}' "$pkg")"
	targets="$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)"
	for t in $targets; do
		echo "== fuzz $pkg $t ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${t}\$" -fuzztime="$fuzztime" "$pkg"; then
			echo "fuzz: $pkg $t failed" >&2
			status=1
		fi
	done
done
exit $status
