# Helpers shared by the packager's end-to-end scripts (sourced after
# tests/lib.sh): the forkd profile every packager test starts from, a client
# loop that waits for a server, and podman invoked the way this kind of host
# needs (see docs/packaging.md).

# forkd_profile OUT PORT: analyzes legacy_forkd (guest = host) and writes a
# JSON profile redirecting port 7070 to PORT and /var/log/legacy to /data/log.
# Until code analysis fills syscalls.allow, a documented broad list of what a
# glibc forking TCP server calls stands in for it.
forkd_profile() {
    "$DECANT" analyze "$DECANT_BUILD/corpus/legacy_forkd" --format json -o "$1.raw" || fail "analyze legacy_forkd failed"
    if [ "$(jq '.syscalls.allow | length' "$1.raw")" -eq 0 ]; then
        echo "note: syscalls.allow empty, using the test's fallback allowlist" >&2
        jq '.syscalls.allow = ["accept","accept4","access","arch_prctl","bind","brk","clone","clone3","close",
            "dup","dup2","execve","exit","exit_group","fcntl","fstat","futex","getpid","getrandom","getsockname",
            "ioctl","listen","lseek","mmap","mprotect","munmap","newfstatat","openat","pread64","prlimit64","read",
            "rseq","rt_sigaction","rt_sigprocmask","rt_sigreturn","set_robust_list","set_tid_address","setsockopt",
            "socket","wait4","write","writev","readlinkat","getcwd","uname"]' "$1.raw" >"$1.tmp" && mv "$1.tmp" "$1.raw"
    fi
    jq --argjson port "$2" '
      .redirects.ports = [{"from": 7070, "to": $port, "proto": "tcp"}]
      | .redirects.paths = [{"from": "/var/log/legacy", "to": "/data/log"}]
      | .files = [.files[] | select(.path != "/etc/legacy/forkd.conf")]
      | .files += [{"path": "/etc/legacy/forkd.conf", "access": "read", "optional": true, "evidence": ["user: test"]}]
      | .network.listen = [{"port": 7070, "proto": "tcp", "address": "0.0.0.0", "confidence": "high", "evidence": ["user: test"]}]
      | .enforcement.seccomp.mode = "enforce"' "$1.raw" >"$1"
    rm -f "$1.raw"
}

# ping_until PORT [TRIES]: prints the server's answer to PING (PONG) once it answers.
ping_until() {
    _tries=${2:-100}
    while [ "$_tries" -gt 0 ]; do
        # timeout: the client waits 10 s for a silent server, a test must not.
        _r=$(timeout 3 "$DECANT_BUILD/corpus/legacy_client" -h 127.0.0.1 -p "$1" -c PING 2>/dev/null) && {
            echo "$_r"
            return 0
        }
        sleep 0.1
        _tries=$((_tries - 1))
    done
    return 1
}

# podman_run ARGS...: podman in a private mount namespace without the cgroup2
# mount of a hybrid host, with the cgroupfs manager and explicit ulimits.
podman_run() {
    if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified; then
        unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' podman \
            podman --cgroup-manager=cgroupfs run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
    else
        podman run "$@"
    fi
}
