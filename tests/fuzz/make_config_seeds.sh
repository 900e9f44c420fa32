#!/bin/sh
# Seeds for config_fuzz: little guests as "PATH\n CONTENT" records separated
# by NUL bytes ('@PATH' is a symlink to CONTENT; see fuzz_memory_guest.h),
# one a daemon as Debian installs it: nginx, Apache, lighttpd, postfix's
# master.cf with /etc/services, BIND, sshd, MySQL and vsftpd (INI forms),
# rsyslog, redis and squid, with their include chains, *-enabled symlinks
# into *-available, modules and a dpkg database; then the hostile ones:
# include loops, symlink loops under globs, a deep chain, a huge line,
# binary junk, includes and links climbing out with ../, and repeats.
# The first records are the seeds as written. usage: make_config_seeds.sh OUTDIR
set -eu
out=$1
mkdir -p "$out"
# rec PATH: a file whose content is stdin; link PATH TARGET: a symlink.
rec() { printf '%s\n' "$1"; cat; printf '\000'; }
link() { printf '@%s\n%s\000' "$1" "$2"; }
elf() { printf '%s\n\177ELF\002\001\001\000' "$1"; }

{ rec /etc/nginx/nginx.conf <<'EOF'
user www-data;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 768; }
http {
	access_log /var/log/nginx/access.log;
	include /etc/nginx/mime.types;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
EOF
  rec /etc/nginx/sites-available/default <<'EOF'
server {
	listen 80 default_server;
	listen [::]:8443 ssl;
	root /var/www/html;
	include snippets/fastcgi-php.conf;
}
EOF
  link /etc/nginx/sites-enabled/default /etc/nginx/sites-available/default
  printf '/etc/nginx/mime.types\ntypes { text/html html; }\n\000'
  printf '/etc/nginx/snippets/fastcgi-php.conf\nfastcgi_pass unix:/run/php/php-fpm.sock;\ninclude fastcgi.conf;\n\000'
  printf '/etc/nginx/fastcgi.conf\nfastcgi_param SCRIPT_FILENAME $document_root;\n\000'
  printf '/etc/nginx/modules-available/50-mod-geoip.conf\nload_module modules/ngx_http_geoip_module.so;\n\000'
  link /etc/nginx/modules-enabled/50-mod-geoip.conf ../modules-available/50-mod-geoip.conf
  elf /usr/lib/nginx/modules/ngx_http_geoip_module.so
  printf '/var/www/html/index.html\nhi\000/var/log/nginx/access.log\n\000'
  elf /usr/sbin/nginx; } >"$out/nginx"

{ rec /etc/apache2/apache2.conf <<'EOF'
ServerRoot "/etc/apache2"
PidFile ${APACHE_PID_FILE}
ErrorLog /var/log/apache2/error.log
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
<Directory /var/www/>
	AllowOverride None
</Directory>
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
EOF
  printf '/etc/apache2/ports.conf\nListen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n\000'
  printf '/etc/apache2/mods-available/mpm_event.load\nLoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n\000'
  printf '/etc/apache2/mods-available/mpm_event.conf\n<IfModule mpm_event_module>\nStartServers 2\n</IfModule>\n\000'
  link /etc/apache2/mods-enabled/mpm_event.load ../mods-available/mpm_event.load
  link /etc/apache2/mods-enabled/mpm_event.conf ../mods-available/mpm_event.conf
  elf /usr/lib/apache2/modules/mod_mpm_event.so
  printf '/etc/apache2/sites-available/000-default.conf\n<VirtualHost *:8080>\n\tDocumentRoot /var/www/html\n\tCustomLog ${APACHE_LOG_DIR}/access.log combined\n</VirtualHost>\n\000'
  link /etc/apache2/sites-enabled/000-default.conf ../sites-available/000-default.conf
  printf '/etc/apache2/conf-available/security.conf\nServerTokens OS\n\000'
  link /etc/apache2/conf-enabled/security.conf /etc/apache2/conf-available/security.conf
  printf '/etc/apache2/conf-enabled/old.conf~\nListen 9\n\000/var/www/html/index.html\nhi\000'
  printf '/var/lib/dpkg/info/apache2-bin.list\n/usr/sbin/apache2\n\000'
  printf '/var/lib/dpkg/info/apache2.list\n/etc/apache2\n/etc/apache2/apache2.conf\n/etc/apache2/ports.conf\n/etc/init.d/apache2\n\000'
  printf '/var/lib/dpkg/info/apache2.conffiles\n/etc/apache2/apache2.conf\n/etc/apache2/ports.conf\n\000'
  printf '/var/lib/dpkg/status\nPackage: apache2-bin\nSource: apache2 (2.4)\n\nPackage: apache2\n\n\000'
  printf '/var/log/apache2/x\n\000'
  elf /usr/sbin/apache2; } >"$out/apache2"

{ rec /etc/lighttpd/lighttpd.conf <<'EOF'
server.modules = (
	"mod_indexfile",
	"mod_access",
)
server.modules += ( "mod_rewrite" )
server.document-root        = "/var/www/html"
server.errorlog             = "/var/log/lighttpd/error.log"
server.pid-file             = "/run/lighttpd.pid"
server.port                 = 8081
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
include_shell "/usr/share/lighttpd/include-conf-enabled.pl"
include_shell "cat /etc/lighttpd/extra.conf"
include "/etc/lighttpd/conf-enabled/*.conf"
EOF
  printf '/etc/lighttpd/conf-available/10-fastcgi.conf\nserver.modules += ( "mod_fastcgi" )\n\000'
  link /etc/lighttpd/conf-enabled/10-fastcgi.conf ../conf-available/10-fastcgi.conf
  printf '/etc/lighttpd/extra.conf\n$SERVER["socket"] == ":8443" { ssl.engine = "enable" }\n\000'
  elf /usr/lib/lighttpd/mod_access.so
  elf /usr/lib/lighttpd/mod_fastcgi.so
  elf /usr/sbin/lighttpd; } >"$out/lighttpd"

{ rec /etc/postfix/master.cf <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
127.0.0.1:submission inet n -   y       -       -       smtpd
  -o syslog_name=postfix/submission
2525      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
EOF
  printf '/etc/postfix/main.cf\nqueue_directory = /var/spool/postfix\ninet_interfaces = all\n\000'
  printf '/etc/postfix/master.cf.proto\nsmtps inet n - y - - smtpd\n\000'
  printf '/etc/services\nsmtp\t\t25/tcp\t\tmail\nsubmission\t587/tcp\nsmtps 465/tcp ssmtp\n\000'
  printf '/var/spool/postfix/x\n\000'
  elf /usr/lib/postfix/sbin/master; } >"$out/postfix"

{ rec /etc/bind/named.conf <<'EOF'
// This is the primary configuration file for the BIND DNS server named.
include "/etc/bind/named.conf.options";
include "/etc/bind/named.conf.local";
include "/etc/bind/named.conf.default-zones";
EOF
  printf '/etc/bind/named.conf.options\noptions {\n\tdirectory "/var/cache/bind";\n\tlisten-on port 5353 { any; };\n\tlisten-on-v6 { any; };\n};\n\000'
  printf '/etc/bind/named.conf.local\nzone "example.org" { type master; file "/etc/bind/db.example"; };\n\000'
  printf '/etc/bind/named.conf.default-zones\nzone "." { type hint; file "/usr/share/dns/root.hints"; };\ninclude "/etc/bind/named.conf.local";\n\000'
  printf '/etc/bind/db.example\n$TTL 1h\n@ IN SOA ns. root. 1 1 1 1 1\n\000/var/cache/bind/x\n\000'
  elf /usr/sbin/named; } >"$out/bind"

{ rec /etc/ssh/sshd_config <<'EOF'
Include /etc/ssh/sshd_config.d/*.conf
Port 2222
ListenAddress 127.0.0.1:2223
ListenAddress [::1]:2224
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  printf '/etc/ssh/sshd_config.d/local.conf\nPasswordAuthentication no\nPort 22\n\000'
  printf '/etc/ssh/ssh_host_ed25519_key\n-----BEGIN OPENSSH PRIVATE KEY-----\n\000'
  elf /usr/lib/openssh/sftp-server
  elf /usr/sbin/sshd; } >"$out/sshd"

{ rec /etc/mysql/my.cnf <<'EOF'
[mysqld]
port = 3307
socket = /run/mysqld/mysqld.sock
datadir = /var/lib/mysql
!includedir /etc/mysql/conf.d/
!include /etc/mysql/mariadb.cnf
EOF
  printf '/etc/mysql/conf.d/mysqldump.cnf\n[mysqldump]\nquick\n\000'
  printf '/etc/mysql/mariadb.cnf\n[client-server]\n!includedir /etc/mysql/mariadb.conf.d/\n\000'
  printf '/etc/mysql/mariadb.conf.d/50-server.cnf\n[mysqld]\nlog_error = /var/log/mysql/error.log\nbind-address = 127.0.0.1\n\000'
  printf '/etc/vsftpd.conf\nlisten=YES\nlisten_port=2121\nxferlog_file=/var/log/vsftpd.log\nsecure_chroot_dir=/var/run/vsftpd/empty\n\000'
  printf '/var/lib/mysql/x\n\000/var/log/mysql/x\n\000'
  elf /usr/sbin/mysqld; } >"$out/mysql-vsftpd"

{ rec /etc/rsyslog.conf <<'EOF'
module(load="imuxsock")
module(load="imtcp")
input(type="imtcp" port="514")
$ModLoad imklog
$IncludeConfig /etc/rsyslog.d/*.conf
include(file="/etc/rsyslog.d/extra/*.conf" mode="optional")
auth,authpriv.*			/var/log/auth.log
*.*;auth,authpriv.none		-/var/log/syslog
EOF
  printf '/etc/rsyslog.d/50-default.conf\nmail.*\t-/var/log/mail.log\n\000'
  printf '/etc/rsyslog.d/extra/udp.conf\nmodule(load="imudp")\ninput(type="imudp" port="5140")\n\000'
  elf /usr/lib/x86_64-linux-gnu/rsyslog/imtcp.so
  elf /usr/lib/x86_64-linux-gnu/rsyslog/imudp.so
  printf '/var/log/x\n\000'
  elf /usr/sbin/rsyslogd; } >"$out/rsyslog"

{ rec /etc/redis/redis.conf <<'EOF'
bind 127.0.0.1 -::1
port 6380
cluster-announce-port 0
include /etc/redis/local.conf
dir /var/lib/redis
logfile /var/log/redis/redis-server.log
EOF
  printf '/etc/redis/local.conf\nport 6381\nreplica-announce-port 7000\n\000'
  printf '/etc/squid/squid.conf\nhttp_port 3128\ninclude /etc/squid/conf.d/*\ncache_dir ufs /var/spool/squid 100 16 256\n\000'
  printf '/etc/squid/conf.d/debian.conf\nlogfile_rotate 0\nhttp_port 127.0.0.1:3129 intercept\n\000'
  printf '/var/lib/redis/x\n\000/var/log/redis/x\n\000'
  elf /usr/bin/redis-server; } >"$out/redis-squid"

# Hostile: an include loop through a symlink, a directory that includes
# itself, includes climbing out of the guest, absolute and relative links
# out, a symlink loop under a glob, and a link to itself.
{ rec /etc/app/app.conf <<'EOF'
include /etc/app/app.conf
Include app.conf
include ../../../../../../../etc/app/b.conf
include /../../etc/app/conf.d
include /etc/app/loop/*/*/*/*/*.conf
include /etc/app/loop/*/x.conf
IncludeOptional /etc/app/self
include "/etc/app/out.conf" ;
include '/etc/app/up.conf'
include_shell "cat ../b.conf /etc/app/app.conf"
include_shell "sh -c 'cat /etc/shadow'"
EOF
  printf '/etc/app/b.conf\ninclude /etc/app/c.conf\n\000/etc/app/c.conf\ninclude /etc/app/b.conf\nport 99999\nport 0\nlisten 65535\n\000'
  printf '/etc/app/conf.d/a.conf\ninclude /etc/app/conf.d\n\000'
  printf '/etc/app/loop/x.conf\nport 1\n\000'
  link /etc/app/loop/l0 .
  link /etc/app/loop/l1 ..
  link /etc/app/loop/l2 /etc/app/loop
  link /etc/app/self /etc/app/self
  link /etc/app/out.conf /../../../../etc/hostname
  link /etc/app/up.conf ../../../../../../etc/app/b.conf; } >"$out/loops"

# A chain deeper than the depth bound, with relative and absolute links.
{ i=0
  while [ $i -lt 14 ]; do
    printf '/etc/deep/d%d.conf\ninclude d%d.conf\nport %d\n\000' $i $((i + 1)) $((1000 + i))
    i=$((i + 1))
  done
  link /etc/deep/d14.conf /etc/deep/d0.conf; } >"$out/deep-chain"

# A huge line, binary junk, a script, a long path, CRLF and no final newline.
{ printf '/etc/junk/junk.conf\n'; i=0; while [ $i -lt 600 ]; do printf 'include /etc/junk/x%d ' $i; i=$((i + 1)); done
  printf '\nport 8000\r\ninclude /etc/junk/*\r\nlisten\t\t[::]:8001;\r\n\000'
  printf '/etc/junk/bin.db\n\001\002\377\376include /etc/junk/junk.conf\n\000'
  printf '/etc/junk/hook\n#!/bin/sh\ninclude /etc/junk/other\nport 7\n\000'
  printf '/etc/junk/%s.conf\nport 8002\000' "$(printf 'a%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
    21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50)"; } >"$out/junk"

# Many distinct and repeated includes, a glob matching everything.
{ printf '/etc/many.conf\n'; i=0; while [ $i -lt 300 ]; do echo "include /etc/many.d/f$((i % 40)).conf"; i=$((i + 1)); done
  echo 'include /*'; echo 'include /etc/*/*/*'; printf '\000'
  i=0; while [ $i -lt 40 ]; do printf '/etc/many.d/f%d.conf\nport %d\n\000' $i $((2000 + i)); i=$((i + 1)); done; } >"$out/many"

# A command line seed and a glob seed: the first record names a directory.
{ printf '/etc/svc\n\000/etc/svc/svc.conf\nListen 127.0.0.1:9000\nLoadModule x modules/x.so\n\000'
  elf /etc/svc/modules/x.so
  printf '/etc/svc/conf.d/a.conf\n--port=9001\n-p 9002\n\000'
  elf /usr/sbin/svc; } >"$out/directory-seed"
exit 0
