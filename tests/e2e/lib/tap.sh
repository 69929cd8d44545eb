# TAP helpers shared by the end-to-end scripts (sourced; not a test itself — prove runs tests/e2e/*.sh).
#   ok <status> <description> [diagnostic]   passes when status is 0; the diagnostic is printed as # lines
#   is <got> <expected> <description>         passes when the two strings are equal
# $n counts the tests, $failed the failures: end a script with  [ "$failed" -eq 0 ]  (or its exit status).
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /' | head -40
	fi
	return 0
}
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3" "got:      $1"$'\n'"expected: $2"; fi
}
