#!/usr/bin/env bash
# Installs the Debian packages Balatrix needs to build, run and test. Idempotent: when every package
# is present it only asks dpkg (well under a second) and changes nothing. Needs root (or sudo) only
# when something is missing.
set -euo pipefail

PACKAGES=(
	# build: the extension (PGXS, C++17) and the CMake targets
	g++ make cmake pkg-config postgresql-server-dev-15
	# run: PostgreSQL 15 with pg_cron
	postgresql-15 postgresql-client-15 postgresql-15-cron
	# sidecar
	libpistache-dev libpqxx-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libspdlog-dev
	# sidecar security primitives: argon2id, randomness, constant-time compares (libsodium); TOTP (liboath)
	libsodium-dev liboath-dev
	# tests: GoogleTest, pgTAP and pg_prove, curl for the end-to-end scripts
	libgtest-dev libgmock-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl curl
	# benchmarks: the prefix extension (a GiST baseline of bench/rating_lookup.sh); wrk, the HTTP load
	# generator of bench/api.sh
	postgresql-15-prefix wrk
)

missing=()
while read -r pkg status; do
	[ "$status" = "installed" ] || missing+=("$pkg")
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
# dpkg-query prints nothing for packages it has never heard of
for pkg in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || {
		[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
	}
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
	else
		echo "deps: missing packages and no root / passwordless sudo; as root run:" >&2
		echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >&2
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
