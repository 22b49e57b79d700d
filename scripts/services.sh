#!/usr/bin/env bash
# Makes Redis and PostgreSQL available on loopback and prints REDIS_URL and DATABASE_URL
# (as `export` lines, so `eval "$(scripts/services.sh)"` works).
#
# - Uses the servers already running when they answer.
# - Otherwise starts them, installing the Debian packages redis-server / postgresql with
#   apt when they are missing.
# - Creates the test database when it does not exist.
# Idempotent and safe to run twice; binds and connects to 127.0.0.1 only.
# Exits non-zero when a service cannot be made reachable: tests must fail, not skip.
set -euo pipefail

REDIS_PORT="${MAJRA_REDIS_PORT:-6379}"
PG_PORT="${MAJRA_PG_PORT:-5432}"
PG_DB="${MAJRA_PG_DB:-test}"
PG_USER="${MAJRA_PG_USER:-postgres}"

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

wait_for() { # wait_for <description> <command...>
  local what=$1
  shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$what did not become ready"
  return 1
}

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  if command -v redis-cli >/dev/null && redis_up; then
    log "redis answering on 127.0.0.1:$REDIS_PORT"
    return
  fi
  if ! command -v redis-server >/dev/null; then
    log "installing redis-server"
    apt_install redis-server
  fi
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
  wait_for redis redis_up
}

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_up; then
    log "postgresql answering on 127.0.0.1:$PG_PORT"
  else
    local fresh=0
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      log "installing postgresql"
      apt_install postgresql
      fresh=1
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    if [ "$fresh" = 1 ]; then
      # A fresh Debian cluster asks for passwords on TCP; the test database is local
      # and throwaway, so trust loopback connections only.
      local hba="/etc/postgresql/$version/main/pg_hba.conf"
      sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    fi
    log "starting postgresql $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    wait_for postgresql pg_up
  fi
  if ! psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    log "creating database $PG_DB"
    psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$PG_DB\"" >&2 ||
      psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1
  fi
}

ensure_redis
ensure_postgres
echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "export DATABASE_URL=postgres://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"
