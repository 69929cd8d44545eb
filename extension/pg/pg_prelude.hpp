/*
 * The only file that includes PostgreSQL headers.
 *
 * Include it last: C++ standard headers and extension/core headers first. PostgreSQL's port.h
 * redefines printf, snprintf, vsnprintf, ... as macros (pg_printf, ...); a libstdc++ header parsed
 * after that (std::to_string uses std::vsnprintf) would name functions that do not exist. After
 * the PostgreSQL headers we #undef that family again, so PG-zone code calls the C library's
 * functions; ereport/errmsg keep using PostgreSQL's own formatter internally.
 *
 * The Makefile passes the server include directory with -isystem, which silences the `register`
 * keyword in PG 15's s_lock.h and arch-x86.h (an error in C++17 under clang, a warning in g++).
 */
#pragma once

#include <cstdarg>
#include <cstdio>
#include <cstring>

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
}

#undef printf
#undef fprintf
#undef sprintf
#undef snprintf
#undef vprintf
#undef vfprintf
#undef vsprintf
#undef vsnprintf
#undef strerror
#undef strerror_r
