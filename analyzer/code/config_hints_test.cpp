// Unit tests of the config-file port reader: the directive forms on text,
// conditional blocks, and the documented-default fallback over a tree.
#include "analyzer/code/config_hints.h"
#include "analyzer/code/literals.h"

#include <gtest/gtest.h>

namespace decant {
namespace {

std::vector<unsigned> ports_of(const std::string& text) {
  std::vector<unsigned> out;
  for (auto& p : parse_port_directives(text)) out.push_back(p.port);
  return out;
}

TEST(ConfigPorts, KnownDirectiveForms) {
  EXPECT_EQ(ports_of("port 6379\n"), std::vector<unsigned>{6379});                   // redis
  EXPECT_EQ(ports_of("-m 64\n-p 11211\n-u memcache\n"), std::vector<unsigned>{11211});  // memcached
  EXPECT_EQ(ports_of("--port=11212\n"), std::vector<unsigned>{11212});
  EXPECT_EQ(ports_of("server.port                 = 80\n"), std::vector<unsigned>{80});  // lighttpd
  EXPECT_EQ(ports_of("listen=YES\nlisten_port=2121\n"), std::vector<unsigned>{2121});  // vsftpd
  EXPECT_EQ(ports_of("Listen 8080\nListen 10.0.0.1:8443\n"), (std::vector<unsigned>{8080, 8443}));  // apache
  EXPECT_EQ(ports_of("  listen 80 default_server;\n  listen [::]:81;\n"), (std::vector<unsigned>{80, 81}));  // nginx
  EXPECT_EQ(ports_of("Port 22\n"), std::vector<unsigned>{22});  // sshd, proftpd
}

TEST(ConfigPorts, CommentsDisabledAndLookalikesIgnored) {
  EXPECT_TRUE(ports_of("# port 6379\n#-p 11211\n").empty());
  EXPECT_TRUE(ports_of("tls-port 0\nport 0\ncluster-announce-port 7000\n").empty());
  EXPECT_TRUE(ports_of("port six\nport 70000\nlisten=YES\n").empty());
  auto p = parse_port_directives("a\n\nport 7 # trailing comment\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].line, 3u);
  EXPECT_EQ(p[0].text, "port 7");
  auto n = parse_port_directives("listen 127.0.0.1:8080;\n");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].address, "127.0.0.1");
}

TEST(ConfigPorts, GenericForms) {
  EXPECT_EQ(ports_of("http_port 3128\nicp_port 0\n"), std::vector<unsigned>{3128});                 // squid
  EXPECT_EQ(ports_of("ListenAddress 0.0.0.0\nListenAddress 10.0.0.1:2222\n"), std::vector<unsigned>{2222});
  EXPECT_EQ(ports_of("input(type=\"imtcp\" port=\"514\")\n"), std::vector<unsigned>{514});        // rsyslog
  EXPECT_EQ(ports_of("bind 127.0.0.1 -::1\nbind 0.0.0.0:6000\n"), std::vector<unsigned>{6000});
  EXPECT_EQ(ports_of("[mysqld]\nport=3307\n"), std::vector<unsigned>{3307});
  // A peer's port is not one this server binds.
  EXPECT_TRUE(ports_of("remote_port 25\nmasterport 1\nreplica-announce-port 6380\nrelay_port 25\n").empty());
}

TEST(ConfigPorts, ConditionalBlocksAreMedium) {
  auto p = parse_port_directives("Listen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\nListen 8080\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].confidence, "high");
  EXPECT_EQ(p[1].port, 443u);
  EXPECT_EQ(p[1].confidence, "medium");
  EXPECT_EQ(p[2].confidence, "high");
}

ConfigTree tree_of(std::vector<std::pair<std::string, std::string>> files) {
  ConfigTree t;
  for (auto& [path, text] : files) t.files.push_back({path, path, "config: test", 0, text});
  return t;
}

TEST(ConfigPorts, PortsOfTheTreeWithEvidence) {
  Profile p;
  p.binary.path = "/usr/bin/redis-server";
  add_config_ports(tree_of({{"/etc/redis/redis.conf", "bind 127.0.0.1\n# port 1\nport 6380\n"}}), "redis-server", p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 6380);
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  EXPECT_EQ(p.network.listen[0].evidence[0], "config: /etc/redis/redis.conf:3: port 6380");
}

// postfix's master.cf: each `SERVICE inet ...` line is a socket the master
// opens; SERVICE is a number or an /etc/services name, maybe with a host.
// Indented lines continue the service above; other types are not ports.
TEST(ConfigPorts, ServiceTableLinesByNumberOrGuestServiceName) {
  EtcServices services = parse_services("smtp\t\t25/tcp\t\tmail\nsubmission\t587/tcp\n");
  const char* master =
      "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
      "smtp      inet  n       -       y       -       -       smtpd\n"
      "#submission inet n       -       y       -       -       smtpd\n"
      "127.0.0.1:submission inet n   -       y       -       -       smtpd\n"
      "  -o syslog_name=postfix/submission\n"
      "10025     inet  n       -       n       -       -       smtpd\n"
      "pickup    unix  n       -       y       60      1       pickup\n"
      "nosuch    inet  n       -       y       -       -       smtpd\n";
  auto ports = parse_port_directives(master, &services);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0].port, 25u);
  EXPECT_EQ(ports[0].line, 2u);
  EXPECT_EQ(ports[0].address, "");
  EXPECT_EQ(ports[1].port, 587u);
  EXPECT_EQ(ports[1].address, "127.0.0.1");
  EXPECT_EQ(ports[2].port, 10025u);
  // Without the guest's services only the numeric one is known.
  ASSERT_EQ(parse_port_directives(master).size(), 1u);
  Profile p;
  add_config_ports(tree_of({{"/etc/postfix/master.cf", master},
                            {"/etc/postfix/master.cf.proto", "2525 inet n - y - - smtpd\n"}}),
                   "master", p, services);
  ASSERT_EQ(p.network.listen.size(), 3u);  // not the template's 2525
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  EXPECT_EQ(p.network.listen[0].evidence[0],
            "config: /etc/postfix/master.cf:2: smtp      inet  n       -       y       -       -       smtpd");
}

// BIND: `listen-on [-v6] [port N] { addresses; };`; without `port` the
// default (53) stays a medium-confidence fallback.
TEST(ConfigPorts, BindListenOnPort) {
  auto ports = parse_port_directives("options {\n\tlisten-on port 5353 { 127.0.0.1; };\n"
                                     "\tlisten-on-v6 port 5354 { any; };\n\tlisten-on { any; };\n};\n");
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].port, 5353u);
  EXPECT_EQ(ports[1].port, 5354u);
  EXPECT_TRUE(ports[0].udp_too && ports[1].udp_too);  // DNS: both protocols
  EXPECT_FALSE(parse_port_directives("port 6379\n")[0].udp_too);
  Profile p;
  add_config_ports(tree_of({{"/etc/bind/named.conf.options", "options {\n\tlisten-on-v6 { any; };\n};\n"}}),
                   "named", p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 53u);
  EXPECT_EQ(p.network.listen[0].confidence, "medium");
}

// sshd_config ships "#Port 22": the package's commented default agrees
// with the documented-default table, so the port is high; the table alone
// stays medium, a commented port alone (dovecot's, or rsyslog's optional
// inputs shipped disabled) is nothing, and prose ("# Port forwarding") is
// no directive.
TEST(ConfigPorts, CommentedDefaultAgreeingWithTheTable) {
  Profile p;
  add_config_ports(tree_of({{"/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n\n#Port 22\n#AddressFamily any\n"}}),
                   "sshd", p, EtcServices{});
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 22u);
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  EXPECT_EQ(p.network.listen[0].evidence[0],
            "config: /etc/ssh/sshd_config:3: #Port 22 (commented out: the package's default)");
  Profile q;
  add_config_ports(tree_of({{"/etc/ssh/sshd_config", "# Port 2222 would be another choice\n#Port 2222\n"}}), "sshd", q,
                   EtcServices{});
  ASSERT_EQ(q.network.listen.size(), 1u);
  EXPECT_EQ(q.network.listen[0].port, 22u);
  EXPECT_EQ(q.network.listen[0].confidence, "medium");
  Profile r;
  add_config_ports(tree_of({{"/etc/dovecot/conf.d/10-master.conf", "  inet_listener imap {\n    #port = 143\n  }\n"}}),
                   "dovecot", r, EtcServices{});
  EXPECT_TRUE(r.network.listen.empty());
  Profile feature;  // an optional input shipped disabled
  add_config_ports(tree_of({{"/etc/rsyslog.conf", "#module(load=\"imudp\")\n#input(type=\"imudp\" port=\"514\")\n"}}),
                   "rsyslogd", feature, EtcServices{});
  EXPECT_TRUE(feature.network.listen.empty());
  Profile none;
  add_config_ports(tree_of({{"/etc/x.conf", "# Port forwarding is off\n"}}), "xd", none, EtcServices{});
  EXPECT_TRUE(none.network.listen.empty());
}

// A constant the code swaps into sin_port (vsftpd's listen_port global) is
// the program's default: high when no file names a port, ahead of the
// documented-default table; listen_port in the files overrides it.
TEST(ConfigPorts, CodeDefaultPortUnderTheFiles) {
  const CompiledDefaults compiled = {{}, {{21, "static: 21 in the global at 0x2aa24, passed at 0x12289 to 0x18290"}}};
  Profile p;
  add_config_ports(tree_of({{"/etc/vsftpd.conf", "listen=NO\nlisten_ipv6=YES\n"}}), "vsftpd", p, EtcServices{}, compiled);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 21u);
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  EXPECT_EQ(p.network.listen[0].evidence[0],
            "static: 21 in the global at 0x2aa24, passed at 0x12289 to 0x18290 (no port in /etc/vsftpd.conf: the "
            "program's default)");
  Profile q;
  add_config_ports(tree_of({{"/etc/vsftpd.conf", "listen_port=2121\n"}}), "vsftpd", q, EtcServices{}, compiled);
  ASSERT_EQ(q.network.listen.size(), 1u);
  EXPECT_EQ(q.network.listen[0].port, 2121u);
}

// A configuration the program carries as text gives its ports, UDP too in
// BIND's dialect, when no file of the tree names one, ahead of the
// documented-default table; a port in the files overrides it.
TEST(ConfigPorts, CompiledInConfigurationUnderTheFiles) {
  const CompiledDefaults compiled = {
      {{"options {\n\tlisten-on {any;};\n\tport 53;\n};\n", "static: compiled-in configuration at 0x10"}}, {}};
  Profile p;
  add_config_ports(tree_of({{"/etc/bind/named.conf.options", "options {\n\tlisten-on-v6 { any; };\n};\n"}}),
                   "named", p, EtcServices{}, compiled);
  ASSERT_EQ(p.network.listen.size(), 2u);
  EXPECT_EQ(p.network.listen[0].proto, "tcp");
  EXPECT_EQ(p.network.listen[1].proto, "udp");
  for (const auto& l : p.network.listen) {
    EXPECT_EQ(l.port, 53u);
    EXPECT_EQ(l.confidence, "high");
    EXPECT_EQ(l.evidence[0], "config: named's compiled-in configuration at 0x10, line 3: port 53;");
  }
  Profile q;
  add_config_ports(tree_of({{"/etc/bind/named.conf.options", "options {\n\tlisten-on port 5353 { any; };\n};\n"}}),
                   "named", q, EtcServices{}, compiled);
  ASSERT_EQ(q.network.listen.size(), 2u);
  EXPECT_EQ(q.network.listen[0].port, 5353u);
  EXPECT_EQ(q.network.listen[1].port, 5353u);
}

// Only configuration-shaped text is read for directives: not a usage text
// or prose that happens to mention a port.
TEST(ConfigPorts, WhatCountsAsCompiledInConfiguration) {
  std::string bind_defaults = "options {\n";
  for (const char* l : {"answer-cookie true;", "listen-on {any;};", "port 53;", "recursion true;",
                        "max-cache-size 90%;", "notify yes;", "serial-queries 20;", "transfers-in 10;"})
    bind_defaults += std::string("\t") + l + "\n";
  bind_defaults += "};\n";
  EXPECT_TRUE(is_config_text(bind_defaults));
  EXPECT_FALSE(is_config_text(bind_defaults.substr(0, 40)));  // too short
  std::string usage = "Usage: memcached [options]\n";
  for (int i = 0; i < 10; ++i) usage += "-p, --port=<num>          TCP port to listen on (default: 11211)\n";
  EXPECT_FALSE(is_config_text(usage));
  std::string prose;
  for (int i = 0; i < 10; ++i) prose += "The server listens on port 8080 unless told otherwise.\n";
  EXPECT_FALSE(is_config_text(prose));
  EXPECT_FALSE(is_config_text(bind_defaults + "\x01"));  // binary
}

TEST(ConfigPorts, DocumentedDefaultOnlyWithoutADirective) {
  Profile p;
  add_config_ports(tree_of({{"/etc/vsftpd.conf", "listen=YES\nanonymous_enable=NO\n"}}), "vsftpd", p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 21);
  EXPECT_EQ(p.network.listen[0].confidence, "medium");
  Profile q;
  add_config_ports(tree_of({{"/etc/vsftpd.conf", "listen_port=2121\n"}}), "vsftpd", q);
  ASSERT_EQ(q.network.listen.size(), 1u);
  EXPECT_EQ(q.network.listen[0].port, 2121);
  // No configuration at all: no guess.
  Profile r;
  add_config_ports(ConfigTree{}, "lighttpd", r);
  EXPECT_TRUE(r.network.listen.empty());
}

}  // namespace
}  // namespace decant
