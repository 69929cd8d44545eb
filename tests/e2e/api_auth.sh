#!/bin/bash
# End-to-end: /api/auth against the real sidecar and PostgreSQL — registration, login and lockout, token
# attacks (alg none, other key, tampering, expiry), refresh rotation and reuse detection, logout, sessions,
# password change / reset, e-mail verification, TOTP MFA with replay and backup codes, admin-created users,
# audit rows, and RLS as seen from raw SQL as balatrix_api. Expected values are written by hand; tokens are
# made with perl's Digest::SHA, independently of the sidecar's code.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
API_SIDECAR_ENV=()
api_init

S=$(uniq_suffix)
PW='Correct-Horse-9-battery'

b64u() { perl -MMIME::Base64 -e 'my $s = encode_base64($ARGV[0], ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; print $s' "$1"; }
sign() { # sign SECRET HEADER_JSON PAYLOAD_JSON
	perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '
		sub b64u { my $s = encode_base64($_[0], ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; return $s; }
		my $si = b64u($ARGV[1]) . "." . b64u($ARGV[2]);
		print $si . "." . b64u(hmac_sha256($si, $ARGV[0]));' "$1" "$2" "$3"
}
totp() { # totp BASE32 [STEP_OFFSET]
	perl -MDigest::SHA=hmac_sha1 -e '
		my $s = uc $ARGV[0]; $s =~ tr/A-Z2-7//cd;
		my $bits = join "", map { sprintf "%05b", index("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", $_) } split //, $s;
		$bits = substr($bits, 0, length($bits) - length($bits) % 8);
		my $t = int(time / 30) + ($ARGV[1] // 0);
		my $h = hmac_sha1(pack("NN", 0, $t), pack("B*", $bits));
		my $o = ord(substr($h, -1)) & 0xf;
		printf "%06d", (unpack("N", substr($h, $o, 4)) & 0x7fffffff) % 1000000;' "$1" "${2:-0}"
}

# ---- registration ----------------------------------------------------------------------------------------
EMAIL="alice-$S@example.in"
st=$(req reg POST /api/auth/register - "{\"email\":\"$EMAIL\",\"password\":\"$PW\",\"firstName\":\"Alice\",\"lastName\":\"Rao\",\"phoneNumber\":\"+919876543210\",\"role\":\"admin\"}")
is "$st" 201 "register -> 201"
is "$(jq_ reg '$j->{data}{user}{role}')" customer "registering with role admin yields a customer (response)"
is "$(as_postgres -c "SELECT role FROM balatrix.users WHERE email = '$EMAIL'")" customer "... and in the database"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.accounts a JOIN balatrix.customers c ON c.id = a.customer_id JOIN balatrix.users u ON u.id = c.user_id WHERE u.email = '$EMAIL' AND a.account_type = 'prepaid'")" 1 "registration made a customer with a prepaid account"
is "$(as_postgres -c "SELECT password_hash LIKE '\$argon2id\$%' FROM balatrix.users WHERE email = '$EMAIL'")" t "the password is stored as an argon2id hash"
REG_ACCESS=$(jq_ reg '$j->{data}{accessToken}')
st=$(req me0 GET /api/auth/me "$REG_ACCESS")
is "$st" 200 "the registration's access token works"
st=$(req dup POST /api/auth/register - "{\"email\":\"ALICE-$S@example.in\",\"password\":\"$PW\",\"firstName\":\"A\",\"lastName\":\"B\"}")
is "$st" 409 "the same e-mail in other case -> 409"
st=$(req weak POST /api/auth/register - "{\"email\":\"weak-$S@example.in\",\"password\":\"short\",\"firstName\":\"A\",\"lastName\":\"B\"}")
is "$st" 422 "weak password -> 422"
is "$(jq_ weak '$j->{error}{details}[0]{field}')" password "... naming the field"
st=$(req bademail POST /api/auth/register - "{\"email\":\"not-an-email\",\"password\":\"$PW\",\"firstName\":\"A\",\"lastName\":\"B\",\"extra\":1}")
is "$st" 422 "bad e-mail and an unknown field -> 422"
is "$(jq_ bademail 'join(",", sort map { $_->{field} } @{$j->{error}{details}})')" "email,extra" "... both reported"

# ---- login -------------------------------------------------------------------------------------------------
st=$(req login POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}")
is "$st" 200 "login -> 200"
ACCESS=$(jq_ login '$j->{data}{accessToken}')
REFRESH=$(jq_ login '$j->{data}{refreshToken}')
is "$(jq_ login '$j->{data}{expiresIn}')" 900 "access tokens live 15 minutes"
st=$(req me GET /api/auth/me "$ACCESS")
is "$st" 200 "GET /api/auth/me -> 200"
is "$(jq_ me '$j->{data}{email}')" "$EMAIL" "... the caller's e-mail"
is "$(jq_ me 'exists $j->{data}{passwordHash} ? "leak" : "none"')" none "... and no password hash"
st=$(req login_inj POST /api/auth/login - "{\"email\":\"x'or'1'='1@x.in\",\"password\":\"x' OR '1'='1\"}")
is "$st" 401 "SQL injection in the login -> 401"
st=$(req login_inj2 POST /api/auth/login - "{\"email\":\"$EMAIL'--\",\"password\":\"x\"}")
is "$st" 401 "SQL injection after a real e-mail -> 401"

# ---- token attacks -------------------------------------------------------------------------------------------
st=$(req notoken GET /api/auth/me)
is "$st" 401 "no token -> 401"
is "$(jq_ notoken '$j->{message}')" "No token provided" "... No token provided"
USER_ID=$(as_postgres -c "SELECT id FROM balatrix.users WHERE email = '$EMAIL'")
SID=$(as_postgres -c "SELECT family_id FROM balatrix.refresh_tokens WHERE user_id = '$USER_ID' ORDER BY issued_at DESC LIMIT 1")
NOW=$(date +%s)
CLAIMS="{\"iss\":\"balatrix\",\"sub\":\"$USER_ID\",\"aud\":\"balatrix-api\",\"iat\":$NOW,\"exp\":$((NOW + 900)),\"jti\":\"j1\",\"sid\":\"$SID\",\"role\":\"customer\"}"
NONE="$(b64u '{"alg":"none","typ":"JWT"}').$(b64u "$CLAIMS")."
st=$(req none GET /api/auth/me "$NONE")
is "$st" 401 "alg none -> 401"
OTHER=$(sign "another-key-another-key-another-key!!" '{"alg":"HS256","typ":"JWT"}' "$CLAIMS")
st=$(req other GET /api/auth/me "$OTHER")
is "$st" 401 "a token signed with another key -> 401"
GOOD=$(sign "$JWT_SECRET_VALUE" '{"alg":"HS256","typ":"JWT"}' "$CLAIMS")
st=$(req good GET /api/auth/me "$GOOD")
is "$st" 200 "the same claims signed with the real key -> 200 (control)"
TAMPERED="${GOOD%%.*}.$(b64u "${CLAIMS/\"role\":\"customer\"/\"role\":\"admin\"}").${GOOD##*.}"
st=$(req tampered GET /api/auth/me "$TAMPERED")
is "$st" 401 "a tampered payload (role admin) -> 401"
EXPIRED=$(sign "$JWT_SECRET_VALUE" '{"alg":"HS256","typ":"JWT"}' "{\"iss\":\"balatrix\",\"sub\":\"$USER_ID\",\"aud\":\"balatrix-api\",\"iat\":$((NOW - 4000)),\"exp\":$((NOW - 3000)),\"jti\":\"j2\",\"sid\":\"$SID\",\"role\":\"customer\"}")
st=$(req expired GET /api/auth/me "$EXPIRED")
is "$st" 401 "an expired token -> 401"
is "$(jq_ expired '$j->{message}')" "Token has expired" "... Token has expired"
FORGED_ROLE=$(sign "$JWT_SECRET_VALUE" '{"alg":"HS256","typ":"JWT"}' "${CLAIMS/\"role\":\"customer\"/\"role\":\"admin\"}")
st=$(req forged GET /api/auth/me "$FORGED_ROLE")
is "$st" 401 "a validly signed token claiming admin for a customer user -> 401 (the database checks the role)"

# ---- refresh rotation and reuse ---------------------------------------------------------------------------
st=$(req r1 POST /api/auth/refresh - "{\"refreshToken\":\"$REFRESH\"}")
is "$st" 200 "refresh -> 200"
REFRESH2=$(jq_ r1 '$j->{data}{refreshToken}')
ACCESS2=$(jq_ r1 '$j->{data}{accessToken}')
[ "$REFRESH2" != "$REFRESH" ]
ok $? "refresh rotates the refresh token"
is "$(req me2 GET /api/auth/me "$ACCESS2")" 200 "the new access token works"
st=$(req reuse POST /api/auth/refresh - "{\"refreshToken\":\"$REFRESH\"}")
is "$st" 401 "the old refresh token again -> 401"
st=$(req after_reuse POST /api/auth/refresh - "{\"refreshToken\":\"$REFRESH2\"}")
is "$st" 401 "after reuse the whole family is revoked: the newest refresh token -> 401"
is "$(req me3 GET /api/auth/me "$ACCESS2")" 401 "... and the session's access tokens stop working"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.audit_log WHERE action = 'auth.refresh_reuse' AND actor_user_id = '$USER_ID'")" 1 "reuse is audited"
st=$(req badrefresh POST /api/auth/refresh - '{"refreshToken":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}')
is "$st" 401 "an unknown refresh token -> 401"

# ---- sessions and logout -----------------------------------------------------------------------------------
req l1 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}" >/dev/null
req l2 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}" >/dev/null
A1=$(jq_ l1 '$j->{data}{accessToken}')
A2=$(jq_ l2 '$j->{data}{accessToken}')
st=$(req sess GET /api/auth/sessions "$A1")
is "$st" 200 "GET /api/auth/sessions -> 200"
is "$(jq_ sess 'scalar grep { $_->{current} } @{$j->{data}}')" 1 "... one of them marked current"
S2=$(jq_ sess '(grep { !$_->{current} } @{$j->{data}})[0]{id}')
BOB=$(new_customer "bob-$S@example.in")
BOB_TOKEN=$(token_for "${BOB%% *}" customer)
st=$(req other_sess DELETE "/api/auth/sessions/$(as_postgres -c "SELECT family_id FROM balatrix.refresh_tokens WHERE user_id = '${BOB%% *}' LIMIT 1")" "$A1")
is "$st" 404 "revoking another user's session -> 404"
is "$(req bob_me GET /api/auth/me "$BOB_TOKEN")" 200 "... which still works"
is "$(req bad_sess DELETE "/api/auth/sessions/'%20OR%201=1--" "$A1")" 404 "an injected session id -> 404"
SID2=$(as_postgres -c "SELECT family_id FROM balatrix.refresh_tokens WHERE user_id = '$USER_ID' AND revoked_at IS NULL ORDER BY issued_at DESC LIMIT 1")
st=$(req revoke DELETE "/api/auth/sessions/$SID2" "$A1")
is "$st" 200 "revoking my other session -> 200"
is "$(req a2me GET /api/auth/me "$A2")" 401 "... its access token stops working"
is "$(req a1me GET /api/auth/me "$A1")" 200 "... the current one still works"
st=$(req logout POST /api/auth/logout "$A1")
is "$st" 200 "logout -> 200"
is "$(req a1me2 GET /api/auth/me "$A1")" 401 "after logout the access token is refused"
req l3 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}" >/dev/null
req l4 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}" >/dev/null
st=$(req logoutall POST /api/auth/logout-all "$(jq_ l3 '$j->{data}{accessToken}')")
is "$st" 200 "logout-all -> 200"
is "$(req l4me GET /api/auth/me "$(jq_ l4 '$j->{data}{accessToken}')")" 401 "logout-all ends the other sessions too"

# ---- lockout -------------------------------------------------------------------------------------------------
for i in 1 2 3 4 5; do
	st=$(req bad$i POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"Wrong-password-$i\"}")
	[ "$st" = 401 ] || echo "# bad login $i -> $st"
done
is "$(jq_ bad5 '$j->{message}')" "Account has been locked for 15 minutes after too many failed logins" "the 5th failure locks the account"
st=$(req locked POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}")
is "$st" 401 "the 6th attempt, with the right password, is refused"
is "$(jq_ locked '$j->{message} =~ /locked/ ? "locked" : $j->{message}')" locked "... as locked"
is "$(as_postgres -c "SELECT locked_until BETWEEN now() + interval '14 minutes' AND now() + interval '15 minutes' FROM balatrix.users WHERE id = '$USER_ID'")" t "locked for 15 minutes"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.audit_log WHERE action = 'auth.login_failed' AND actor_user_id = '$USER_ID'")" 5 "each failure is audited"
as_postgres -c "UPDATE balatrix.users SET locked_until = now() - interval '1 second' WHERE id = '$USER_ID'" >/dev/null

# ---- change password ----------------------------------------------------------------------------------------
req l5 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}" >/dev/null
A5=$(jq_ l5 '$j->{data}{accessToken}')
PW2='Second-Horse-7-battery'
st=$(req cpw_bad POST /api/auth/change-password "$A5" "{\"currentPassword\":\"nope\",\"newPassword\":\"$PW2\"}")
is "$st" 422 "change password with a wrong current password -> 422"
st=$(req cpw POST /api/auth/change-password "$A5" "{\"currentPassword\":\"$PW\",\"newPassword\":\"$PW2\"}")
is "$st" 200 "change password -> 200"
is "$(req a5me GET /api/auth/me "$A5")" 401 "... every session ends"
is "$(req l6 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW\"}")" 401 "the old password no longer works"
is "$(req l7 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW2\"}")" 200 "the new one does"

# ---- forgot / reset password ---------------------------------------------------------------------------------
st=$(req fp_unknown POST /api/auth/forgot-password - "{\"email\":\"nobody-$S@example.in\"}")
is "$st" 200 "forgot password for an unknown address -> 200"
st=$(req fp POST /api/auth/forgot-password - "{\"email\":\"$EMAIL\"}")
is "$st" 200 "forgot password -> 200"
is "$(jq_ fp '$j->{message}')" "$(jq_ fp_unknown '$j->{message}')" "... the same answer either way"
RESET=$(as_postgres -c "SELECT payload->>'token' FROM balatrix.event_outbox WHERE event_type = 'user.password_reset_requested' AND payload->>'email' = '$EMAIL' ORDER BY id DESC LIMIT 1")
[ -n "$RESET" ]
ok $? "the reset token is in the outbox event that mails it"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.user_tokens WHERE token_hash = sha256('$RESET'::bytea)")" 1 "only its SHA-256 is stored"
PW3='Third-Horse-5-battery!'
st=$(req rp POST /api/auth/reset-password - "{\"token\":\"$RESET\",\"password\":\"$PW3\"}")
is "$st" 200 "reset password -> 200"
st=$(req rp2 POST /api/auth/reset-password - "{\"token\":\"$RESET\",\"password\":\"$PW3\"}")
is "$st" 422 "the reset token is single-use"
is "$(req l8 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\"}")" 200 "login with the reset password"
A8=$(jq_ l8 '$j->{data}{accessToken}')

# ---- e-mail verification ---------------------------------------------------------------------------------------
VERIFY=$(as_postgres -c "SELECT payload->>'token' FROM balatrix.event_outbox WHERE event_type = 'user.email_verification_requested' AND payload->>'email' = '$EMAIL' ORDER BY id DESC LIMIT 1")
st=$(req ve GET "/api/auth/verify-email/$VERIFY")
is "$st" 200 "verify e-mail -> 200"
is "$(as_postgres -c "SELECT email_verified_at IS NOT NULL FROM balatrix.users WHERE id = '$USER_ID'")" t "... the address is verified"
is "$(req ve2 GET "/api/auth/verify-email/$VERIFY")" 400 "the verification token is single-use"

# ---- MFA -----------------------------------------------------------------------------------------------------
st=$(req mfa POST /api/auth/mfa/setup "$A8")
is "$st" 200 "MFA setup -> 200"
SECRET=$(jq_ mfa '$j->{data}{secret}')
BACKUP=$(jq_ mfa '$j->{data}{backupCodes}[0]')
is "$(jq_ mfa 'scalar @{$j->{data}{backupCodes}}')" 10 "ten backup codes"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.users WHERE id = '$USER_ID' AND NOT ('$BACKUP' = ANY (mfa_backup_code_hashes))")" 1 "backup codes are stored hashed"
is "$(req mfav_bad POST /api/auth/mfa/verify "$A8" '{"code":"000000"}')" 422 "a wrong first code -> 422"
st=$(req mfav POST /api/auth/mfa/verify "$A8" "{\"code\":\"$(totp "$SECRET")\"}")
is "$st" 200 "MFA verify with a TOTP code -> 200"
st=$(req lm1 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\"}")
is "$st:$(jq_ lm1 '$j->{data}{requiresMfa}')" "200:true" "login without a code -> requiresMfa"
is "$(req lm2 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\",\"mfaCode\":\"123456\"}")" 401 "a wrong MFA code -> 401"
NEXT=$(totp "$SECRET" 1)
is "$(req lm3 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\",\"mfaCode\":\"$NEXT\"}")" 200 "the right MFA code -> 200"
is "$(req lm4 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\",\"mfaCode\":\"$NEXT\"}")" 401 "the same code again (replay) -> 401"
is "$(req lm5 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\",\"mfaCode\":\"$BACKUP\"}")" 200 "a backup code -> 200"
is "$(req lm6 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\",\"mfaCode\":\"$BACKUP\"}")" 401 "the backup code is single-use"
as_postgres -c "UPDATE balatrix.users SET failed_login_attempts = 0 WHERE id = '$USER_ID'" >/dev/null
A9=$(jq_ lm5 '$j->{data}{accessToken}')
is "$(req mfad_bad POST /api/auth/mfa/disable "$A9" '{"password":"wrong"}')" 422 "MFA disable with a wrong password -> 422"
is "$(req mfad POST /api/auth/mfa/disable "$A9" "{\"password\":\"$PW3\"}")" 200 "MFA disable -> 200"
is "$(req lm7 POST /api/auth/login - "{\"email\":\"$EMAIL\",\"password\":\"$PW3\"}")" 200 "login without MFA again"

# ---- admin-created users -----------------------------------------------------------------------------------
ADMIN=$(new_staff admin "admin-$S@example.in")
ADMIN_TOKEN=$(token_for "$ADMIN" admin)
SUPER=$(new_staff super_admin "super-$S@example.in")
SUPER_TOKEN=$(token_for "$SUPER" super_admin)
NEWU="{\"email\":\"sup-$S@example.in\",\"password\":\"$PW\",\"role\":\"support\",\"firstName\":\"S\",\"lastName\":\"P\"}"
is "$(req cu_cust POST /api/auth/users "$A9" "$NEWU")" 403 "a customer cannot create users"
is "$(req cu_admin POST /api/auth/users "$ADMIN_TOKEN" "$NEWU")" 201 "an admin creates a support user"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.audit_log WHERE actor_user_id = '$ADMIN' AND action IN ('user.create', 'POST /api/auth/users')")" 2 "... audited (the function's row and the staff-mutation row)"
is "$(req cu_admin2 POST /api/auth/users "$ADMIN_TOKEN" "{\"email\":\"adm2-$S@example.in\",\"password\":\"$PW\",\"role\":\"admin\",\"firstName\":\"A\",\"lastName\":\"D\"}")" 403 "an admin cannot create an admin"
is "$(req cu_super POST /api/auth/users "$SUPER_TOKEN" "{\"email\":\"adm3-$S@example.in\",\"password\":\"$PW\",\"role\":\"admin\",\"firstName\":\"A\",\"lastName\":\"D\"}")" 201 "a super_admin can"
is "$(req cu_bad POST /api/auth/users "$SUPER_TOKEN" "{\"email\":\"adm4-$S@example.in\",\"password\":\"$PW\",\"role\":\"root\",\"firstName\":\"A\",\"lastName\":\"D\"}")" 422 "an unknown role -> 422"

# ---- the first admin, bootstrapped by the DBA with `balatrix-sidecar hash-password` (README) ------------
HASH=$(printf '%s\n' "$PW" | "$API_BIN" hash-password)
[[ $HASH == '$argon2id$'* ]]
ok $? "hash-password prints an argon2id hash"
as_postgres -v hash="$HASH" >/dev/null <<SQL
INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role) VALUES ('ops-$S@example.in', :'hash', 'Ops', 'Admin', 'super_admin');
SQL
is "$(req boot POST /api/auth/login - "{\"email\":\"ops-$S@example.in\",\"password\":\"$PW\"}")" 200 "a super_admin inserted with that hash logs in"
is "$(jq_ boot '$j->{data}{user}{role}')" super_admin "... as super_admin"
"$API_BIN" hash-password </dev/null >/dev/null 2>&1
is "$?" 2 "hash-password without a password on stdin exits 2"

# ---- RLS from raw SQL as balatrix_api ---------------------------------------------------------------------------
as_api() { psql -X -q -At -h "$PGH" -p "$PGP" -U balatrix_api -d "$PGD" "$@" 2>&1; }
is "$(as_api -c "SELECT count(*) FROM balatrix.customers")" 0 "raw SQL as balatrix_api without an identity sees no customer"
out=$(as_api -c "SELECT balatrix.set_actor('$ADMIN', 'admin', NULL)")
[[ $out == *"permission denied"* ]]
ok $? "balatrix_api cannot set an actor directly" "$out"
is "$(as_api -c "SET balatrix.actor_role = 'admin'; SET balatrix.actor_user_id = '$ADMIN'; SELECT count(*) FROM balatrix.customers" | tail -1)" 0 "nor through settings named like the actor"
is "$(as_api -c "SELECT user_id IS NOT NULL FROM balatrix.set_identity('$BOB_TOKEN'); SELECT count(*) FROM balatrix.customers; SELECT count(*) FROM balatrix.customers WHERE id <> '$(echo $BOB | cut -d' ' -f2)'")" "t
1
0" "with a customer's token, exactly its own customer is visible"
out=$(as_api -c "SELECT * FROM balatrix.set_identity('$FORGED_ROLE')")
[[ $out == *"invalid access token"* ]]
ok $? "a customer's token re-signed with role admin is refused in SQL too" "$out"
out=$(as_api -c "SELECT count(*) FROM balatrix.users")
[[ $out == *"permission denied"* ]]
ok $? "balatrix_api cannot read users" "$out"

# ---- HTTP hardening on the auth routes ----------------------------------------------------------------------
head -c 10485760 /dev/zero | tr '\0' 'a' >"$WORK/big.json"
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/big.json" "$BASE/api/auth/login")
is "$st" 413 "a 10 MB body -> 413"
printf '{"email":"\xff\xfe@x.in","password":"a"}' >"$WORK/bad_utf8.json"
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/bad_utf8.json" "$BASE/api/auth/login")
is "$st" 400 "invalid UTF-8 -> 400"
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary '{}' "$BASE/api/auth/login")
is "$st" 415 "wrong content type -> 415"

api_finish
