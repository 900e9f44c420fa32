# Sourced by the benchmarks that start crun themselves: crun refuses cgroup
# hybrid mode, so decant runs it without the cgroup2 mount in a private
# mount namespace (run/runner.cpp), and so do they. `sh -c "$(declare_ns)"
# sh CMD...` runs CMD that way when the host needs it.
hybrid=0
if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified; then hybrid=1; fi
declare_ns() {
  if [ $hybrid = 1 ]; then
    echo 'exec unshare -m sh -c '\''umount /sys/fs/cgroup/unified && exec "$@"'\'' sh "$@"'
  else
    echo 'exec "$@"'
  fi
}
