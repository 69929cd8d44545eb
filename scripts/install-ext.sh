#!/usr/bin/env bash
# Installs the built extension (balatrix.so, control file, SQL scripts) into PostgreSQL's system
# directories. Needs root, or passwordless sudo for an ordinary user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$(id -u)" -eq 0 ] || [ -w "$(pg_config --pkglibdir)" ]; then
	make --no-print-directory -s install >/dev/null
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo -n make --no-print-directory -s install PG_CONFIG="$(command -v pg_config)" >/dev/null
else
	echo "install-ext: cannot write $(pg_config --pkglibdir); run 'make install' as root once" >&2
	exit 1
fi
