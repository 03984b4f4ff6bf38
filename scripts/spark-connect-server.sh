#!/usr/bin/env bash
# A local Spark Connect server for `windowpane batch --spark` and its tests.
#
#   scripts/spark-connect-server.sh start    # install pyspark 4.3.0 if needed, start, wait until it answers
#   scripts/spark-connect-server.sh stop     # stop the server this script started (by its PID)
#   scripts/spark-connect-server.sh url      # print the connection string: sc://127.0.0.1:PORT
#   scripts/spark-connect-server.sh status   # exit 0 when it runs
#   scripts/spark-connect-server.sh check    # exit 0 when Java and pyspark are installed (else say what is missing)
#
# The server comes from the pyspark wheel on PyPI (it ships sbin/ and the
# Spark Connect jar); Java 17 or newer must be installed. It runs with
# master local[2], every port bound to 127.0.0.1, no web UI, the session
# time zone UTC. Its logs, PID file and scratch space are in
# ${TMPDIR:-/tmp}/windowpane-spark-connect-PORT/.
#
# Environment:
#   WINDOWPANE_SPARK_PORT   the Spark Connect port (default 15002)
#   WINDOWPANE_SPARK_VENV   where pyspark is installed (default ~/.cache/windowpane-spark/venv)
#   WINDOWPANE_SPARK_WAIT   seconds to wait for the port to answer (default 180)
#   WINDOWPANE_SPARK_TOKEN  when set, clients must send this token (sc://…/;token=…);
#                           `url` then prints it in the connection string
set -euo pipefail

version=4.3.0
port="${WINDOWPANE_SPARK_PORT:-15002}"
venv="${WINDOWPANE_SPARK_VENV:-$HOME/.cache/windowpane-spark/venv}"
run="${TMPDIR:-/tmp}/windowpane-spark-connect-$port"
pidfile="$run/server.pid"

say() { echo "spark-connect-server: $*" >&2; }

# The pyspark folder of an interpreter that has pyspark $version, or nothing.
pyspark_home() {
    "$1" - "$version" <<'PY' 2>/dev/null || true
import os, sys
try:
    import pyspark
except ImportError:
    sys.exit(0)
if pyspark.__version__ == sys.argv[1]:
    print(os.path.dirname(pyspark.__file__))
PY
}

# Prints SPARK_HOME, installing pyspark into the venv first when missing.
install() {
    local home=""
    if [ -x "$venv/bin/python" ]; then
        home="$(pyspark_home "$venv/bin/python")"
    fi
    if [ -z "$home" ]; then
        say "installing pyspark==$version into $venv (about 450 MB, once)"
        if [ ! -x "$venv/bin/python" ]; then
            mkdir -p "$(dirname "$venv")"
            python3 -m venv "$venv" >&2 || {
                say "cannot create a Python virtual environment in $venv: install python3-venv (Debian: apt-get install python3-venv)"
                exit 1
            }
        fi
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark==$version" >&2
        home="$(pyspark_home "$venv/bin/python")"
    fi
    if [ -z "$home" ] || [ ! -x "$home/sbin/start-connect-server.sh" ]; then
        say "pyspark $version in $venv has no sbin/start-connect-server.sh"
        exit 1
    fi
    echo "$home"
}

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
    if running; then
        say "already running (PID $(cat "$pidfile")) at sc://127.0.0.1:$port"
        return 0
    fi
    if answers; then
        say "port $port on 127.0.0.1 is taken by another program: set WINDOWPANE_SPARK_PORT to a free port"
        exit 1
    fi
    if ! command -v java >/dev/null; then
        say "java is not installed: Spark needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
        exit 1
    fi
    local home
    home="$(install)"
    rm -rf "$run"
    mkdir -p "$run/local" "$run/work"
    local began=$SECONDS
    # spark-daemon.sh starts the server in the background and writes its
    # PID to SPARK_PID_DIR; the working folder keeps stray files out of the
    # caller's
    (
        cd "$run/work"
        export SPARK_HOME="$home" SPARK_LOG_DIR="$run" SPARK_PID_DIR="$run" SPARK_LOCAL_IP=127.0.0.1
        export SPARK_IDENT_STRING=windowpane
        if [ -n "${WINDOWPANE_SPARK_TOKEN:-}" ]; then
            # read by the server from its environment, so that it is not
            # on a command line for everyone to see
            export SPARK_CONNECT_AUTHENTICATE_TOKEN="$WINDOWPANE_SPARK_TOKEN"
        fi
        "$home/sbin/start-connect-server.sh" \
            --master 'local[2]' \
            --conf spark.connect.grpc.binding.address=127.0.0.1 \
            --conf "spark.connect.grpc.binding.port=$port" \
            --conf spark.driver.bindAddress=127.0.0.1 \
            --conf spark.driver.host=127.0.0.1 \
            --conf spark.ui.enabled=false \
            --conf spark.sql.session.timeZone=UTC \
            --conf "spark.local.dir=$run/local" \
            --conf "spark.sql.warehouse.dir=$run/warehouse" \
            --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$run/work" >"$run/start.out" 2>&1
    )
    local daemon_pid
    daemon_pid="$(find "$run" -maxdepth 1 -name 'spark-*.pid' | head -1)"
    if [ -z "$daemon_pid" ]; then
        say "the server did not start; see $run/start.out:"
        tail -20 "$run/start.out" >&2
        exit 1
    fi
    cp "$daemon_pid" "$pidfile"
    local wait="${WINDOWPANE_SPARK_WAIT:-180}"
    while ! answers; do
        if ! running; then
            say "the server stopped while starting; the end of its log:"
            tail -30 "$run"/*.out >&2
            exit 1
        fi
        if (( SECONDS - began > wait )); then
            say "the server did not answer on port $port within $wait s; stopping it (log in $run)"
            stop
            exit 1
        fi
        sleep 0.5
    done
    say "started in $(( SECONDS - began )) s (PID $(cat "$pidfile"), logs in $run): sc://127.0.0.1:$port"
}

stop() {
    if ! running; then
        say "not running (no live PID in $pidfile)"
        rm -f "$pidfile"
        return 0
    fi
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "PID $pid did not stop within 30 s; killing it"
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile" "$run"/spark-*.pid
    say "stopped (PID $pid)"
}

check() {
    if ! command -v java >/dev/null; then
        echo "java is not installed (Spark needs Java 17 or newer)"
        exit 1
    fi
    if [ ! -x "$venv/bin/python" ] || [ -z "$(pyspark_home "$venv/bin/python")" ]; then
        echo "pyspark $version is not installed in $venv (scripts/spark-connect-server.sh install installs it)"
        exit 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url)
        if [ -n "${WINDOWPANE_SPARK_TOKEN:-}" ]; then
            echo "sc://127.0.0.1:$port/;token=$WINDOWPANE_SPARK_TOKEN"
        else
            echo "sc://127.0.0.1:$port"
        fi
        ;;
    status) running ;;
    install) install >/dev/null ;;
    check) check ;;
    *)
        echo "usage: $0 start|stop|url|status|check|install" >&2
        exit 2
        ;;
esac
