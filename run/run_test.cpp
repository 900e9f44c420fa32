// Unit tests of `decant run`'s port publishing: the port list the packager
// records in a bundle, --publish parsing and the relay plan.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "packager/oci_config.h"
#include "run/port_forward.h"

namespace decant {
namespace {

TEST(PortForward, RuntimeConfigRecordsPorts) {
  ImageSpec s;
  s.ports = {{53, "udp"}, {8080, "tcp"}};
  auto annotation = runtime_config(s, RuntimeConfigOptions{})["annotations"][kPortsAnnotation];
  ASSERT_TRUE(annotation.is_string());  // OCI annotation values are strings
  EXPECT_EQ(annotation, R"([{"port":53,"proto":"udp"},{"port":8080,"proto":"tcp"}])");
  auto back = parse_port_annotation(annotation.get<std::string>());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<PortSpec>{{53, "udp"}, {8080, "tcp"}}));
  s.ports.clear();
  EXPECT_FALSE(runtime_config(s, RuntimeConfigOptions{})["annotations"].contains(kPortsAnnotation));
}

TEST(PortForward, ParsesPortAnnotation) {
  auto p = parse_port_annotation(
      R"([{"port":17070,"proto":"tcp"},{"port":53,"proto":"udp"},{"port":17070,"proto":"tcp"}])");
  ASSERT_TRUE(p.ok());
  std::vector<PortSpec> want = {{17070, "tcp"}, {53, "udp"}};
  EXPECT_EQ(*p, want);
  ASSERT_TRUE(parse_port_annotation("[]").ok());
  EXPECT_TRUE(parse_port_annotation("[]")->empty());
  for (const char* bad : {"", "17070/tcp,53/udp", "{}", R"([{"port":0,"proto":"tcp"}])",
                          R"([{"port":65536,"proto":"tcp"}])", R"([{"port":80,"proto":"sctp"}])",
                          R"([{"port":"80","proto":"tcp"}])", R"([{"port":80}])", R"([{"port":-1,"proto":"tcp"}])",
                          R"([{"port":80,"proto":"tcp","x":1}])", R"([80])"}) {
    auto r = parse_port_annotation(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(PortForward, ParsesPublish) {
  auto p = parse_publish("7070");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (Publish{"0.0.0.0", 7070, 7070, "tcp"}));
  p = parse_publish("8080:7070");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (Publish{"0.0.0.0", 8080, 7070, "tcp"}));
  p = parse_publish("127.0.0.1:8080:7070/udp");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (Publish{"127.0.0.1", 8080, 7070, "udp"}));
  for (const char* bad : {"", ":7070", "8080:", "a:b:c:d", "host:8080:7070", "8080:7070/icmp", "70000:7070", "0"})
    EXPECT_FALSE(parse_publish(bad).ok()) << bad;
}

TEST(PortForward, PlansMappings) {
  std::vector<std::string> notes;
  std::vector<PortSpec> recorded = {{17070, "tcp"}, {53, "udp"}, {80, "tcp"}};
  auto plan = publish_plan(recorded, {}, notes);
  ASSERT_TRUE(plan.ok());
  std::vector<Publish> want = {{"0.0.0.0", 17070, 17070, "tcp"}, {"0.0.0.0", 80, 80, "tcp"}};
  EXPECT_EQ(*plan, want);
  ASSERT_EQ(notes.size(), 1u);  // UDP is not relayed
  EXPECT_NE(notes[0].find("53/udp"), std::string::npos);

  notes.clear();
  plan = publish_plan(recorded, {{"127.0.0.1", 8080, 80, "tcp"}, {"0.0.0.0", 9000, 9000, "tcp"}}, notes);
  ASSERT_TRUE(plan.ok());
  want = {{"0.0.0.0", 17070, 17070, "tcp"}, {"127.0.0.1", 8080, 80, "tcp"}, {"0.0.0.0", 9000, 9000, "tcp"}};
  EXPECT_EQ(*plan, want);

  auto clash = publish_plan(recorded, {{"0.0.0.0", 17070, 80, "tcp"}}, notes);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("17070"), std::string::npos);
}

// A free TCP port on the host, as the kernel picks one.
uint16_t free_tcp_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return 0;
  ::close(s);
  return ntohs(a.sin_port);
}

int tcp_connect(uint16_t port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  return s;
}

// The relay through the host's own namespace (joining a namespace needs
// root): megabytes each way over concurrent connections, with the client's
// half-close reaching a server that answers only after EOF.
TEST(PortForward, RelaysConcurrentConnectionsWithHalfClose) {
  if (::geteuid() != 0) GTEST_SKIP() << "joining a network namespace needs root";
  uint16_t inner = free_tcp_port(), outer = free_tcp_port();
  ASSERT_NE(inner, 0);
  ASSERT_NE(outer, 0);
  int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(inner);
  ASSERT_EQ(::bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(srv, 16), 0);
  constexpr int kClients = 5;
  // Echo server: reads everything until EOF, then sends it back reversed.
  std::thread server([srv] {
    std::vector<std::thread> workers;
    for (int i = 0; i < kClients; ++i) {
      int c = ::accept(srv, nullptr, nullptr);
      if (c < 0) break;
      workers.emplace_back([c] {
        std::string got;
        char buf[8192];
        ssize_t n;
        while ((n = ::read(c, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
        std::reverse(got.begin(), got.end());
        size_t off = 0;
        while (off < got.size()) {
          ssize_t w = ::write(c, got.data() + off, got.size() - off);
          if (w <= 0) break;
          off += static_cast<size_t>(w);
        }
        ::close(c);
      });
    }
    for (auto& w : workers) w.join();
  });

  auto fwd = PortForwarder::listen({{"127.0.0.1", outer, inner, "tcp"}});
  ASSERT_TRUE(fwd.ok()) << fwd.error().message;
  int self_ns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(self_ns, 0);
  ASSERT_TRUE((*fwd)->start(self_ns, nullptr).ok());

  // A second relay on the same host port is refused with one clear line.
  auto again = PortForwarder::listen({{"127.0.0.1", outer, inner, "tcp"}});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already in use"), std::string::npos);

  std::vector<std::thread> clients;
  std::vector<int> good(kClients, 0);
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([i, outer, &good] {
      std::string data(1 << 20, '\0');
      for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>((k * 31 + static_cast<size_t>(i)) & 0xff);
      int c = tcp_connect(outer);
      if (c < 0) return;
      size_t off = 0;
      while (off < data.size()) {
        ssize_t w = ::write(c, data.data() + off, data.size() - off);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      ::shutdown(c, SHUT_WR);
      std::string back;
      char buf[8192];
      ssize_t n;
      while ((n = ::read(c, buf, sizeof buf)) > 0) back.append(buf, static_cast<size_t>(n));
      ::close(c);
      std::reverse(back.begin(), back.end());
      good[static_cast<size_t>(i)] = back == data;
    });
  for (auto& c : clients) c.join();
  server.join();
  for (int i = 0; i < kClients; ++i) EXPECT_TRUE(good[static_cast<size_t>(i)]) << "client " << i;

  // Nothing listens inside any more: the relay closes the client's connection.
  ::close(srv);
  int c = tcp_connect(outer);
  ASSERT_GE(c, 0);
  char b;
  EXPECT_LE(::read(c, &b, 1), 0);
  ::close(c);

  (*fwd)->stop();
  ::close(self_ns);
  EXPECT_LT(tcp_connect(outer), 0);  // the host port is free again
}

}  // namespace
}  // namespace decant
