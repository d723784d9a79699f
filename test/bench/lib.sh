# Shared by run.sh and ab.sh (sourced, from the repository root): the
# benchmark's settings, its fixed test secrets, and starting and stopping
# the processes of one run.

DURATION=${BENCH_DURATION:-20s}
CONC=${BENCH_CONCURRENCY:-64}
WARMUP=${BENCH_WARMUP:-3s}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PG_PARAMS=${BENCH_PG_PARAMS:-sslmode=disable}

# Fixed, public test values: the benchmark's own connector and hash key.
SECRET=whsec_Y29uc2VudGdhdGUtYmVuY2gtc2lnbmluZy1zZWNyZXQ=
export BENCH_SIGNING_SECRET=$SECRET
export CONSENTGATE_HASH_KEY=consentgate-bench-hash-key-0123456789abcdefghij
export CONSENTGATE_ADMIN_TOKEN=cgt_bench_0123456789abcdef0123456789abcdef

PIDS=()
DB=""

# stop ends the processes started for one run, each by its pid, newest
# first: the gateway flushes to the broker before the broker goes.
stop() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill "${PIDS[i]}" 2>/dev/null || true
		wait "${PIDS[i]}" 2>/dev/null || true
	done
	PIDS=()
}

# drop_db drops the run's throwaway database, if there is one.
drop_db() {
	if [[ -n $DB ]]; then
		psql -q "$PG/postgres?$PG_PARAMS" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
		DB=""
	fi
}

# wait_http URL: until it answers 2xx, for at most 30s.
wait_http() {
	for _ in $(seq 300); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: $1 did not come up; logs in $OUT" >&2
	exit 1
}

# wait_line FILE TEXT: until FILE holds TEXT, for at most 30s.
wait_line() {
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: no \"$2\" in $1" >&2
	exit 1
}
