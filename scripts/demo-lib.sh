# Sourced by the demo scripts: prints each command before it runs, builds
# what the demo needs when BUILD lacks it, and insists on root (crun).
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
