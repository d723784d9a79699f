#!/usr/bin/env bash
# Compares two gateway builds in interleaved runs, because on a shared
# machine the same binary's rate moves by tens of percent within minutes:
# only runs taken side by side say which build is faster. Each run starts a
# fresh gateway (and, in serve mode, a fresh broker and database), warms it
# up, measures one row and reports the CPU each process spent per request,
# which moves less than requests/s does.
#
#   test/bench/ab.sh MODE GATEWAY_A GATEWAY_B [PAIRS]
#
# MODE is dev or serve; PAIRS (default 3) pairs are run, A first in odd
# pairs and B first in even ones. Environment as for run.sh:
# BENCH_DURATION (default 8s), BENCH_CONCURRENCY, BENCH_WARMUP, BENCH_PG,
# BENCH_PG_PARAMS; AB_ENV_A / AB_ENV_B add environment to one side only
# (e.g. AB_ENV_B="GOGC=1000" with the same binary on both sides).
# Needs bin/cgbench and bin/cgbroker (make bench builds them).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $# -lt 3 || ($1 != dev && $1 != serve) ]]; then
	echo "usage: $0 dev|serve GATEWAY_A GATEWAY_B [PAIRS]" >&2
	exit 2
fi
MODE=$1 A=$2 B=$3 PAIRS=${4:-3}
BENCH_DURATION=${BENCH_DURATION:-8s}
source test/bench/lib.sh
for b in "$A" "$B" bin/cgbench bin/cgbroker; do
	[[ -x $b ]] || { echo "ab: $b is missing or not executable (make bench builds bin/)" >&2; exit 1; }
done

OUT=$(mktemp -d -t consentgate-ab.XXXXXX)
# finish_row stops one row's processes and drops its database and data;
# the logs stay in $OUT (named on the first line), one per row.
finish_row() {
	stop
	drop_db
	rm -rf "$OUT/run"
}
trap 'finish_row' EXIT
trap 'exit 130' INT TERM

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user+system, in clock ticks
pg_ticks() {
	local s=0 p
	for p in $(pgrep -u postgres || true); do
		s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
HZ=$(getconf CLK_TCK)
ROW=0

# one LABEL GATEWAY EXTRA_ENV: a fresh gateway, a warm-up, a measured row.
one() {
	local label=$1 gw=$2 extra=$3 url base gp bp="" log
	ROW=$((ROW + 1))
	log=$OUT/$ROW-$label
	mkdir -p "$OUT/run"
	if [[ $MODE == dev ]]; then
		base=http://127.0.0.1:18080
		env $extra "$gw" dev --config test/bench/configs/consentgate.yaml --data-dir "$OUT/run/data" \
			--listen 127.0.0.1:18080 --kafka-listen 127.0.0.1:19092 >"$log.log" 2>&1 &
		gp=$!
	else
		base=http://127.0.0.1:18081
		DB=consentgate_ab_$$_$RANDOM
		psql -q "$PG/postgres?$PG_PARAMS" -c "CREATE DATABASE $DB" >/dev/null
		bin/cgbroker --listen 127.0.0.1:19093 --data-dir "$OUT/run/broker" --partitions 3 >"$log-broker.log" 2>&1 &
		bp=$!
		PIDS+=("$bp")
		wait_line "$log-broker.log" "broker ready"
		env $extra CONSENTGATE_DATABASE_URL="$PG/$DB?$PG_PARAMS" CONSENTGATE_KAFKA_BROKERS=127.0.0.1:19093 \
			CONSENTGATE_LISTEN=127.0.0.1:18081 "$gw" serve --config test/bench/configs/serve.yaml >"$log.log" 2>&1 &
		gp=$!
	fi
	PIDS+=("$gp")
	url=$base/webhooks/bench
	wait_http "$base/readyz"
	bin/cgbench load --url "$url" --secret "$SECRET" --concurrency "$CONC" --duration "$WARMUP" \
		--brokers "" --header=false >/dev/null

	local g0 b0=0 p0=0 g1 b1=0 p1=0 lcpu
	g0=$(ticks "$gp")
	[[ -n $bp ]] && b0=$(ticks "$bp") && p0=$(pg_ticks)
	# bash's time keyword: the load generator's own user and system seconds.
	lcpu=$({ TIMEFORMAT='%U %S'; time bin/cgbench load --url "$url" --secret "$SECRET" --concurrency "$CONC" \
		--duration "$DURATION" --brokers "" --header=false --json --name "$label" >"$log.row"; } 2>&1)
	g1=$(ticks "$gp")
	[[ -n $bp ]] && b1=$(ticks "$bp") && p1=$(pg_ticks)
	finish_row
	python3 -c '
import json, sys
label, path, hz = sys.argv[1], sys.argv[2], int(sys.argv[3])
g, p, b = (int(x) for x in sys.argv[4:7])
lg = float(sys.argv[7]) + float(sys.argv[8])
row = json.loads([l for l in open(path) if l.startswith("{")][0])
n = max(row["ok_200"], 1)
us = lambda ticks: f"{ticks * 1e6 / hz / n:.0f}" if ticks else "-"
rps, p50, p99, errs = row["requests_per_s"], row["p50_ms"], row["p99_ms"], row["errors"]
print(f"{label:<2} {rps:>10.0f} {p50:>8.2f} {p99:>8.2f} {errs:>7d} {us(g):>10} {us(p):>10} {us(b):>8} {lg * 1e6 / n:>9.0f}")
' "$label" "$log.row" "$HZ" "$((g1 - g0))" "$((p1 - p0))" "$((b1 - b0))" $lcpu
}

echo "ab: $MODE mode, $PAIRS pairs of $DURATION rows at $CONC connections; A=$A${AB_ENV_A:+ ($AB_ENV_A)}, B=$B${AB_ENV_B:+ ($AB_ENV_B)}; logs in $OUT" >&2
printf '%-2s %10s %8s %8s %7s %10s %10s %8s %9s\n' "" "requests/s" "p50 ms" "p99 ms" "errors" "gateway" "postgres" "broker" "loadgen"
echo "   (the last four columns: CPU µs per request; in dev mode the gateway holds the broker)"
for ((i = 1; i <= PAIRS; i++)); do
	if ((i % 2)); then
		one A "$A" "${AB_ENV_A:-}"
		one B "$B" "${AB_ENV_B:-}"
	else
		one B "$B" "${AB_ENV_B:-}"
		one A "$A" "${AB_ENV_A:-}"
	fi
done
