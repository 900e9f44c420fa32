# Sourced by the fleet tests (not a test itself): small example VM roots,
# each the corpus server legacy_forkd with its host libraries, an
# os-release and a systemd unit starting it at boot (as
# scripts/demo-convert.sh builds one), cheap enough to make several.

# fleet_guest DIR [PORT]: writes a VM root into DIR.
fleet_guest() {
    vm=$1
    forkd="$DECANT_BUILD/corpus/legacy_forkd"
    [ -x "$forkd" ] || skip "corpus not built ($forkd): build target corpus"
    mkdir -p "$vm/usr/sbin" "$vm/etc/legacy" "$vm/var/log/legacy" "$vm/lib/systemd/system" \
        "$vm/etc/systemd/system/multi-user.target.wants" || fail "mkdir $vm"
    cp "$forkd" "$vm/usr/sbin/legacy_forkd" || fail "cp legacy_forkd"
    for lib in $(ldd "$forkd" | awk '/\// { for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
        mkdir -p "$vm$(dirname "$lib")" && cp -L "$lib" "$vm$lib" || fail "cp $lib"
    done
    cp /etc/os-release "$vm/etc/os-release"
    echo "config of $vm" >"$vm/etc/legacy/forkd.conf"
    cat >"$vm/lib/systemd/system/legacy-forkd.service" <<UNIT
[Unit]
Description=Legacy fork-per-connection server

[Service]
ExecStart=/usr/sbin/legacy_forkd -p ${2:-7070}
LogsDirectory=legacy

[Install]
WantedBy=multi-user.target
UNIT
    ln -s /lib/systemd/system/legacy-forkd.service "$vm/etc/systemd/system/multi-user.target.wants/legacy-forkd.service"
}

# fleet_tree DIR: every entry of a tree (path, type, mode, link target) and
# every file's digest, for comparing two outputs.
fleet_tree() {
    (cd "$1" && find . -printf '%P %y %m %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
