#!/usr/bin/env bash
# check-systemd.sh: check contrib/systemd/farmd.service with systemd-analyze.
#
#  1. `systemd-analyze security --offline=yes`: the exposure score must be
#     at most MAX_EXPOSURE (1.2); the script prints it and the items that
#     still count against it.
#  2. `systemd-analyze verify`: must exit 0 and print nothing (it exits 0
#     on an unknown key, so any output counts as a failure). verify refuses a
#     unit whose ExecStart= or ExecReload= binary is missing, so the unit is
#     verified inside a temporary root (--root) that holds a freshly built
#     farmd at /usr/local/bin/farmd, the host's /bin/kill and the host's
#     systemd units (sysinit.target, network-online.target, ...). Nothing is
#     installed on the host.
#
# Where systemd-analyze does not exist it says so and exits 0.
#   FARMD_BIN=path   use this farmd binary instead of building one
#   FARMD_UNIT=path  check this unit file instead (it is installed as
#                    farmd.service in the verify root)
set -euo pipefail
cd "$(dirname "$0")/.."

unit="${FARMD_UNIT:-contrib/systemd/farmd.service}"
max_exposure=1.2

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "check-systemd: SKIP: systemd-analyze is not installed; $unit was not checked"
	exit 0
fi
fail() {
	echo "check-systemd: FAIL: $*" >&2
	exit 1
}
[ -f "$unit" ] || fail "$unit does not exist"
echo "check-systemd: $(systemd-analyze --version | head -n 1)"

# 1. Security exposure.
report="$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1)" ||
	fail "systemd-analyze security failed:"$'\n'"$report"
score="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$report")"
[ -n "$score" ] || fail "no exposure score in the systemd-analyze security output:"$'\n'"$report"
echo "check-systemd: items still exposed:"
grep '✗' <<<"$report" | sed 's/^/  /' || true
if awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s + 0 > m + 0) }'; then
	fail "exposure score $score is above $max_exposure"
fi
echo "check-systemd: exposure score $score (at most $max_exposure): ok"

# 2. verify, in a temporary root.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
if [ -n "${FARMD_BIN:-}" ]; then
	install -m 0755 "$FARMD_BIN" "$root/usr/local/bin/farmd"
else
	bash scripts/build.sh "$root/usr/local/bin/farmd" 2>"$work/build.log" ||
		fail "cannot build farmd for the verify root:"$'\n'"$(cat "$work/build.log")"
fi
"$root/usr/local/bin/farmd" --version >/dev/null || fail "the farmd installed in the verify root does not run"
[ -x /bin/kill ] || fail "/bin/kill, which ExecReload= runs, does not exist on this machine"
install -m 0755 /bin/kill "$root/bin/kill"
for dir in /usr/lib/systemd/system /lib/systemd/system; do
	if [ -d "$dir" ]; then
		cp -a "$dir" "$root/usr/lib/systemd/"
		break
	fi
done
[ -f "$root/usr/lib/systemd/system/sysinit.target" ] || fail "no systemd units (sysinit.target) on this machine to verify against"
install -m 0644 "$unit" "$root/etc/systemd/system/farmd.service"

code=0
out="$(systemd-analyze verify --root="$root" --man=no farmd.service 2>&1)" || code=$?
if [ "$code" != 0 ] || [ -n "$out" ]; then
	fail "systemd-analyze verify (exit $code):"$'\n'"$out"
fi
echo "check-systemd: systemd-analyze verify: clean"
echo "check-systemd: ok"
