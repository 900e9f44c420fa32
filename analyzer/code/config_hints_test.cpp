// Unit tests of the config-file port reader: the directive table on text,
// and the file selection (program's own paths, its package's /etc files,
// /etc/NAME.conf, documented defaults) on a fake guest in a temp directory.
#include "analyzer/code/config_hints.h"

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

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

class ConfigGuest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/decant-config-hints.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  void write(const std::string& guest_path, const std::string& text) {
    std::string host = dir_ + guest_path;
    for (size_t i = 1; i < host.size(); ++i)
      if (host[i] == '/') ::mkdir(host.substr(0, i).c_str(), 0755);
    std::ofstream(host) << text;
  }
  std::string dir_;
};

TEST_F(ConfigGuest, PortFromTheProgramsPackageConfig) {
  write("/usr/bin/redis-server", "");
  write("/var/lib/dpkg/info/redis-server.list", "/.\n/etc\n/etc/redis\n/etc/redis/redis.conf\n/usr/bin/redis-server\n");
  write("/etc/redis/redis.conf", "bind 127.0.0.1\n# port 1\nport 6380\n");
  auto root = GuestRoot::open(dir_);
  ASSERT_TRUE(root);
  Profile p;
  p.binary.path = "/usr/bin/redis-server";
  add_config_ports(*root, p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 6380);
  EXPECT_EQ(p.network.listen[0].confidence, "high");
  EXPECT_EQ(p.network.listen[0].evidence[0], "config: /etc/redis/redis.conf:3: port 6380");
}

TEST_F(ConfigGuest, ConventionalPathAndNamedFile) {
  write("/etc/memcached.conf", "-p 11211\n");
  write("/etc/app/app.ini", "port = 9000\n");
  auto root = GuestRoot::open(dir_);
  ASSERT_TRUE(root);
  Profile p;
  p.binary.path = "/usr/bin/memcached";
  p.files.push_back({"/etc/app/app.ini", "read", false, {"static: …"}});
  add_config_ports(*root, p);
  ASSERT_EQ(p.network.listen.size(), 2u);
  EXPECT_EQ(p.network.listen[0].port, 9000);
  EXPECT_EQ(p.network.listen[1].port, 11211);
}

// /etc/services is read through libc by every program that resolves a
// service name; its "ftp 21/tcp" lines are no daemon's listen directives,
// and it must not stand in for the daemon's own configuration.
TEST_F(ConfigGuest, LibcDatabasesAreNotConfiguration) {
  write("/etc/services", "ftp 21/tcp\nport 4444/tcp\n");
  write("/etc/vsftpd.conf", "listen=YES\n");
  auto root = GuestRoot::open(dir_);
  ASSERT_TRUE(root);
  Profile p;
  p.binary.path = "/usr/sbin/vsftpd";
  p.files.push_back({"/etc/services", "read", true, {"static: getaddrinfo is reachable"}});
  add_config_ports(*root, p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 21);
  EXPECT_EQ(p.network.listen[0].evidence[0].find("/etc/services"), std::string::npos) << p.network.listen[0].evidence[0];
}

TEST_F(ConfigGuest, DocumentedDefaultWhenTheConfigHasNoPort) {
  write("/etc/vsftpd.conf", "listen=YES\nanonymous_enable=NO\n");
  auto root = GuestRoot::open(dir_);
  ASSERT_TRUE(root);
  Profile p;
  p.binary.path = "/usr/sbin/vsftpd";
  add_config_ports(*root, p);
  ASSERT_EQ(p.network.listen.size(), 1u);
  EXPECT_EQ(p.network.listen[0].port, 21);
  EXPECT_EQ(p.network.listen[0].confidence, "medium");
  // No configuration at all: no guess.
  Profile q;
  q.binary.path = "/usr/sbin/lighttpd";
  add_config_ports(*root, q);
  EXPECT_TRUE(q.network.listen.empty());
}

}  // namespace
}  // namespace decant
