#!/usr/bin/env bash
# Times `melding registry import` of a large persons CSV.
#
#   scripts/registry-import-bench.sh [ROWS]     (default 1000000)
#
# Generates ROWS persons with valid national identity numbers (mod-11 control digits), every
# one with a postal address and every second one with a KRR e-mail and mobile number, into a
# temporary directory; imports the file with the debug binary (MELDING_PROFILE=release for the
# release one) into a fresh SQLite data directory and, when MELDING_BENCH_POSTGRES_URL names a
# server and a role that may create databases (psql must be installed), into a throwaway
# PostgreSQL database created for the run and dropped after it. Prints the timings and writes
# them to bench-results/registry-import-<date>.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rows=${1:-1000000}
profile=${MELDING_PROFILE:-debug}
if [ "$profile" = release ]; then
    cargo build -q --release -p melding
else
    cargo build -q -p melding
fi
bin=target/$profile/melding

work=$(mktemp -d /tmp/melding-import.XXXXXX)
pg_db=""
cleanup() {
    if [ -n "$pg_db" ]; then
        psql -q "$MELDING_BENCH_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
csv=$work/persons.csv

now() { date +%s.%N; }
seconds() { python3 -c "print(round($2 - $1, 2))"; }

start=$(now)
python3 - "$rows" "$csv" <<'PY'
import sys

rows, path = int(sys.argv[1]), sys.argv[2]
K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

def control(digits, weights):
    c = 11 - sum(d * w for d, w in zip(digits, weights)) % 11
    return 0 if c == 11 else c

def national_ids():
    # Birth dates 1940–1999 (day ≤ 28, so every month has it), individual numbers 000–499.
    for year in range(40, 100):
        for month in range(1, 13):
            for day in range(1, 29):
                for individual in range(500):
                    d = [int(c) for c in f"{day:02}{month:02}{year:02}{individual:03}"]
                    k1 = control(d, K1)
                    if k1 == 10:
                        continue
                    k2 = control(d + [k1], K2)
                    if k2 == 10:
                        continue
                    yield "".join(map(str, d)) + f"{k1}{k2}"

with open(path, "w") as f:
    f.write("nationalId,name,reserved,email,mobile,addressLines,postalCode,city\n")
    for n, nid in enumerate(national_ids()):
        if n == rows:
            break
        contact = f"person{n}@example.no,9{n % 10_000_000:07}" if n % 2 == 0 else ","
        reserved = "true" if n % 50 == 0 else ""
        f.write(f"{nid},Person {n} Nordmann,{reserved},{contact},Storgata {n % 200 + 1}|c/o Hansen,"
                f"{n % 9000 + 1000:04},Oslo\n")
    else:
        sys.exit(f"only {n + 1} national identity numbers in the generator's range")
PY
generate=$(seconds "$start" "$(now)")
bytes=$(stat -c %s "$csv")
echo "generated $rows persons ($bytes bytes) in ${generate} s"

start=$(now)
"$bin" registry import --data-dir "$work/data" "$csv"
sqlite=$(seconds "$start" "$(now)")
db_bytes=$(du -sb "$work/data" | cut -f1)
echo "SQLite: ${sqlite} s (data directory $db_bytes bytes)"

postgres=null
if [ -n "${MELDING_BENCH_POSTGRES_URL:-}" ]; then
    pg_db="melding_bench_$$"
    psql -q "$MELDING_BENCH_POSTGRES_URL" -c "CREATE DATABASE $pg_db"
    url=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$MELDING_BENCH_POSTGRES_URL" "$pg_db")
    "$bin" migrate --database-url "$url" >/dev/null
    start=$(now)
    "$bin" registry import --database-url "$url" "$csv"
    postgres=$(seconds "$start" "$(now)")
    echo "PostgreSQL: ${postgres} s"
fi

mkdir -p bench-results
out=bench-results/registry-import-$(date +%Y-%m-%d).json
cat >"$out" <<JSON
{
  "command": "scripts/registry-import-bench.sh $rows",
  "profile": "$profile",
  "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "cpus": $(nproc),
  "rows": $rows,
  "csv_bytes": $bytes,
  "generate_seconds": $generate,
  "sqlite_import_seconds": $sqlite,
  "sqlite_data_dir_bytes": $db_bytes,
  "postgres_import_seconds": $postgres
}
JSON
echo "wrote $out"
