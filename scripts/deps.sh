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
	# tests: the SMTP server that captures mail (tests/fakes/smtp_capture.py)
	python3-aiosmtpd
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

# The npm `stripe` package, for one cross-check test (tests/fakes/package.json, pinned; the test skips
# without it). Best effort: no npm or no registry only skips that test.
if [ ! -d "$(dirname "$0")/../tests/fakes/node_modules/stripe" ] && command -v npm >/dev/null; then
	timeout 180 npm ci --prefix "$(dirname "$0")/../tests/fakes" --no-audit --no-fund >&2 ||
		echo "deps: npm ci in tests/fakes failed; the Stripe cross-check test will be skipped" >&2
fi

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
