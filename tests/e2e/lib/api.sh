# Helpers for the end-to-end API tests (sourced after lib/tap.sh; not a test itself).
#
#   api_init                       checks the environment, sets the signing key, starts the sidecar, waits for it
#   as_postgres SQL...             psql as the superuser on the test database (-At, ON_ERROR_STOP); prints rows
#   new_customer EMAIL             a customer user with its customer and a prepaid account:
#                                  prints "user_id customer_id account_id"
#   new_staff ROLE EMAIL           a staff (or reseller) user; prints its id
#   token_for USER_ID ROLE         a live session (refresh-token family) and an access token signed with
#                                  JWT_SECRET (perl's Digest::SHA, independent of the sidecar's code); prints it
#   req NAME METHOD PATH [TOKEN] [BODY]
#                                  curl; body -> $WORK/NAME.body, headers -> $WORK/NAME.headers; prints the status.
#                                  TOKEN "-" or "" sends no Authorization; BODY is sent as application/json
#   jq_ NAME PERL-EXPR             evaluates PERL-EXPR with $j = the decoded body of NAME; prints the result
#   api_finish                     the last tests: no response was a 500 and the sidecar did not crash; prints
#                                  the plan; returns non-zero when any test failed
#
# Environment (from scripts/test.sh): BALATRIX_SIDECAR_BIN, BALATRIX_TEST_DATABASE_URL (as balatrix_api),
# BALATRIX_E2E_PORT, BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT, BALATRIX_TEST_DB.
# Extra sidecar settings: put NAME=VALUE words in the array API_SIDECAR_ENV before api_init.

API_BIN=${BALATRIX_SIDECAR_BIN:-}
API_DB_URL=${BALATRIX_TEST_DATABASE_URL:-}
PORT=${BALATRIX_E2E_PORT:-}
PGH=${BALATRIX_TEST_PGHOST:-127.0.0.1}
PGP=${BALATRIX_TEST_PGPORT:-}
PGD=${BALATRIX_TEST_DB:-}
BASE="http://127.0.0.1:${PORT}"
JWT_SECRET_VALUE="e2e-api-jwt-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
SIDECAR_PID=""
WORK=""

api_cleanup() {
	if [[ -n $SIDECAR_PID ]] && kill -0 "$SIDECAR_PID" 2>/dev/null; then
		kill -TERM "$SIDECAR_PID" 2>/dev/null
		wait "$SIDECAR_PID" 2>/dev/null
	fi
	# Stand-ins started through lib/fakes.sh.
	if declare -F stop_fakes >/dev/null; then stop_fakes; fi
	[[ -n $WORK && -z ${KEEP_WORK:-} ]] && rm -rf "$WORK"
	[[ -n ${FAKE_WORK:-} && -z ${KEEP_WORK:-} ]] && rm -rf "$FAKE_WORK"
}

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGH" -p "$PGP" -U postgres -d "$PGD" "$@"; }

api_init() {
	[[ -n $API_BIN && -x $API_BIN ]] || { echo "Bail out! BALATRIX_SIDECAR_BIN is not an executable: '${API_BIN}'"; exit 1; }
	[[ -n $API_DB_URL && -n $PGP && -n $PGD ]] || { echo "Bail out! the test database is not set"; exit 1; }
	[[ $PORT =~ ^[0-9]+$ ]] || { echo "Bail out! BALATRIX_E2E_PORT is not a port: '${PORT}'"; exit 1; }
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/api_e2e.XXXXXX")
	trap api_cleanup EXIT
	as_postgres -c "SELECT balatrix.set_api_signing_key('$JWT_SECRET_VALUE')" >/dev/null ||
		{ echo "Bail out! cannot set the signing key"; exit 1; }
	env -i PATH="$PATH" DATABASE_URL="$API_DB_URL" JWT_SECRET="$JWT_SECRET_VALUE" PORT="$PORT" \
		LISTEN_ADDRESS=127.0.0.1 LOG_LEVEL=info DB_POOL_TIMEOUT_MS=3000 \
		RATE_LIMIT_API=0 RATE_LIMIT_LOGIN=0 RATE_LIMIT_REGISTER=0 RATE_LIMIT_PASSWORD_RESET=0 \
		RATE_LIMIT_REFRESH=0 RATE_LIMIT_CDR=0 "${API_SIDECAR_ENV[@]}" \
		"$API_BIN" >"$WORK/sidecar.log" 2>&1 &
	SIDECAR_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SIDECAR_PID" 2>/dev/null || break
		[[ $(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$BASE/health/live") == 200 ]] && return 0
		sleep 0.1
	done
	echo "Bail out! the sidecar did not start"
	cat "$WORK/sidecar.log" | sed 's/^/# /'
	exit 1
}

# A unique suffix for e-mail addresses, so scripts can run twice against one database.
uniq_suffix() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }

new_customer() { # new_customer EMAIL -> "user_id customer_id account_id"
	as_postgres <<SQL
WITH u AS (
    INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role)
    VALUES ('$1', '\$argon2id\$unusable', 'Test', 'Customer', 'customer') RETURNING id
), c AS (
    INSERT INTO balatrix.customers (user_id, name, email, billing_state_code)
    SELECT id, 'Customer $1', '$1', '29' FROM u RETURNING id
), a AS (
    INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    SELECT id, 'ACC' || substr(md5(random()::text), 1, 12), 'prepaid' FROM c RETURNING id
)
SELECT (SELECT id FROM u) || ' ' || (SELECT id FROM c) || ' ' || (SELECT id FROM a);
SQL
}

new_staff() { # new_staff ROLE EMAIL -> user id
	as_postgres -c "INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role)
	                VALUES ('$2', '\$argon2id\$unusable', 'Test', 'Staff', '$1') RETURNING id"
}

token_for() { # token_for USER_ID ROLE -> access token of a fresh session
	local family
	family=$(as_postgres -c "INSERT INTO balatrix.refresh_tokens (user_id, family_id, token_hash, expires_at)
	                         VALUES ('$1', gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), now() + interval '1 day')
	                         RETURNING family_id") || return 1
	perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '
		sub b64u { my $s = encode_base64($_[0], ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; return $s; }
		my ($secret, $sub, $role, $sid) = @ARGV;
		my $now = time;
		my $header = b64u(q({"alg":"HS256","typ":"JWT"}));
		my $jti = join("", map { sprintf("%02x", int(rand(256))) } 1 .. 16);
		my $payload = b64u(qq({"iss":"balatrix","sub":"$sub","aud":"balatrix-api","iat":$now,"exp":) . ($now + 900)
			. qq(,"jti":"$jti","sid":"$sid","role":"$role"}));
		print "$header.$payload." . b64u(hmac_sha256("$header.$payload", $secret));
	' "$JWT_SECRET_VALUE" "$1" "$2" "$family"
}

req() { # req NAME METHOD PATH [TOKEN] [BODY] -> status
	local name=$1 method=$2 path=$3 token=${4:-} body=${5:-}
	local args=(-sS --max-time 20 -o "$WORK/$name.body" -D "$WORK/$name.headers" -w '%{http_code}' -X "$method")
	[[ -n $token && $token != - ]] && args+=(-H "Authorization: Bearer $token")
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "$BASE$path" 2>"$WORK/$name.curl" || echo "000"
}

jq_() { # jq_ NAME PERL-EXPR
	perl -MJSON::PP -e '
		local $/; open(my $fh, "<", $ARGV[0]) or exit 2; my $text = <$fh>;
		my $j = eval { JSON::PP->new->utf8->allow_nonref->decode($text) } or exit 3;
		my $v = eval $ARGV[1]; exit 4 if $@;
		print defined $v ? (JSON::PP::is_bool($v) ? ($v ? "true" : "false") : (ref $v ? JSON::PP->new->canonical->encode($v) : $v)) : "null";
	' "$WORK/$1.body" "$2"
}

api_finish() {
	local fives
	fives=$(grep -c '"status":5[0-9][0-9]' "$WORK/sidecar.log" 2>/dev/null)
	fives=${fives:-0}
	ok "$([ "$fives" -eq 0 ]; echo $?)" "no response was a 5xx" "$(grep '"status":5[0-9][0-9]' "$WORK/sidecar.log" | head -5)"
	kill -0 "$SIDECAR_PID" 2>/dev/null
	ok $? "the sidecar is still running (no crash)" "$(tail -5 "$WORK/sidecar.log")"
	if [[ $failed -gt 0 ]]; then
		KEEP_WORK=1
		echo "# sidecar log kept in $WORK/sidecar.log"
	fi
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
