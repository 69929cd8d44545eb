#!/bin/bash
# End-to-end: the API's rate limits, kept in PostgreSQL (balatrix.rate_limit_hits), answered 429 with
# Retry-After. Small limits so the test is quick: 3 logins and 4 API calls per window per address / user.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
API_SIDECAR_ENV=(RATE_LIMIT_LOGIN=3 RATE_LIMIT_API=4 RATE_LIMIT_REGISTER=2)
api_init
# api_init's defaults switch every limit off; the array above comes later on the command line and wins.
as_postgres -c "DELETE FROM balatrix.rate_limit_hits" >/dev/null
S=$(uniq_suffix)

for i in 1 2 3; do
	st=$(req login$i POST /api/auth/login - "{\"email\":\"nobody-$S@example.in\",\"password\":\"x\"}")
	[ "$st" = 401 ] || echo "# login $i -> $st"
done
st=$(req login4 POST /api/auth/login - "{\"email\":\"nobody-$S@example.in\",\"password\":\"x\"}")
is "$st" 429 "the 4th login from one address in the window -> 429"
is "$(jq_ login4 '$j->{error}{code}')" RATE_LIMIT_EXCEEDED "... RATE_LIMIT_EXCEEDED"
retry=$(awk 'BEGIN{IGNORECASE=1} /^Retry-After:/ {gsub(/\r/, "", $2); print $2}' "$WORK/login4.headers")
[[ $retry =~ ^[0-9]+$ ]] && [ "$retry" -ge 1 ] && [ "$retry" -le 900 ]
ok $? "Retry-After is within the 15-minute window (got '$retry')"
is "$(jq_ login4 '$j->{error}{details}{retryAfter}')" "$retry" "... and repeated in error.details.retryAfter"
is "$(as_postgres -c "SELECT hits FROM balatrix.rate_limit_hits WHERE key = 'login:127.0.0.1'")" 4 "the window lives in PostgreSQL (shared by every sidecar)"

USER=$(new_customer "rl-$S@example.in")
TOKEN=$(token_for "${USER%% *}" customer)
for i in 1 2 3 4; do
	st=$(req me$i GET /api/auth/me "$TOKEN")
	[ "$st" = 200 ] || echo "# me $i -> $st"
done
is "$(req me5 GET /api/auth/me "$TOKEN")" 429 "the 5th API call of a user in the window -> 429"
OTHER=$(new_customer "rl2-$S@example.in")
is "$(req other GET /api/auth/me "$(token_for "${OTHER%% *}" customer)")" 200 "another user is not limited by it"
as_postgres -c "UPDATE balatrix.rate_limit_hits SET window_start = window_start - interval '15 minutes' WHERE key = 'api:${USER%% *}'" >/dev/null
is "$(req me6 GET /api/auth/me "$TOKEN")" 200 "a new window starts after the old one ends"

api_finish
