# Shared settings of the make entry points; sourced by the scripts in scripts/. Every value can be
# overridden from the environment (make run BALATRIX_PGPORT=15433 ...).
# shellcheck shell=bash

BALATRIX_ROOT=${BALATRIX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Where private clusters, logs and pid files live (git-ignored).
BALATRIX_RUN_DIR=${BALATRIX_RUN_DIR:-$BALATRIX_ROOT/.run}

# The private cluster of `make run` / `make psql`.
BALATRIX_CLUSTER=${BALATRIX_CLUSTER:-pg}
BALATRIX_PGPORT=${BALATRIX_PGPORT:-15432}
BALATRIX_PGHOST=${BALATRIX_PGHOST:-127.0.0.1}
BALATRIX_DB=${BALATRIX_DB:-balatrix}
BALATRIX_PG_TIMEZONE=${BALATRIX_PG_TIMEZONE:-Asia/Kolkata}

# The sidecar of `make run`.
BALATRIX_SIDECAR_PORT=${BALATRIX_SIDECAR_PORT:-3000}
BALATRIX_SIDECAR_BIN=${BALATRIX_SIDECAR_BIN:-$BALATRIX_ROOT/build/sidecar/balatrix-sidecar}

# The throwaway cluster of `make test` (its own port, so a running `make run` is left alone).
BALATRIX_TEST_PGPORT=${BALATRIX_TEST_PGPORT:-25432}
BALATRIX_TEST_SIDECAR_PORT=${BALATRIX_TEST_SIDECAR_PORT:-25480}

PGBIN=${PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
