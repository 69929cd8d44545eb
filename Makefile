# Balatrix — the PGXS build of the balatrix extension, and the project's entry points.
#
#   make run    deps, build, install, private cluster with demo data, sidecar on :3000
#   make stop   stop the sidecar and the private cluster
#   make test   deps, build, every test suite; prints "N passed, M failed"
#   make psql   psql on the private cluster (reads SQL from stdin when it is not a terminal)
#   make bench  benchmarks (results belong in BENCHMARKS.md); make bench-rating: the rating ones,
#               make bench-billing: the billing cycle, make bench-api: the sidecar under wrk
#   make deps   install the Debian packages the project needs (idempotent, fast when present)
#
# The extension (balatrix.so) is built here by PGXS from extension/core and extension/pg; CMake
# (CMakeLists.txt, into build/) builds the same core as a library for the unit tests, and the
# sidecar. Settings for the private cluster and the sidecar are in scripts/env.sh.

PG_CONFIG ?= pg_config

EXTENSION  = balatrix
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" balatrix.control)
MODULE_big = balatrix

CORE_SRCS = $(sort $(wildcard extension/core/src/*.cpp))
PG_SRCS   = $(sort $(wildcard extension/pg/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script of the current version is generated from the one file we edit
# (extension/sql/balatrix.sql). Frozen full scripts of released versions and the upgrade scripts
# (balatrix--A--B.sql) are installed as they are.
DATA_built = extension/sql/balatrix--$(EXTVERSION).sql
DATA       = $(wildcard extension/sql/balatrix--*--*.sql extension/sql/released/balatrix--*.sql)

# pg_regress: one file per SQL area in sql/, golden output in expected/. The extension is created
# in the regression database before the first test.
REGRESS      = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=balatrix

# -isystem: PG 15 headers use `register` (an error in C++17 under clang, a warning under g++) and
# trip -Wunused-parameter; as system headers they are quiet. -MMD -MP: header dependencies, which
# PGXS does not track.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Iextension/core/include -Iextension/pg
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wshadow -Wno-unused-parameter -MMD -MP
# PGXS links with gcc: the module must carry its own libstdc++ dependency.
SHLIB_LINK  = -lstdc++

# No LLVM bitcode: PGXS would compile every .cpp again with clang-14 for JIT inlining, which buys
# nothing for these functions and doubles the build.
override with_llvm = no

EXTRA_CLEAN = $(OBJS:.o=.d) results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.DEFAULT_GOAL := all

$(DATA_built): extension/sql/balatrix.sql balatrix.control
	cp $< $@

# Every entry point depends on deps (scripts/deps.sh returns in well under a second when all
# packages are present).
$(OBJS): | deps

-include $(OBJS:.o=.d)

BUILD_DIR ?= build
CMAKE_BUILD_TYPE ?= RelWithDebInfo

.PHONY: deps cmake-build sidecar build run stop psql test bench bench-rating bench-billing bench-api format cluster-start cluster-stop cluster-destroy

deps:
	@scripts/deps.sh

# CMake: core library, unit tests, sidecar and its tests.
cmake-build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j$(shell nproc)

sidecar: cmake-build

# Everything: the extension (PGXS) and the CMake targets.
build: all cmake-build

run: build
	@scripts/install-ext.sh
	@scripts/run.sh start

stop:
	@scripts/run.sh stop

psql:
	@scripts/pg.sh psql

test: build
	@scripts/test.sh

bench: build
	@scripts/bench.sh

# CDR rating benchmarks only (bench/rating_*.sh).
bench-rating: build
	@scripts/bench.sh rating_

# Billing cycle benchmark only (bench/billing_*.sh).
bench-billing: build
	@scripts/bench.sh billing_

# The REST sidecar under load (bench/api.sh): wrk on loopback against /health and an authenticated route.
bench-api: build
	@scripts/bench.sh api

cluster-start:
	@scripts/pg.sh start
cluster-stop:
	@scripts/pg.sh stop
cluster-destroy:
	@scripts/pg.sh destroy

# Formats the C++ changed since the last commit (git clang-format).
format:
	@git clang-format --extensions cpp,hpp,h HEAD 2>/dev/null || git clang-format --extensions cpp,hpp,h
