// C++ client of the ftwin bridge (docs/protocol.md): a DEALER control connection with
// request/reply helpers, and a SUB stream subscriber that tracks per-topic sequence gaps.
#pragma once

#include <nlohmann/json.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bridge/wire.h"

namespace ftwin::bridge {

/// An array received in a reply or stream message.
struct Array {
  ArrayDesc desc;
  std::string bytes;
  template <class T>
  T At(int64_t index) const {
    T value;
    std::memcpy(&value, bytes.data() + static_cast<size_t>(index) * sizeof(T), sizeof(T));
    return value;
  }
};

struct Message {
  std::string topic;  ///< stream messages only
  nlohmann::json header;
  std::vector<Array> arrays;
  bool ok() const { return header.value("ok", false); }
  std::string error() const { return header.value("error", std::string()); }
  /// The array with this name; throws std::out_of_range when absent.
  const Array& array(const std::string& name) const;
};

/// CURVE settings of a client: the server's public key and the client's key pair (Z85).
struct CurveKeys {
  std::string server_public;
  std::string client_public;
  std::string client_secret;
};

/// Reads `<stem>.key` and `<stem>.key_secret` files as written by `ftwin keygen`.
CurveKeys LoadClientKeys(const std::string& server_key_file, const std::string& client_stem);

class Client {
 public:
  Client(zmq::context_t& context, const std::string& control_endpoint,
         std::optional<CurveKeys> keys = std::nullopt);

  /// Sends a request (header plus optional array frames) and waits for its reply; throws
  /// std::runtime_error on timeout.
  Message Request(nlohmann::json header, const std::vector<Array>& arrays = {},
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  /// Sends raw frames (for tests of malformed input) and waits for the reply.
  Message RequestRaw(const std::vector<std::string>& frames,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  /// Waits for one reply without sending (e.g. the answer to an earlier Send).
  std::optional<Message> Receive(std::chrono::milliseconds timeout);
  void Send(nlohmann::json header, const std::vector<Array>& arrays = {});

  Message Hello(const std::string& name, const std::string& role = "controller",
                nlohmann::json extra = nlohmann::json::object());
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
  int64_t next_id_ = 1;
};

class Subscriber {
 public:
  Subscriber(zmq::context_t& context, const std::string& stream_endpoint,
             const std::vector<std::string>& topics, std::optional<CurveKeys> keys = std::nullopt,
             int receive_hwm = 1000);
  std::optional<Message> Receive(std::chrono::milliseconds timeout);
  /// Messages missed so far, from gaps in each topic's sequence numbers.
  int64_t gaps() const { return gaps_; }

 private:
  zmq::socket_t socket_;
  std::map<std::string, uint64_t> last_seq_;
  int64_t gaps_ = 0;
};

/// Decodes [header, arrays...] frames; returns false when the header or sizes do not match.
bool DecodeMessage(std::vector<zmq::message_t>& frames, size_t first, Message* message,
                   std::string* error);

}  // namespace ftwin::bridge
