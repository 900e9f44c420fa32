// Port publishing for `decant run` when the service has its own network
// namespace: the namespace itself (created by decant, loopback up, handed to
// the runtime by path), the list of ports a bundle records at package time
// (the io.decant.ports annotation), `--publish` mappings, and a userspace TCP
// relay from host ports to 127.0.0.1:PORT inside the namespace. No iptables,
// no veth: the relay's inner sockets are created by a thread that joined the
// namespace, so they keep belonging to it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace decant {

struct PortSpec {
  uint16_t port = 0;
  std::string proto;  // tcp | udp
  bool operator==(const PortSpec& o) const { return port == o.port && proto == o.proto; }
};

// The io.decant.ports annotation, a JSON array as a string
// ('[{"port":17070,"proto":"tcp"}]', see packager/oci_config.h) -> ports,
// duplicates dropped. Anything else is bad input naming the entry.
Result<std::vector<PortSpec>> parse_port_annotation(const std::string& text);

struct Publish {
  std::string host_addr = "0.0.0.0";  // IPv4 address the host side listens on
  uint16_t host_port = 0;
  uint16_t port = 0;  // the container's port
  std::string proto = "tcp";
  bool operator==(const Publish& o) const {
    return host_addr == o.host_addr && host_port == o.host_port && port == o.port && proto == o.proto;
  }
};

// A --publish value: "PORT", "HOSTPORT:PORT" or "ADDR:HOSTPORT:PORT", each
// optionally followed by "/tcp" or "/udp".
Result<Publish> parse_publish(const std::string& spec);

// What to publish: every recorded port at the same host port, except that a
// --publish naming a container port replaces that port's default mapping
// (and may name ports the bundle does not record). UDP is not relayed: such
// ports are dropped with a note. Fails when two mappings claim one host port.
Result<std::vector<Publish>> publish_plan(const std::vector<PortSpec>& recorded,
                                          const std::vector<Publish>& requested, std::vector<std::string>& notes);

// A fresh network namespace with its loopback up, as an O_CLOEXEC fd that
// keeps it alive; a runtime joins it through /proc/<pid>/fd/<fd>, so nothing
// is mounted and nothing outlives decant.
Result<int> create_network_namespace();

// Listens on the host side of each mapping and relays every connection to
// 127.0.0.1:PORT (then [::1]:PORT) inside a network namespace, many at once,
// half-close passed on. Binding happens in listen(), so a host port in use
// is an error before the container starts.
class PortForwarder {
 public:
  static Result<std::unique_ptr<PortForwarder>> listen(const std::vector<Publish>& mappings);
  ~PortForwarder();
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  // Starts the relay thread inside the namespace netns_fd (not taken over).
  // trouble, when set, gets one line per connection the relay could not
  // serve, from the relay's thread.
  Status start(int netns_fd, std::function<void(const std::string&)> trouble);
  // Stops relaying, closes every socket and waits for the thread.
  void stop();

  struct Impl;

 private:
  explicit PortForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace decant
