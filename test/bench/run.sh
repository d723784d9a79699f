#!/usr/bin/env bash
# Load-tests the gateway in dev mode (SQLite, embedded broker) and serve
# mode (PostgreSQL, cgbroker as its own process), each against the bare
# baseline (cgbench baseline) on the same broker, and prints one table.
# Called by `make bench`, which builds bin/consentgate, bin/cgbench and
# bin/cgbroker first. Figures go to docs/performance.md.
#
# Environment:
#   BENCH_DURATION     load time per row (default 20s)
#   BENCH_CONCURRENCY  requests in flight (default 64)
#   BENCH_WARMUP       unmeasured load before each row (default 3s)
#   BENCH_MODES        "dev serve" (default) or one of them
#   BENCH_PG           PostgreSQL server for serve mode, without database
#                      (default postgres://postgres@127.0.0.1:5432)
#   BENCH_PG_PARAMS    query of its URLs (default sslmode=disable)
#   BENCH_OUT          directory for logs and JSON rows (default: a temp dir)
#   BENCH_GATEWAY      gateway binary (default bin/consentgate), to compare builds
#   BENCH_ROUNDS       rounds of each mode (default 1), each with a fresh
#                      gateway, broker and database; from the second on,
#                      rows are named "<mode>#<n>", even rounds measure the
#                      baseline first, and the report adds the median ratio
set -euo pipefail
cd "$(dirname "$0")/../.."

source test/bench/lib.sh
MODES=${BENCH_MODES:-dev serve}
OUT=${BENCH_OUT:-$(mktemp -d -t consentgate-bench.XXXXXX)}
GW=${BENCH_GATEWAY:-bin/consentgate}
mkdir -p "$OUT"

for b in "$GW" bin/cgbench bin/cgbroker; do
	[[ -x $b ]] || { echo "bench: $b is missing; run make bench" >&2; exit 1; }
done

TOPIC=crm.leads.v1
BASELINE_ADDR=127.0.0.1:18099

cleanup() {
	stop
	drop_db
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# load NAME URL BROKERS PID: a warm-up, then the measured row.
load() {
	local name=$1 url=$2 brokers=$3 pid=$4
	bin/cgbench load --url "$url" --secret "$SECRET" --concurrency "$CONC" --duration "$WARMUP" \
		--brokers "" --header=false --name warmup >/dev/null
	echo "bench: $name: $CONC connections for $DURATION" >&2
	bin/cgbench load --url "$url" --secret "$SECRET" --concurrency "$CONC" --duration "$DURATION" \
		--brokers "$brokers" --topic "$TOPIC" --pid "$pid" --name "$name" --json \
		>"$OUT/${name// /-}.txt"
	ROWS+=("$OUT/${name// /-}.txt")
	grep -v '^{' "$OUT/${name// /-}.txt" >&2
}

# baseline MODE BROKERS: the bare handler on the mode's broker.
baseline() {
	local mode=$1 brokers=$2
	bin/cgbench baseline --listen "$BASELINE_ADDR" --secret "$SECRET" --brokers "$brokers" --topic "$TOPIC" \
		>"$OUT/$mode-baseline.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_line "$OUT/$mode-baseline.log" "baseline ready"
	load "$mode baseline" "http://$BASELINE_ADDR/" "$brokers" "$pid"
}

# both LABEL URL BROKERS PID: the gateway's row and the baseline's, in
# the round's order (the baseline first in even rounds, so that a machine
# slowing down during a run does not always favour the same side).
both() {
	local label=$1 url=$2 brokers=$3 pid=$4
	if ((ROUND % 2 == 0)); then
		baseline "$label" "$brokers"
		load "$label gateway" "$url" "$brokers" "$pid"
	else
		load "$label gateway" "$url" "$brokers" "$pid"
		baseline "$label" "$brokers"
	fi
}

run_dev() {
	local label=$1 listen=127.0.0.1:18080 kafka=127.0.0.1:19092
	"$GW" dev --config test/bench/configs/consentgate.yaml --data-dir "$OUT/dev-data" \
		--listen "$listen" --kafka-listen "$kafka" >"$OUT/$label-gateway.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_http "http://$listen/readyz"
	both "$label" "http://$listen/webhooks/bench" "$kafka" "$pid"
	stop
	rm -rf "$OUT/dev-data" # hundreds of MB of records; logs and rows stay
}

run_serve() {
	local label=$1 listen=127.0.0.1:18081 kafka=127.0.0.1:19093
	if ! pg_isready -q -d "$PG/postgres?$PG_PARAMS"; then
		echo "bench: PostgreSQL at $PG does not answer; skipping serve mode (set BENCH_PG)" >&2
		return 0
	fi
	DB=consentgate_bench_$$_$RANDOM
	psql -q "$PG/postgres?$PG_PARAMS" -c "CREATE DATABASE $DB" >/dev/null

	bin/cgbroker --listen "$kafka" --data-dir "$OUT/broker-data" --partitions 3 >"$OUT/$label-broker.log" 2>&1 &
	PIDS+=("$!")
	wait_line "$OUT/$label-broker.log" "broker ready"

	CONSENTGATE_DATABASE_URL="$PG/$DB?$PG_PARAMS" CONSENTGATE_KAFKA_BROKERS=$kafka CONSENTGATE_LISTEN=$listen \
		"$GW" serve --config test/bench/configs/serve.yaml >"$OUT/$label-gateway.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_http "http://$listen/readyz"
	both "$label" "http://$listen/webhooks/bench" "$kafka" "$pid"
	stop
	rm -rf "$OUT/broker-data"
	drop_db
}

echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); output in $OUT" >&2
ROWS=() # the rows' files, in the order measured
ROUNDS=${BENCH_ROUNDS:-1}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_ROUNDS=$ROUNDS: want a whole number of at least 1" >&2; exit 2; }
for mode in $MODES; do
	[[ $mode == dev || $mode == serve ]] || { echo "bench: unknown mode $mode (want dev or serve)" >&2; exit 2; }
done
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	for mode in $MODES; do
		label=$mode
		((ROUND == 1)) || label="$mode#$ROUND"
		"run_$mode" "$label"
	done
done
echo
bin/cgbench report "${ROWS[@]}"
