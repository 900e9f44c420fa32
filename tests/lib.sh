# Shared helpers for decant's end-to-end test scripts (sourced, POSIX sh).
# Skips print the reason and exit 77, which CTest reports as skipped; with
# DECANT_MUST_WORK=1 (set by CI) a skip is a failure instead.

skip() {
    if [ "${DECANT_MUST_WORK:-0}" = "1" ]; then
        echo "FAIL (would skip, but DECANT_MUST_WORK=1): $*" >&2
        exit 1
    fi
    echo "SKIP: $*" >&2
    exit 77
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

require_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root ($1)"
}

require_tool() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (run scripts/install-deps.sh)"
}

# Points podman at a containers.conf of its own in DIR: cgroupfs, file
# events, and ulimits this host lets a container set.
podman_conf() {
    cat >"$1/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF="$1/containers.conf"
}

# podman_scratch DIR: podman on its own storage under DIR (the variable P
# holds the command) and pod(), which runs it. crun refuses hybrid cgroups:
# there podman runs in a mount namespace without the cgroup2 mount, as
# `decant run` runs crun (docs/packaging.md).
podman_scratch() {
    podman_conf "$1"
    mkdir -p "$1/ptmp"
    P="podman --root $1/root --runroot $1/run --tmpdir $1/ptmp --volumepath $1/vol"
    hybrid=0
    if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
        require_tool unshare
        hybrid=1
    fi
}
pod() {
    if [ "$hybrid" = 1 ]; then
        unshare -m --propagation slave sh -c 'umount -l /sys/fs/cgroup/unified && exec "$@"' sh $P "$@"
    else
        $P "$@"
    fi
}

# Prints the cached bullseye guest's path, building it on first use.
bullseye_guest() {
    require_root "debootstrap guest"
    "$DECANT_SOURCE/scripts/guest.sh" bullseye || skip "cannot build the bullseye guest (no Debian mirror reachable?)"
}

: "${DECANT:?DECANT must point at the decant binary}"
[ -x "$DECANT" ] || fail "decant binary not found at $DECANT"
