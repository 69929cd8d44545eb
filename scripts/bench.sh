#!/usr/bin/env bash
# make bench: runs every benchmark in bench/*.sh (each with its baseline, side by side) and prints
# the machine and date to record with the results in BENCHMARKS.md. With an argument, only the
# benchmarks whose file name starts with it (make bench-rating runs bench/rating_*.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-ext.sh
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p'), $(. /etc/os-release && echo "$PRETTY_NAME"), $(postgres --version 2>/dev/null || "$(pg_config --bindir)/postgres" --version)"
echo "date:    $(date -u +%Y-%m-%d)"
for b in bench/"${1:-}"*.sh; do
	echo
	echo "== $b"
	bash "$b"
done
