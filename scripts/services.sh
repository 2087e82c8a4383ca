#!/usr/bin/env bash
# scripts/services.sh up|down|status — install (idempotently) and run the local services the
# test suite needs: PostgreSQL, a Secret Service keyring (gnome-keyring on a private D-Bus) and
# a Docker engine (dockerd without bridge or iptables; the registry binary and static busybox
# the Docker tests build their images FROM scratch with, since nothing can be pulled here), and
# installs Debian's chromium for the browser tests of tests/ui.
# Meant for a fresh Debian 12 machine, as root, without systemd; everything listens on
# 127.0.0.1 or on unix sockets inside the state dir. After `up`:  source "$STATE/env.sh"
# Env: CORE_BLOCKS_SERVICES_DIR, CORE_BLOCKS_PG_PORT, CORE_BLOCKS_PG_PASSWORD (URL-safe chars
# only: it goes verbatim into the URL), CORE_BLOCKS_KEYRING_PASSWORD.
set -euo pipefail

STATE=$(realpath -m "${CORE_BLOCKS_SERVICES_DIR:-/tmp/core-blocks-services}")
PG_PORT=${CORE_BLOCKS_PG_PORT:-54329}   # not 5432: avoid clashing with a system postgres
PG_PASS=${CORE_BLOCKS_PG_PASSWORD:-core-blocks-pg}
PG_DB=core_blocks_test
KEYRING_PASS=${CORE_BLOCKS_KEYRING_PASSWORD:-core-blocks-keyring}
PIDS=$STATE/pids PG=$STATE/pg KR=$STATE/keyring DK=$STATE/docker
export DEBIAN_FRONTEND=noninteractive
cd /   # runuser keeps the cwd; postgres cannot enter e.g. /root and would warn about it

T0=${EPOCHREALTIME/./}
log() { local us=$((${EPOCHREALTIME/./} - T0)); printf '[%3d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*"; }
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }  # zombie = dead
alive() { [ -s "$PIDS/$1.pid" ] && running "$(cat "$PIDS/$1.pid")"; }
as_pg() { runuser -u postgres -- "$@"; }   # initdb/postgres refuse to run as root
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
stop_pid() { # name: TERM, wait up to 10 s, then KILL
  local pid
  if alive "$1"; then
    pid=$(cat "$PIDS/$1.pid"); kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.1; done
    ! running "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$1.pid"
}
wait_for() { # what seconds cmd...
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; return 1
}

install_packages() {
  local missing=() p
  [ -n "$(pgbin)" ] || missing+=(postgresql)
  # docker-compose: the Debian 1.29 one pytest-docker drives (no `docker compose` plugin here);
  # docker-registry + apache2-utils (htpasswd): the tests' registry; busybox-static: test images;
  # chromium: the browser tests of tests/ui.
  for p in gnome-keyring dbus libsecret-tools docker.io docker-compose busybox-static \
      docker-registry apache2-utils chromium; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  # No systemd here: package maintainer scripts must not try to start services (exit 101 = deny).
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_postgres() {
  local bin; bin=$(pgbin)
  mkdir -p "$PG/sock"; chown -R postgres:postgres "$PG"; chmod 700 "$PG/sock"
  as_pg test -x "$STATE" || { echo "postgres user cannot enter $STATE; pick another CORE_BLOCKS_SERVICES_DIR" >&2; exit 1; }
  if [ ! -s "$PG/data/PG_VERSION" ]; then
    # peer auth on the private socket (for admin below), scram on TCP (what the tests use)
    as_pg "$bin/initdb" -D "$PG/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 --no-sync >"$PG/initdb.log"
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PG/data" status >/dev/null 2>&1; then
    # throwaway test data: trade durability for speed
    as_pg "$bin/pg_ctl" -D "$PG/data" -l "$PG/pg.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 \
      -p $PG_PORT -c unix_socket_directories=$PG/sock -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off" start >/dev/null
  fi
  head -1 "$PG/data/postmaster.pid" >"$PIDS/postgres.pid"
  local psql=(as_pg "$bin/psql" -h "$PG/sock" -p "$PG_PORT" -U postgres -d postgres -XqtA -v ON_ERROR_STOP=1)
  # (re)set the password every time so the URL in env.sh always matches; stdin so :'pw' is quoted
  echo "ALTER ROLE postgres PASSWORD :'pw';" | "${psql[@]}" -v pw="$PG_PASS" >/dev/null
  [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='$PG_DB'")" = 1 ] ||
    "${psql[@]}" -c "CREATE DATABASE $PG_DB"
  log "postgres $(basename "$(dirname "$bin")") on 127.0.0.1:$PG_PORT db=$PG_DB (pid $(cat "$PIDS/postgres.pid"))"
}

start_keyring() {
  export DBUS_SESSION_BUS_ADDRESS=unix:path=$KR/bus
  if ! alive dbus || ! alive gnome-keyring; then
    stop_pid gnome-keyring; stop_pid dbus   # never leave half a pair behind
    # a fresh keyring each start: a login.keyring left by an earlier instance (thousands of
    # items from earlier runs) made the daemon drop off the bus mid-suite here
    rm -rf "$KR/data" "$KR/run" && mkdir -p "$KR/data" && mkdir -p -m 700 "$KR/run"; rm -f "$KR/bus"
    # private session bus (no X11/systemd --user here); line 2 of the output is its pid
    dbus-daemon --session --fork --nopidfile --address="$DBUS_SESSION_BUS_ADDRESS" \
      --print-address=1 --print-pid=1 | sed -n 2p >"$PIDS/dbus.pid"
    # --unlock reads the password on stdin and creates/unlocks the "login" collection;
    # without it every write fails with "Prompt dismissed" (no GUI to ask the user).
    (export HOME=$KR XDG_DATA_HOME=$KR/data XDG_RUNTIME_DIR=$KR/run
     printf '%s' "$KEYRING_PASS" | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null)
    # --daemonize forks away, so find our instance: newest one whose env points into $KR
    local p
    for p in $(pgrep -f 'gnome-keyring-daemon --unlock --components=secrets'); do
      grep -qzx "XDG_RUNTIME_DIR=$KR/run" "/proc/$p/environ" 2>/dev/null && echo "$p" >"$PIDS/gnome-keyring.pid"
    done
    alive gnome-keyring || { echo "gnome-keyring-daemon did not start" >&2; exit 1; }
    wait_for "org.freedesktop.secrets on the bus" 10 sh -c 'dbus-send --session --print-reply \
      --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true"'
  fi
  log "keyring: Secret Service on $DBUS_SESSION_BUS_ADDRESS (pids dbus $(cat "$PIDS/dbus.pid"), gnome-keyring $(cat "$PIDS/gnome-keyring.pid"))"
}

start_dockerd() {
  export DOCKER_HOST=unix://$DK/docker.sock
  if ! alive dockerd; then
    mkdir -p "$DK/data" "$DK/exec"
    echo '{}' >"$DK/daemon.json"   # ignore any /etc/docker/daemon.json
    # No bridge, NAT or iptables rules (containers use network "none" or "host"), and our own
    # data, exec root, pidfile and socket, so a system dockerd is neither needed nor disturbed.
    setsid nohup dockerd --config-file="$DK/daemon.json" --data-root="$DK/data" \
      --exec-root="$DK/exec" --pidfile="$DK/dockerd.pid" -H "$DOCKER_HOST" \
      --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
      --userland-proxy=false --log-level=warn >"$DK/dockerd.log" 2>&1 </dev/null &
    echo $! >"$PIDS/dockerd.pid"
    wait_for "dockerd (see $DK/dockerd.log)" 60 docker info
  fi
  log "docker engine $(docker version -f '{{.Server.Version}}') on $DOCKER_HOST (pid $(cat "$PIDS/dockerd.pid"))"
}

stop_dockerd() {
  stop_pid dockerd   # its containers (the tests' own) stop with it
  umount "$DK/exec/netns/default" 2>/dev/null || true   # dockerd leaves this nsfs mount behind
}

up() {
  mkdir -p "$STATE" "$PIDS"; chmod 755 "$STATE"   # postgres user must be able to traverse it
  install_packages
  start_postgres
  start_keyring
  start_dockerd
  cat >"$STATE/env.sh" <<EOF
export CORE_BLOCKS_TEST_PG_URL=postgresql://postgres:$PG_PASS@127.0.0.1:$PG_PORT/$PG_DB
export DBUS_SESSION_BUS_ADDRESS=unix:path=$KR/bus
export CORE_BLOCKS_TEST_KEYRING=1
export DOCKER_HOST=unix://$DK/docker.sock
EOF
  log "up; source $STATE/env.sh"
}

down() {
  local bin; bin=$(pgbin)
  if [ -n "$bin" ] && [ -s "$PG/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$PG/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PG/data" -m fast -w stop >/dev/null
  fi
  rm -f "$PIDS/postgres.pid"
  stop_pid gnome-keyring; stop_pid dbus
  stop_dockerd
  log "down"
}

status() {
  local n pid
  for n in postgres dbus gnome-keyring dockerd; do
    pid=$(cat "$PIDS/$n.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && running "$pid"; then echo "$n: running (pid $pid)"; else echo "$n: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;; down) down ;; status) status ;;
  dockerd) mkdir -p "$STATE" "$PIDS"; install_packages; start_dockerd ;;  # the engine alone
  *) echo "usage: $0 up|down|status|dockerd" >&2; exit 2 ;;
esac
