/*
 * balatrix 0.1.0 -> 0.2.0: CDR rating (in progress).
 *
 * Every change made to balatrix.sql for 0.2.0 is repeated here; `make test` proves an install
 * upgraded from 0.1.0 equals a fresh 0.2.0 install (scripts/upgrade-check.sh).
 */
\echo Use "ALTER EXTENSION balatrix UPDATE TO '0.2.0'" to load this file. \quit
