# Sourced by the demo scripts: prints each command before it runs, builds
# what the demo needs when BUILD lacks it, insists on root (crun), and asks
# the running server for PONG.
# Expects SRC, BUILD and DEMO (the script's name, for messages) to be set.
run() {
    echo "+ $*" >&2
    "$@"
}

demo_prepare() {
    if [ ! -x "$BUILD/decant" ] || [ ! -x "$BUILD/corpus/legacy_forkd" ] || [ ! -f "$BUILD/libdecant-shim.so" ]; then
        [ -f "$BUILD/build.ninja" ] || run cmake -S "$SRC" -B "$BUILD" -G Ninja >/dev/null
        run ninja -C "$BUILD" decant decant_shim corpus >/dev/null
    fi
    [ "$(id -u)" -eq 0 ] || { echo "$DEMO: crun needs root; rerun with sudo" >&2; exit 77; }
}

# demo_ping PORT SERVER_PID: PING the server until it answers (5 s), print
# the reply, and wait for the server (run with -1, it exits after one client).
demo_ping() {
    i=0
    until reply=$("$BUILD/corpus/legacy_client" -h 127.0.0.1 -p "$1" -c PING 2>/dev/null); do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "$DEMO: the server did not answer on $1" >&2; kill "$2"; exit 1; }
        sleep 0.1
    done
    echo "+ $BUILD/corpus/legacy_client -h 127.0.0.1 -p $1 -c PING" >&2
    echo "$reply"
    wait "$2"
}
