# Starting the stand-ins of tests/fakes from an end-to-end script (sourced after lib/api.sh; not a test).
#
# Source it BEFORE api_init and start the fakes first: the sidecar's settings need their ports.
#   start_fake NAME SCRIPT [ARGS...]   starts tests/fakes/SCRIPT on a kernel-chosen port with its state in
#                                      $FAKE_WORK/NAME; sets FAKE_PORT; api_cleanup stops it (stop_fakes)
#   fake NAME METHOD PATH [BODY]       a control call to the fake NAME (JSON in and out); prints the body
#   stop_fakes                         SIGTERM to every fake started
FAKES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../fakes" && pwd)
FAKE_PIDS=()
declare -A FAKE_PORTS
FAKE_WORK=$(mktemp -d "${TMPDIR:-/tmp}/fakes_e2e.XXXXXX")
trap 'stop_fakes; rm -rf "$FAKE_WORK"' EXIT # until api_init installs api_cleanup, which does the same

start_fake() { # start_fake NAME SCRIPT [ARGS...]
	local name=$1 script=$2
	shift 2
	mkdir -p "$FAKE_WORK/$name"
	python3 "$FAKES_DIR/$script" --port 0 --state-dir "$FAKE_WORK/$name" "$@" >"$FAKE_WORK/$name/log" 2>&1 &
	FAKE_PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $FAKE_WORK/$name/port ]] && break
		sleep 0.1
	done
	[[ -s $FAKE_WORK/$name/port ]] || { echo "Bail out! the fake $script did not start"; sed 's/^/# /' "$FAKE_WORK/$name/log"; exit 1; }
	FAKE_PORT=$(cat "$FAKE_WORK/$name/port")
	FAKE_PORTS[$name]=$FAKE_PORT
}

fake() { # fake NAME METHOD PATH [BODY]
	local args=(-sS --max-time 10 -X "$2")
	[[ -n ${4:-} ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl "${args[@]}" "http://127.0.0.1:${FAKE_PORTS[$1]}$3"
}

stop_fakes() {
	local pid
	for pid in "${FAKE_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${FAKE_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	FAKE_PIDS=()
}
