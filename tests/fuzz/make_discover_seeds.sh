#!/bin/sh
# Seeds for discover_fuzz: one file per parser case (first byte selects it),
# the awkward shapes of the unit tests plus real files of the bullseye guest
# when it is cached. usage: make_discover_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
seed() { printf "\\$(printf '%03o' "$1")" >"$out/$2"; cat >>"$out/$2"; }
seed 0 unit-basic <<'EOF2'
[Unit]
Description=x
[Service]
Environment="A=1" B=two\ words
ExecStart=-@/usr/sbin/d d -c "/etc/x y.conf" $A ${B} %i %n %% \
  --more
ExecStart=
ExecStart=+/bin/true 'q"x' \x41
[Install]
WantedBy=multi-user.target
EOF2
seed 1 shell-initscript <<'EOF2'
#!/bin/sh
NAME=d
DAEMON=/usr/sbin/$NAME
X=${UNSET:-fallback} Y="${X:+set}" Z=$(date) W=`id -u`
[ -r /etc/default/$NAME ] && . /etc/default/$NAME
case "$1" in
  start|restart) start-stop-daemon --start --chuid u:g --exec $DAEMON -- $OPTS ;;
esac
do_start() { start_daemon -p /run/d.pid $DAEMON "$@" ; }
EOF2
seed 2 inetd <<'EOF2'
ftp stream tcp nowait root /usr/sbin/tcpd in.ftpd -l
#<off># finger stream tcp6 nowait nobody /usr/sbin/tcpd /usr/sbin/in.fingerd
tftp dgram udp wait.100 nobody:nogroup /usr/sbin/in.tftpd in.tftpd /srv
echo stream tcp nowait root internal
EOF2
seed 3 xinetd <<'EOF2'
defaults
{
  instances = 60
}
includedir /etc/xinetd.d
service telnet
{
  server = /usr/sbin/in.telnetd
  server_args = -h
  server_args += -n
  disable = yes
}
EOF2
seed 4 services <<'EOF2'
ftp 21/tcp
smtp 25/tcp mail # comment
bad 70000/tcp
EOF2
# Regression cases: a value doubling per line and a deep ${...} nest once
# took seconds and a gigabyte (shell_vars.cpp now bounds both).
{ echo 'a=x'; i=0; while [ $i -lt 40 ]; do echo 'a=$a$a'; i=$((i + 1)); done
  i=0; while [ $i -lt 500 ]; do echo '. /b$i; cmd $a $a $a $a'; i=$((i + 1)); done; } | seed 1 shell-doubling
{ printf 'b='; i=0; while [ $i -lt 3000 ]; do printf '${a:-'; i=$((i + 1)); done; echo; } | seed 1 shell-nest
{ printf '[Service]\nEnvironment=A='; head -c 20000 /dev/zero | tr '\0' x; printf '\nExecStart=/bin/d'
  i=0; while [ $i -lt 4000 ]; do printf ' ${A}$A'; i=$((i + 1)); done; echo; } | seed 0 unit-expansion
# Shapes the grown guest revealed: blanks kept in "$A -x", xinetd ids.
seed 1 shell-dquote <<'EOF2'
XINETD_OPTS="-stayalive"
case "$INETD_COMPAT" in [Yy]*) XINETD_OPTS="$XINETD_OPTS -inetd_compat" ;; esac
OPTIONS="$OPTIONS -f $CONFFILE --pidfile $PIDFILE ${X:-a  b} $(id)"
start-stop-daemon --pidfile "$PIDFILE" --start --background --exec "$DAEMON" -- -pidfile "$PIDFILE" $XINETD_OPTS
EOF2
seed 3 xinetd-ids <<'EOF2'
service chargen
{
	type		= INTERNAL
	id		= chargen-dgram
	socket_type	= dgram
}
service rsync
{
	disable = no
	server = /usr/bin/rsync
	server_args = --daemon
	log_on_failure += USERID
}
EOF2
# The newest cached guest (the grown one has xinetd.d, inetd.conf, defaults).
guest=""
for g in $(ls -td "$HOME"/.cache/decant/guests/bullseye-*/ 2>/dev/null || true); do
  [ -f "$g/.decant-guest-complete" ] && guest=${g%/} && break
done
if [ -n "$guest" ]; then
  i=0
  for f in "$guest"/lib/systemd/system/*.service; do
    [ -f "$f" ] || continue
    i=$((i + 1)); [ $i -le 20 ] || break
    seed 0 "unit-$i" <"$f"
  done
  for f in "$guest"/etc/init.d/*; do
    [ -f "$f" ] || continue
    seed 1 "init-$(basename "$f")" <"$f"
  done
  for f in "$guest"/etc/default/*; do
    [ -f "$f" ] || continue
    seed 1 "default-$(basename "$f")" <"$f"
  done
  for f in "$guest"/etc/xinetd.conf "$guest"/etc/xinetd.d/*; do
    [ -f "$f" ] || continue
    seed 3 "xinetd-$(basename "$f")" <"$f"
  done
  [ -f "$guest/etc/inetd.conf" ] && seed 2 inetd-guest <"$guest/etc/inetd.conf"
  [ -f "$guest/etc/services" ] && seed 4 services-guest <"$guest/etc/services"
fi
exit 0
