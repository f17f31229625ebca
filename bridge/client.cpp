#include "bridge/client.h"

#include <zmq_addon.hpp>

#include <fstream>
#include <stdexcept>

namespace ftwin::bridge {

namespace {

std::string ReadFirstLine(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') return line.substr(0, 40);
  throw std::runtime_error("cannot read a key from " + file);
}

void ApplyCurve(zmq::socket_t& socket, const std::optional<CurveKeys>& keys) {
  if (!keys) return;
  socket.set(zmq::sockopt::curve_serverkey, keys->server_public);
  socket.set(zmq::sockopt::curve_publickey, keys->client_public);
  socket.set(zmq::sockopt::curve_secretkey, keys->client_secret);
}

// Waits up to `timeout` for one multipart message and decodes it from frame `first` on (after
// the topic frame on a stream); throws naming `what` when it is not a valid message.
std::optional<Message> ReceiveDecoded(zmq::socket_t& socket, std::chrono::milliseconds timeout,
                                      size_t first, const char* what) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(socket, std::back_inserter(frames))) return std::nullopt;
  Message message;
  std::string error;
  if (frames.size() <= first || !DecodeMessage(frames, first, &message, &error))
    throw std::runtime_error(std::string("bad ") + what + ": " + error);
  if (first > 0) message.topic = frames[0].to_string();
  return message;
}

}  // namespace

const Array& Message::array(const std::string& name) const {
  for (const Array& array : arrays)
    if (array.desc.name == name) return array;
  throw std::out_of_range("no array '" + name + "' in the message");
}

CurveKeys LoadClientKeys(const std::string& server_key_file, const std::string& client_stem) {
  return {ReadFirstLine(server_key_file), ReadFirstLine(client_stem + ".key"),
          ReadFirstLine(client_stem + ".key_secret")};
}

bool DecodeMessage(std::vector<zmq::message_t>& frames, size_t first, Message* message,
                   std::string* error) {
  if (frames.size() <= first) {
    *error = "no header frame";
    return false;
  }
  message->header = nlohmann::json::parse(frames[first].to_string_view(), nullptr, false);
  if (message->header.is_discarded() || !message->header.is_object()) {
    *error = "header is not a JSON object";
    return false;
  }
  message->arrays.clear();
  const auto it = message->header.find("arrays");
  const size_t count = it == message->header.end() ? 0 : it->size();
  if (frames.size() - first - 1 != count) {
    *error = "header describes " + std::to_string(count) + " arrays, message has " +
             std::to_string(frames.size() - first - 1) + " frames";
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    Array array;
    if (!ArrayDescFromJson((*it)[i], &array.desc, error)) return false;
    const zmq::message_t& frame = frames[first + 1 + i];
    if (frame.size() != array.desc.ByteSize()) {
      *error = "array '" + array.desc.name + "' size mismatch";
      return false;
    }
    array.bytes.assign(frame.data<char>(), frame.size());
    message->arrays.push_back(std::move(array));
  }
  return true;
}

Client::Client(zmq::context_t& context, const std::string& control_endpoint,
               std::optional<CurveKeys> keys)
    : socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  ApplyCurve(socket_, keys);
  socket_.connect(control_endpoint);
}

void Client::Send(nlohmann::json header, const std::vector<Array>& arrays) {
  if (!header.contains("id")) header["id"] = next_id_++;
  header["sent_ns"] = WallClockNs();
  if (!arrays.empty()) {
    nlohmann::json descriptors = nlohmann::json::array();
    for (const Array& array : arrays) descriptors.push_back(ArrayDescToJson(array.desc));
    header["arrays"] = descriptors;
  }
  zmq::multipart_t message;
  message.addstr(header.dump());
  for (const Array& array : arrays) message.addstr(array.bytes);
  message.send(socket_);
}

std::optional<Message> Client::Receive(std::chrono::milliseconds timeout) {
  return ReceiveDecoded(socket_, timeout, 0, "reply from the server");
}

Message Client::Request(nlohmann::json header, const std::vector<Array>& arrays,
                        std::chrono::milliseconds timeout) {
  Send(std::move(header), arrays);
  std::optional<Message> reply = Receive(timeout);
  if (!reply) throw std::runtime_error("no reply from the server within the timeout");
  return std::move(*reply);
}

Message Client::RequestRaw(const std::vector<std::string>& frames,
                           std::chrono::milliseconds timeout) {
  zmq::multipart_t message;
  for (const std::string& frame : frames) message.addstr(frame);
  message.send(socket_);
  std::optional<Message> reply = Receive(timeout);
  if (!reply) throw std::runtime_error("no reply from the server within the timeout");
  return std::move(*reply);
}

Message Client::Hello(const std::string& name, const std::string& role, nlohmann::json extra) {
  extra["op"] = "hello";
  extra["versions"] = {kProtocolVersion};
  extra["name"] = name;
  extra["role"] = role;
  return Request(std::move(extra));
}

Subscriber::Subscriber(zmq::context_t& context, const std::string& stream_endpoint,
                       const std::vector<std::string>& topics, std::optional<CurveKeys> keys,
                       int receive_hwm)
    : socket_(context, zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, receive_hwm);
  ApplyCurve(socket_, keys);
  for (const std::string& topic : topics) socket_.set(zmq::sockopt::subscribe, topic);
  socket_.connect(stream_endpoint);
}

std::optional<Message> Subscriber::Receive(std::chrono::milliseconds timeout) {
  std::optional<Message> received = ReceiveDecoded(socket_, timeout, 1, "stream message");
  if (!received) return std::nullopt;
  Message& message = *received;
  const uint64_t seq = message.header.value("seq", uint64_t{0});
  auto [it, inserted] = last_seq_.emplace(message.topic, seq);
  if (!inserted) {
    if (seq > it->second + 1) gaps_ += static_cast<int64_t>(seq - it->second - 1);
    it->second = seq;
  }
  return received;
}

}  // namespace ftwin::bridge
