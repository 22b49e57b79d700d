#!/usr/bin/env bash
# The workflow store's SQL measured from C (floor.c): what the database costs per durable
# step, without majra's engine, JavaScript or the driver, next to the raw commit. Builds the
# SQLite amalgamation that better-sqlite3 ships with its own compile options (~1 min once).
# usage: bash bench/sqlite-floor/run.sh [normal|full] [runs per round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
sync_mode=${1:-normal}
runs=${2:-2000}
rounds=${3:-5}
sqlite=node_modules/better-sqlite3/deps
work=.tmp/sqlite-floor
mkdir -p "$work"
if [ ! -x "$work/floor" ] || [ bench/sqlite-floor/floor.c -nt "$work/floor" ]; then
  defines=$(grep -o "'[A-Z_0-9]*\(=[^']*\)\?'" "$sqlite/defines.gypi" | tr -d "'" | sed 's/^/-D/')
  # shellcheck disable=SC2086
  [ -f "$work/sqlite3.o" ] || gcc -O2 -c $defines -I"$sqlite/sqlite3" -o "$work/sqlite3.o" "$sqlite/sqlite3/sqlite3.c"
  # shellcheck disable=SC2086
  gcc -O2 $defines -I"$sqlite/sqlite3" -o "$work/floor" bench/sqlite-floor/floor.c "$work/sqlite3.o" -lpthread -ldl -lm
fi
node --import tsx bench/sqlite-floor/statements.ts "$work/statements"
for shape in store minimal minimal+list minimal+list+done; do
  rm -f "$work"/floor.db*
  "$work/floor" "$work/statements" "$work/floor.db" "$sync_mode" "$runs" "$rounds" "$shape"
done
rm -f "$work"/floor.db*
