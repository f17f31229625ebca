#include "bridge/server.h"

#include <spdlog/spdlog.h>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>

#include "bridge/wire.h"
#include "engine/commands.h"
#include "engine/diagnostics.h"
#include "engine/recorder.h"
#include "engine/simulator.h"

namespace ftwin::bridge {

namespace {

using Json = nlohmann::json;

// Internal message layouts between the socket side and the simulation side of the server
// thread (docs/architecture.md, "Bridge threads").
constexpr char kPipeRequest = 'Q';  // socket -> sim: [Q, meta, routing id, user, body...]
constexpr char kPipeReply = 'R';    // sim -> socket: [R, routing id, delimiter flag, body...]
constexpr char kPipePublish = 'P';  // sim -> socket: [P, topic, header, arrays...]

constexpr int kMaxFramesPerRequest = 1024;
constexpr int kMaxSubscriptionsPerClient = 16;
/// Most ticks one Step() call advances on the device path in real-time mode (bridge/server.cpp).
constexpr int64_t kDeviceSlice = 256;
constexpr const char* kZapDomain = "ftwin";

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CURVE keys: server.key / server.key_secret, clients/*.key (read-write), readonly/*.key.
struct KeySet {
  std::string server_public;
  std::string server_secret;
  std::map<std::string, std::pair<std::string, bool>> clients;  // Z85 public -> (name, ro)
};

std::string ReadKeyFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read key file " + file.string());
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.size() != 40)
      throw std::runtime_error(file.string() + ": expected a 40-character Z85 CURVE key, got " +
                               std::to_string(line.size()) + " characters");
    uint8_t decoded[32];
    if (zmq_z85_decode(decoded, line.c_str()) == nullptr)
      throw std::runtime_error(file.string() + ": not a valid Z85 key");
    return line;
  }
  throw std::runtime_error(file.string() + ": no key in the file");
}

KeySet LoadKeys(const std::filesystem::path& dir) {
  KeySet keys;
  keys.server_public = ReadKeyFile(dir / "server.key");
  keys.server_secret = ReadKeyFile(dir / "server.key_secret");
  for (const auto& [sub, read_only] :
       {std::pair<const char*, bool>{"clients", false}, {"readonly", true}}) {
    const std::filesystem::path folder = dir / sub;
    if (!std::filesystem::is_directory(folder)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.path().extension() != ".key") continue;
      keys.clients[ReadKeyFile(entry.path())] = {entry.path().stem().string(), read_only};
    }
  }
  if (keys.clients.empty())
    throw std::runtime_error(dir.string() +
                             ": no client keys (expected clients/*.key or readonly/*.key)");
  return keys;
}

void SetCurveServer(zmq::socket_t& socket, const KeySet& keys) {
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
  // ZMQ_ZAP_ENFORCE_DOMAIN (93) is a draft option in libzmq 4.3's header; set it by number.
  // Where the library refuses it, authentication still fails closed because the ZAP handler is
  // bound in the same context before any secured socket binds and lives as long as they do.
  constexpr int kZapEnforceDomain = 93;
  const int enforce = 1;
  if (zmq_setsockopt(socket.handle(), kZapEnforceDomain, &enforce, sizeof enforce) != 0)
    spdlog::debug("bridge: ZMQ_ZAP_ENFORCE_DOMAIN not supported by this libzmq");
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, keys.server_secret);
}

void SetHeartbeats(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::heartbeat_ivl, 1000);
  socket.set(zmq::sockopt::heartbeat_timeout, 5000);
  socket.set(zmq::sockopt::heartbeat_ttl, 10000);
  socket.set(zmq::sockopt::linger, 0);
}

// zmq::poll that treats a signal (EINTR) as "nothing ready": SIGINT must stop the loop cleanly.
int PollQuietly(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout) {
  try {
    return zmq::poll(items, count, timeout);
  } catch (const zmq::error_t& error) {
    if (error.num() == EINTR) return 0;
    throw;
  }
}

// Non-blocking multipart receive; false when nothing is waiting (or a signal interrupted it).
bool ReceiveNow(zmq::socket_t& socket, std::vector<zmq::message_t>& parts) {
  parts.clear();
  try {
    return zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait)
        .has_value();
  } catch (const zmq::error_t& error) {
    if (error.num() == EINTR) return false;
    throw;
  }
}

enum class SafeBehaviour { kHold, kZero, kStop };
const char* SafeBehaviourName(SafeBehaviour safe) {
  switch (safe) {
    case SafeBehaviour::kHold:
      return "hold";
    case SafeBehaviour::kZero:
      return "zero";
    case SafeBehaviour::kStop:
      return "stop";
  }
  return "hold";
}

struct RequestError {
  ErrorCode code;
  std::string message;
};

struct Export {
  std::string topic;
  std::vector<FieldId> fields;
  int64_t period_ticks = 1;
  uint64_t seq = 0;
  std::string owner;  // routing id of the client that subscribed it; empty = the scenario's
  // The constant part of its header (built once per model): publishing only appends numbers.
  std::string header_prefix;
};

struct PendingStep {
  int64_t ticks = 1;
  Json id;
  std::vector<FieldId> obs;
  int world_begin = 0, world_end = 0;
};

struct Client {
  std::string routing_id;
  bool delimiter = false;  // REQ-style envelope with an empty delimiter frame
  std::string name;
  bool read_only = false;
  bool controller = false;
  int64_t deadline_ns = 0;
  SafeBehaviour safe = SafeBehaviour::kHold;
  std::set<std::string> drives;  // targets this controller has commanded
  std::vector<FieldId> obs;
  std::vector<std::string> obs_patterns;  // to resolve `obs` again after a reset
  int64_t last_seen_ns = 0;
  bool tripped = false;
  int64_t misses = 0;
  int64_t trips = 0;
  double latency_s = std::nan("");
  std::optional<PendingStep> pending;
  int subscriptions = 0;
};

// A request as the simulation thread sees it.
struct Request {
  std::string routing_id;
  bool delimiter = false;
  bool read_only = false;
  std::string user;
  int64_t received_ns = 0;
  Json header;
  std::vector<zmq::message_t> frames;  // array frames after the header
};

}  // namespace

bool IsLocalEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const std::string host = endpoint.substr(6, endpoint.rfind(':') - 6);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "lo";
}

struct BridgeServer::Impl {
  LoadedScenario scenario;
  const BlockRegistry* registry;
  RunOverrides overrides;
  ServerOptions options;

  zmq::context_t context{1};
  // All sockets belong to the server thread (the one calling Run); Start() creates and binds
  // them, and thread creation is the full memory barrier ZeroMQ asks for to migrate a socket.
  std::unique_ptr<zmq::socket_t> zap, router, publisher;
  std::string control_endpoint, stream_endpoint;
  std::optional<KeySet> keys;

  std::unique_ptr<Simulator> simulator;
  std::unique_ptr<Recorder> recorder;
  int episode = 0;
  std::vector<Export> exports;
  std::map<std::string, Client> clients;
  std::string schema_hash;
  bool paused = false;
  size_t events_published = 0;
  uint64_t event_seq = 0, stats_seq = 0;
  int64_t last_stats_ns = 0;
  int64_t realtime_origin_ns = 0, realtime_origin_tick = 0;
  int64_t last_request_ns = 0;  ///< when the last request was handled (busy polling)

  mutable std::mutex stats_mutex;
  ServerStats counters;

  // ---- sockets ----------------------------------------------------------------------------

  void OpenSockets() {
    try {
      if (keys) {
        // The ZAP handler must exist before the secured sockets bind (fail closed otherwise).
        zap = std::make_unique<zmq::socket_t>(context, zmq::socket_type::rep);
        zap->set(zmq::sockopt::linger, 0);
        zap->bind("inproc://zeromq.zap.01");
      }
      router = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
      SetHeartbeats(*router);
      router->set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
      router->set(zmq::sockopt::rcvhwm, 10000);
      router->set(zmq::sockopt::sndhwm, 10000);
      if (keys) SetCurveServer(*router, *keys);
      router->bind(control_endpoint);
      control_endpoint = router->get(zmq::sockopt::last_endpoint);

      publisher = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pub);
      SetHeartbeats(*publisher);
      publisher->set(zmq::sockopt::sndhwm, options.stream_high_water_mark);
      // Subscribers only send subscriptions: keep what they may send small.
      publisher->set(zmq::sockopt::maxmsgsize, int64_t{4096});
      if (keys) SetCurveServer(*publisher, *keys);
      publisher->bind(stream_endpoint);
      stream_endpoint = publisher->get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& error) {
      publisher.reset();
      router.reset();
      zap.reset();
      throw std::runtime_error(std::string("cannot bind: ") + error.what() + " (control " +
                               control_endpoint + ", stream " + stream_endpoint + ")");
    }
  }

  // Serves what is waiting on the sockets (requests, ZAP); `timeout` bounds the wait.
  void ServeSockets(std::chrono::milliseconds timeout) {
    zmq::pollitem_t items[2] = {{router->handle(), 0, ZMQ_POLLIN, 0},
                                {zap ? zap->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
    if (PollQuietly(items, zap ? 2 : 1, timeout) <= 0) return;
    if (zap && (items[1].revents & ZMQ_POLLIN)) AnswerZap(*zap);
    if (items[0].revents & ZMQ_POLLIN) HandleRequests();
  }

  void HandleRequests() {
    std::vector<zmq::message_t> parts;
    for (int i = 0; i < 1000; ++i) {
      try {
        if (!ReceiveNow(*router, parts)) return;
      } catch (const zmq::error_t&) {
        return;
      }
      if (parts.size() < 2) continue;  // nothing but a routing id: ignore
      uint8_t flags = 0;
      std::string user;
      if (keys) {
        try {
          user = parts[1].gets("User-Id");
        } catch (const zmq::error_t&) {
          continue;  // unauthenticated message on a secured socket: drop
        }
        if (user.rfind("ro:", 0) == 0) flags |= 1;
      }
      size_t body = 1;
      if (parts[1].size() == 0) {
        flags |= 2;  // REQ envelope: [id, "", body...]
        body = 2;
      }
      char meta[1 + 8];
      meta[0] = static_cast<char>(flags);
      const int64_t now = SteadyNs();
      std::memcpy(meta + 1, &now, 8);
      std::vector<zmq::message_t> request_parts;
      request_parts.reserve(parts.size() + 3);
      request_parts.emplace_back(&kPipeRequest, 1);
      request_parts.emplace_back(meta, sizeof meta);
      request_parts.push_back(std::move(parts[0]));
      request_parts.emplace_back(user.data(), user.size());
      if (parts.size() - body > static_cast<size_t>(kMaxFramesPerRequest)) {
        const std::string too_many = "{\"op\":\"_too_many_frames\"}";
        request_parts.emplace_back(too_many.data(), too_many.size());
      } else {
        for (size_t p = body; p < parts.size(); ++p) request_parts.push_back(std::move(parts[p]));
      }
      std::optional<Request> request = ReceiveRequest(request_parts);
      if (request) Handle(*request);
      last_request_ns = SteadyNs();
    }
  }

  // Sends a reply on the ROUTER or a stream message on the PUB socket, never blocking: a peer
  // that is gone or too slow loses the message and the simulation carries on.
  bool SendOut(std::vector<zmq::message_t>& parts) {
    if (parts.empty() || parts[0].size() != 1) return false;
    const char type = *parts[0].data<char>();
    if (type == kPipeReply && parts.size() >= 4) {
      const bool delimiter = parts[2].size() == 1 && *parts[2].data<char>() == 1;
      zmq::multipart_t out;
      out.add(std::move(parts[1]));
      if (delimiter) out.addstr("");
      for (size_t p = 3; p < parts.size(); ++p) out.add(std::move(parts[p]));
      try {
        return out.send(*router, static_cast<int>(zmq::send_flags::dontwait));
      } catch (const zmq::error_t&) {
        return false;
      }
    }
    if (type == kPipePublish && parts.size() >= 3) {
      for (size_t p = 1; p < parts.size(); ++p) {
        const auto flags = p + 1 < parts.size()
                               ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                               : zmq::send_flags::dontwait;
        try {
          if (!publisher->send(parts[p], flags)) return false;
        } catch (const zmq::error_t&) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  void AnswerZap(zmq::socket_t& zap) {
    std::vector<zmq::message_t> request;
    if (!ReceiveNow(zap, request)) return;
    // ZAP 1.0: version, request id, domain, address, identity, mechanism, credentials...
    std::string status = "400", text = "denied", user;
    if (request.size() >= 7 && request[0].to_string() == "1.0" &&
        request[2].to_string() == kZapDomain && request[5].to_string() == "CURVE" &&
        request[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, request[6].data<uint8_t>(), 32);
      const auto it = keys->clients.find(z85);
      if (it != keys->clients.end()) {
        status = "200";
        text = "OK";
        user = (it->second.second ? "ro:" : "rw:") + it->second.first;
      }
    }
    zmq::multipart_t reply;
    reply.addstr("1.0");
    reply.addstr(request.size() > 1 ? request[1].to_string() : "");
    reply.addstr(status);
    reply.addstr(text);
    reply.addstr(user);
    reply.addstr("");
    reply.send(zap);
  }

  // ---- simulation thread: messages -------------------------------------------------------

  // Hands a reply or stream message to the sockets. Stream messages (droppable) that cannot be
  // queued are counted; replies to peers that are gone are dropped silently.
  void SendPipe(zmq::multipart_t& message, bool droppable) {
    std::vector<zmq::message_t> parts;
    parts.reserve(message.size());
    while (!message.empty()) parts.push_back(message.pop());
    if (!SendOut(parts) && droppable) {
      std::lock_guard lock(stats_mutex);
      ++counters.stream_drops;
    }
  }

  void AddArray(zmq::multipart_t& message, Json& descriptors, FieldId id, int world_begin,
                int world_end) {
    const FieldDesc& field = simulator->model().schema().field(id);
    ArrayDesc desc;
    desc.name = field.name;
    desc.dtype = field.dtype;
    desc.unit = field.unit;
    desc.shape.push_back(world_end - world_begin);
    for (int32_t extent : field.shape) desc.shape.push_back(extent);
    descriptors.push_back(ArrayDescToJson(desc));
    const size_t bytes_per_world = field.BytesPerWorld();
    // On the device path only this field's worlds come back (Simulator::ReadFields).
    const State& state = simulator->ReadFields({&id, 1}, world_begin, world_end);
    message.addmem(state.Bytes(id) + bytes_per_world * world_begin,
                   bytes_per_world * static_cast<size_t>(world_end - world_begin));
  }

  void Reply(const std::string& routing_id, bool delimiter, Json header,
             const std::vector<FieldId>& arrays = {}, int world_begin = 0, int world_end = 0,
             const std::vector<std::pair<ArrayDesc, std::string>>& extra = {}) {
    zmq::multipart_t message;
    message.addstr(std::string(1, kPipeReply));
    message.addstr(routing_id);
    message.addstr(std::string(1, delimiter ? '\1' : '\0'));
    header["v"] = kProtocolVersion;
    Json descriptors = Json::array();
    zmq::multipart_t payload;
    for (FieldId id : arrays) AddArray(payload, descriptors, id, world_begin, world_end);
    for (const auto& [desc, bytes] : extra) {
      descriptors.push_back(ArrayDescToJson(desc));
      payload.addstr(bytes);
    }
    if (!descriptors.empty()) header["arrays"] = std::move(descriptors);
    message.addstr(header.dump());
    while (!payload.empty()) message.add(payload.pop());
    SendPipe(message, false);
  }

  void ReplyError(const Request& request, ErrorCode code, const std::string& text) {
    Json header = {{"ok", false}, {"error", ErrorCodeName(code)}, {"message", text}};
    if (request.header.is_object() && request.header.contains("id"))
      header["id"] = request.header["id"];
    {
      std::lock_guard lock(stats_mutex);
      ++counters.errors;
    }
    Reply(request.routing_id, request.delimiter, std::move(header));
  }

  void Publish(const std::string& topic, Json header, const std::vector<FieldId>& fields,
               const std::vector<std::pair<ArrayDesc, std::string>>& extra = {}) {
    zmq::multipart_t message;
    message.addstr(std::string(1, kPipePublish));
    message.addstr(topic);
    header["v"] = kProtocolVersion;
    header["topic"] = topic;
    Json descriptors = Json::array();
    zmq::multipart_t payload;
    const int worlds = simulator->num_worlds();
    for (FieldId id : fields) AddArray(payload, descriptors, id, 0, worlds);
    for (const auto& [desc, bytes] : extra) {
      descriptors.push_back(ArrayDescToJson(desc));
      payload.addstr(bytes);
    }
    header["arrays"] = std::move(descriptors);
    message.addstr(header.dump());
    while (!payload.empty()) message.add(payload.pop());
    SendPipe(message, true);
    std::lock_guard lock(stats_mutex);
    ++counters.published;
  }

  Json TickHeader() const {
    return {{"tick", simulator->tick()},
            {"time_ns", simulator->time_ns()},
            {"schema", schema_hash},
            {"episode", episode}};
  }

  // Hot path: every due export set at every tick. The header is the cached constant prefix plus
  // four numbers, and each array is copied once into its frame.
  void PublishExport(Export& item) {
    if (item.header_prefix.empty()) {
      Json header = {{"v", kProtocolVersion},
                     {"kind", "state"},
                     {"topic", item.topic},
                     {"schema", schema_hash},
                     {"worlds", {0, simulator->num_worlds()}}};
      Json descriptors = Json::array();
      zmq::multipart_t unused;
      for (FieldId id : item.fields) AddArray(unused, descriptors, id, 0, simulator->num_worlds());
      header["arrays"] = std::move(descriptors);
      item.header_prefix = header.dump();
      item.header_prefix.pop_back();  // the closing brace
    }
    char numbers[128];
    const int length = std::snprintf(
        numbers, sizeof numbers, ",\"seq\":%llu,\"tick\":%lld,\"time_ns\":%lld,\"episode\":%d}",
        static_cast<unsigned long long>(++item.seq), static_cast<long long>(simulator->tick()),
        static_cast<long long>(simulator->time_ns()), episode);
    zmq::multipart_t message;
    message.addstr(std::string(1, kPipePublish));
    message.addstr(item.topic);
    zmq::message_t header(item.header_prefix.size() + static_cast<size_t>(length));
    std::memcpy(header.data<char>(), item.header_prefix.data(), item.header_prefix.size());
    std::memcpy(header.data<char>() + item.header_prefix.size(), numbers,
                static_cast<size_t>(length));
    message.add(std::move(header));
    const State& state = simulator->ReadFields(item.fields);  // only these fields come back
    const int worlds = simulator->num_worlds();
    for (FieldId id : item.fields)
      message.addmem(state.Bytes(id), state.schema().field(id).BytesPerWorld() * worlds);
    SendPipe(message, true);
    std::lock_guard lock(stats_mutex);
    ++counters.published;
  }

  void PublishEvent(const std::string& event, Json detail) {
    Json header = TickHeader();
    header["kind"] = "event";
    header["seq"] = ++event_seq;
    header["event"] = event;
    header["detail"] = std::move(detail);
    Publish("_events/", std::move(header), {});
  }

  // The greatest common period of the export sets: on the device path real-time stepping goes
  // from one such tick to the next in one Step() call.
  int64_t ExportPeriod() const {
    int64_t period = 0;
    for (const Export& item : exports) period = std::gcd(period, item.period_ticks);
    return period > 0 ? period : std::numeric_limits<int64_t>::max();
  }

  // Observer: at every tick boundary, publish the export sets that are due and new events.
  void OnTick() {
    const int64_t tick = simulator->tick();
    for (Export& item : exports)
      if (tick % item.period_ticks == 0) PublishExport(item);
    PublishSimulationEvents();
  }

  void PublishSimulationEvents() {
    const std::vector<SimEvent>& events = simulator->events();
    for (; events_published < events.size(); ++events_published) {
      const SimEvent& event = events[events_published];
      PublishEvent(event.kind,
                   {{"world", event.world}, {"text", event.text}, {"at_tick", event.tick}});
    }
  }

  void PublishBridgeStats() {
    std::vector<std::string> names;
    std::string latency, misses, trips;
    for (const auto& [id, client] : clients) {
      if (!client.controller) continue;
      names.push_back(client.name);
      latency.append(reinterpret_cast<const char*>(&client.latency_s), 8);
      misses.append(reinterpret_cast<const char*>(&client.misses), 8);
      trips.append(reinterpret_cast<const char*>(&client.trips), 8);
    }
    const int64_t count = static_cast<int64_t>(names.size());
    Json header = TickHeader();
    header["kind"] = "bridge";
    header["seq"] = ++stats_seq;
    header["clients"] = names;
    Publish("_bridge/", std::move(header), {},
            {{ArrayDesc{"bridge.latency_s", DType::kFloat64, {count}, "s"}, latency},
             {ArrayDesc{"bridge.deadline_misses", DType::kInt64, {count}, "1"}, misses},
             {ArrayDesc{"bridge.watchdog_trips", DType::kInt64, {count}, "1"}, trips}});
  }

  // ---- simulation thread: set-up ---------------------------------------------------------

  // Builds the export sets of the scenario against `model`; throws on unknown fields.
  std::vector<Export> BuildExports(const Spec& spec, const Model& model) const {
    std::vector<Export> result;
    const Schema& schema = model.schema();
    const int64_t dt = model.run().dt_ns;
    if (spec.exports.empty()) {
      for (int b = 0; b < model.num_blocks(); ++b) {
        Export item;
        item.topic = model.binding(b).name + "/";
        std::string error;
        if (!MatchFields(schema, {model.binding(b).name + ".*"}, &item.fields, &error)) continue;
        result.push_back(std::move(item));
      }
      return result;
    }
    Diagnostics diagnostics;
    for (size_t i = 0; i < spec.exports.size(); ++i) {
      const ExportSpec& export_spec = spec.exports[i];
      Export item;
      item.topic = export_spec.topic;
      item.period_ticks = export_spec.every_ns > 0 ? export_spec.every_ns / dt : 1;
      std::string error;
      if (!MatchFields(schema, export_spec.fields, &item.fields, &error))
        diagnostics.Add(export_spec.location, "exports[" + std::to_string(i) + "].fields",
                        export_spec.topic, error);
      result.push_back(std::move(item));
    }
    if (!diagnostics.ok()) throw InputError(diagnostics);
    return result;
  }

  void InstallSimulator(LoadedScenario loaded) {
    if (recorder) recorder->Close();
    recorder.reset();
    std::vector<Export> new_exports = BuildExports(loaded.spec, *loaded.model);
    // Keep the clients' subscriptions whose fields still exist.
    for (const Export& item : exports) {
      if (item.owner.empty()) continue;
      bool valid = true;
      Export copy = item;
      copy.header_prefix.clear();
      for (FieldId& id : copy.fields) {
        const FieldId found =
            loaded.model->schema().Find(simulator->model().schema().field(id).name);
        if (found == kInvalidField) valid = false;
        id = found;
      }
      if (valid) new_exports.push_back(std::move(copy));
    }
    // Sequence numbers continue across episodes so subscribers never see them go back.
    for (Export& item : new_exports)
      for (const Export& old : exports)
        if (old.topic == item.topic) item.seq = old.seq;
    exports = std::move(new_exports);
    scenario = std::move(loaded);
    simulator =
        std::make_unique<Simulator>(scenario.model, nullptr, SimulatorOptions{options.device});
    if (!options.quiet && options.device != SimDevice::kCpu)
      std::printf("%s\n", simulator->device_message().c_str());
    schema_hash = SchemaHashText(scenario.model->schema());
    events_published = 0;
    simulator->AddObserver([this](const Simulator&) { OnTick(); });
    if (!options.record_file.empty()) {
      std::filesystem::path file = options.record_file;
      if (episode > 0)
        file.replace_filename(file.stem().string() + "-" + std::to_string(episode) +
                              file.extension().string());
      RunOverrides record_overrides = overrides;
      record_overrides.seed = scenario.model->run().seed;
      recorder = std::make_unique<Recorder>(scenario.spec, record_overrides, *simulator,
                                            RecordOptions{file, 1, options.version});
    }
    // Controllers' observations refer to field ids of the old model: re-resolve by name.
    for (auto& [id, client] : clients) {
      client.pending.reset();
      std::string error;
      if (!MatchFields(scenario.model->schema(), client.obs_patterns, &client.obs, &error))
        client.obs.clear();
    }
  }

  // ---- simulation thread: requests -------------------------------------------------------

  std::optional<Request> ReceiveRequest(std::vector<zmq::message_t>& parts) {
    if (parts.size() < 5 || parts[0].size() != 1 || *parts[0].data<char>() != kPipeRequest)
      return std::nullopt;
    Request request;
    const uint8_t flags = parts[1].size() >= 1 ? *parts[1].data<uint8_t>() : 0;
    request.read_only = flags & 1;
    request.delimiter = flags & 2;
    if (parts[1].size() == 9) std::memcpy(&request.received_ns, parts[1].data<char>() + 1, 8);
    request.routing_id = parts[2].to_string();
    request.user = parts[3].to_string();
    request.header = Json::parse(parts[4].to_string_view(), nullptr, false);
    for (size_t p = 5; p < parts.size(); ++p) request.frames.push_back(std::move(parts[p]));
    return request;
  }

  void Handle(Request& request) {
    {
      std::lock_guard lock(stats_mutex);
      ++counters.requests;
    }
    if (request.header.is_discarded() || !request.header.is_object()) {
      ReplyError(request, ErrorCode::kMalformed,
                 "the header frame is not a JSON object (expected {\"op\": ..., ...})");
      return;
    }
    const auto op_it = request.header.find("op");
    if (op_it == request.header.end() || !op_it->is_string()) {
      ReplyError(request, ErrorCode::kMalformed, "the header has no string 'op'");
      return;
    }
    const std::string op = op_it->get<std::string>();
    if (op == "_too_many_frames") {
      ReplyError(request, ErrorCode::kMalformed,
                 "more than " + std::to_string(kMaxFramesPerRequest) + " frames in one request");
      return;
    }
    static const std::set<std::string> kOps = {"hello", "subscribe", "reset",    "step",
                                               "set",   "get",       "snapshot", "kpis",
                                               "fault", "pause",     "resume",   "close"};
    if (!kOps.count(op)) {
      ReplyError(request, ErrorCode::kUnknownOp,
                 "unknown op '" + op +
                     "' (expected hello, subscribe, reset, step, set, get, snapshot, kpis, "
                     "fault, pause, resume or close)");
      return;
    }
    auto client_it = clients.find(request.routing_id);
    Client* client = client_it == clients.end() ? nullptr : &client_it->second;
    if (client) Touch(*client, request);
    try {
      if (op == "hello") return Hello(request);
      if (op == "snapshot") return Snapshot(request);
      if (op == "get") return Get(request);
      if (op == "kpis") return Kpis(request);
      if (!client) {
        ReplyError(request, ErrorCode::kNeedHello,
                   "'" + op + "' needs a hello from this client first");
        return;
      }
      if (op == "subscribe") return Subscribe(request, *client);
      if (op == "close") return Close(request);
      // Every op left changes the simulation.
      if (client->read_only) {
        ReplyError(request, ErrorCode::kForbidden,
                   "client '" + client->name + "' is read-only: '" + op + "' is not allowed");
        return;
      }
      if (op == "step") return Step(request, *client);
      if (op == "set") return Set(request, *client);
      if (op == "reset") return Reset(request);
      if (op == "fault") return Fault(request);
      if (op == "pause" || op == "resume") return PauseResume(request, op == "pause");
    } catch (const RequestError& error) {
      ReplyError(request, error.code, error.message);
    } catch (const Json::exception& error) {
      ReplyError(request, ErrorCode::kMalformed, std::string("malformed request: ") + error.what());
    } catch (const std::exception& error) {
      ReplyError(request, ErrorCode::kInternal, error.what());
    }
  }

  void Touch(Client& client, const Request& request) {
    const int64_t now = request.received_ns;
    if (client.deadline_ns > 0 && client.last_seen_ns > 0 &&
        now - client.last_seen_ns > client.deadline_ns && options.mode == TimingMode::kRealtime) {
      ++client.misses;
      std::lock_guard lock(stats_mutex);
      ++counters.deadline_misses;
    }
    client.last_seen_ns = now;
    const auto sent = request.header.find("sent_ns");
    if (sent != request.header.end() && sent->is_number_integer())
      client.latency_s = static_cast<double>(WallClockNs() - sent->get<int64_t>()) * 1e-9;
    if (client.tripped) {
      client.tripped = false;
      PublishEvent("watchdog_recovered", {{"client", client.name}});
    }
  }

  static const Json& Require(const Json& header, const char* key, Json::value_t type,
                             const char* expected) {
    const auto it = header.find(key);
    if (it == header.end())
      throw RequestError{ErrorCode::kMalformed,
                         std::string("missing '") + key + "' (" + expected + ")"};
    const bool ok =
        type == Json::value_t::number_integer
            ? it->is_number_integer()
            : (type == Json::value_t::number_float ? it->is_number() : it->type() == type);
    if (!ok)
      throw RequestError{ErrorCode::kMalformed, std::string("'") + key + "' must be " + expected};
    return *it;
  }

  std::vector<std::string> StringList(const Json& header, const char* key) {
    std::vector<std::string> result;
    const auto it = header.find(key);
    if (it == header.end()) return result;
    if (!it->is_array())
      throw RequestError{ErrorCode::kMalformed,
                         std::string("'") + key + "' must be a list of strings"};
    for (const Json& item : *it) {
      if (!item.is_string())
        throw RequestError{ErrorCode::kMalformed,
                           std::string("'") + key + "' must be a list of strings"};
      result.push_back(item.get<std::string>());
    }
    return result;
  }

  std::vector<FieldId> Fields(const std::vector<std::string>& patterns) {
    std::vector<FieldId> fields;
    std::string error;
    if (!MatchFields(simulator->model().schema(), patterns, &fields, &error))
      throw RequestError{ErrorCode::kNotFound, error};
    return fields;
  }

  std::pair<int, int> Worlds(const Json& header) {
    const int worlds = simulator->num_worlds();
    const auto it = header.find("worlds");
    if (it == header.end()) return {0, worlds};
    if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_integer() ||
        !(*it)[1].is_number_integer())
      throw RequestError{ErrorCode::kMalformed, "'worlds' must be [begin, end)"};
    const int64_t begin = (*it)[0].get<int64_t>(), end = (*it)[1].get<int64_t>();
    if (begin < 0 || end > worlds || begin >= end)
      throw RequestError{ErrorCode::kBadValue, "'worlds' [" + std::to_string(begin) + ", " +
                                                   std::to_string(end) +
                                                   ") is not a non-empty range within [0, " +
                                                   std::to_string(worlds) + ")"};
    return {static_cast<int>(begin), static_cast<int>(end)};
  }

  void Hello(Request& request) {
    const Json& header = request.header;
    int version = kProtocolVersion;
    if (header.contains("versions")) {
      const Json& versions = header["versions"];
      if (!versions.is_array())
        throw RequestError{ErrorCode::kMalformed, "'versions' must be a list of integers"};
      version = 0;
      for (const Json& v : versions)
        if (v.is_number_integer() && v.get<int>() <= kProtocolVersion)
          version = std::max(version, v.get<int>());
      if (version == 0)
        throw RequestError{ErrorCode::kVersion, "no common protocol version: this server speaks " +
                                                    std::to_string(kProtocolVersion)};
    }
    Client client;
    client.routing_id = request.routing_id;
    client.delimiter = request.delimiter;
    client.read_only = request.read_only;
    client.name = header.value("name", std::string("client"));
    const std::string role = header.value("role", std::string("controller"));
    if (role != "controller" && role != "observer")
      throw RequestError{ErrorCode::kBadValue,
                         "'role' is '" + role + "', expected controller or observer"};
    client.controller = role == "controller";
    client.read_only = client.read_only || options.observers_only;
    if (client.controller && client.read_only)
      throw RequestError{ErrorCode::kForbidden, "a read-only client may only be an observer"};
    if (header.contains("deadline_ms")) {
      const Json& deadline = header["deadline_ms"];
      if (!deadline.is_number() || deadline.get<double>() < 0 || deadline.get<double>() > 3.6e6)
        throw RequestError{ErrorCode::kBadValue, "'deadline_ms' must be a number in [0, 3600000]"};
      client.deadline_ns = static_cast<int64_t>(deadline.get<double>() * 1e6);
    }
    const std::string safe = header.value("safe", std::string("hold"));
    if (safe == "hold")
      client.safe = SafeBehaviour::kHold;
    else if (safe == "zero")
      client.safe = SafeBehaviour::kZero;
    else if (safe == "stop")
      client.safe = SafeBehaviour::kStop;
    else
      throw RequestError{ErrorCode::kBadValue,
                         "'safe' is '" + safe + "', expected hold, zero or stop"};
    client.obs_patterns = StringList(header, "obs");
    client.obs = Fields(client.obs_patterns);
    client.last_seen_ns = request.received_ns;
    for (const std::string& target : StringList(header, "drives")) {
      CheckTarget(target);
      client.drives.insert(target);
    }

    const Model& model = simulator->model();
    Json commands = Json::array(), faults = Json::array();
    for (int b = 0; b < model.num_blocks(); ++b) {
      const BlockBinding& binding = model.binding(b);
      for (const CommandDesc& command : binding.commands) {
        Json args = Json::array();
        for (const ArgDesc& arg : command.args)
          args.push_back({{"name", arg.name},
                          {"unit", arg.unit},
                          {"lower", std::isfinite(arg.lower) ? Json(arg.lower) : Json()},
                          {"upper", std::isfinite(arg.upper) ? Json(arg.upper) : Json()},
                          {"default", arg.default_value}});
        commands.push_back(
            {{"target", binding.name + "/" + command.verb}, {"args", args}, {"doc", command.doc}});
      }
      for (const FaultDesc& fault : binding.faults) {
        Json params = Json::array();
        for (const ArgDesc& arg : fault.params)
          params.push_back(
              {{"name", arg.name}, {"unit", arg.unit}, {"default", arg.default_value}});
        faults.push_back(
            {{"target", binding.name + "!" + fault.name}, {"params", params}, {"doc", fault.doc}});
      }
    }
    Json export_list = Json::array();
    for (const Export& item : exports) {
      Json names = Json::array();
      for (FieldId id : item.fields) names.push_back(model.schema().field(id).name);
      export_list.push_back(
          {{"topic", item.topic}, {"fields", names}, {"every_ticks", item.period_ticks}});
    }
    Json reply = {{"ok", true},
                  {"version", version},
                  {"server", std::string("ftwin ") + options.version},
                  {"schema_hash", schema_hash},
                  {"schema", SchemaToJson(model.schema())},
                  {"commands", commands},
                  {"faults", faults},
                  {"exports", export_list},
                  {"stream", stream_endpoint},
                  {"read_only", client.read_only},
                  {"run",
                   {{"dt_ns", model.run().dt_ns},
                    {"duration_ns", model.run().duration_ns},
                    {"worlds", simulator->num_worlds()},
                    {"seed", model.run().seed},
                    {"tick", simulator->tick()},
                    {"episode", episode},
                    {"mode", options.mode == TimingMode::kLockstep ? "lockstep" : "realtime"},
                    {"device", simulator->on_device()
                                   ? (options.device == SimDevice::kCuda ? "cuda" : "emulated")
                                   : "cpu"}}}};
    if (header.contains("id")) reply["id"] = header["id"];
    const std::string name = client.name;
    // A reconnecting client has a new routing id: its hello under the same name replaces the
    // old registration, so lockstep never waits for a connection that is gone.
    std::vector<std::string> replaced;
    for (const auto& [id, other] : clients)
      if (other.name == name && id != request.routing_id) replaced.push_back(id);
    for (const std::string& id : replaced) RemoveClient(id);
    clients[request.routing_id] = std::move(client);
    if (!options.quiet) spdlog::info("bridge: client '{}' ({}) said hello", name, role);
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  void CheckTarget(const std::string& target) {
    // Fields and block commands only; faults go through the 'fault' request.
    if (target.find('!') != std::string::npos)
      throw RequestError{ErrorCode::kBadValue,
                         "'" + target + "' is a fault: use the 'fault' request"};
  }

  // Parses the actions of a step/set request into validated commands (nothing is submitted
  // unless every action is valid).
  std::vector<Command> ParseActions(const Request& request, Client& client, const Json& actions) {
    std::vector<Command> commands;
    if (!actions.is_array()) throw RequestError{ErrorCode::kMalformed, "'actions' must be a list"};
    const int64_t now = simulator->tick();
    const std::string origin = "bridge:" + client.name;
    for (size_t a = 0; a < actions.size(); ++a) {
      const Json& action = actions[a];
      const std::string where = "actions[" + std::to_string(a) + "]";
      if (!action.is_object() || !action.contains("target") || !action["target"].is_string())
        throw RequestError{ErrorCode::kMalformed,
                           where + " must be {target, values[, world]} or {target, array}"};
      Command command;
      command.tick = now;
      command.target = action["target"].get<std::string>();
      command.origin = origin;
      CheckTarget(command.target);
      if (action.contains("values")) {
        const Json& values = action["values"];
        if (values.is_number()) {
          command.values.push_back(values.get<double>());
        } else if (values.is_array()) {
          for (const Json& v : values) {
            if (!v.is_number())
              throw RequestError{ErrorCode::kBadValue, where + ".values must be numbers"};
            command.values.push_back(v.get<double>());
          }
        } else {
          throw RequestError{ErrorCode::kBadValue,
                             where + ".values must be a number or a list of numbers"};
        }
        command.world = action.value("world", -1);
        commands.push_back(std::move(command));
      } else if (action.contains("array")) {
        AppendArrayCommands(request, action, where, command, &commands);
      } else {
        throw RequestError{ErrorCode::kMalformed, where + " has neither 'values' nor 'array'"};
      }
    }
    for (const Command& command : commands) {
      if (command.world < -1 || command.world >= simulator->num_worlds())
        throw RequestError{ErrorCode::kBadValue,
                           "world " + std::to_string(command.world) + " of '" + command.target +
                               "' is outside [0, " + std::to_string(simulator->num_worlds()) + ")"};
      std::string error;
      if (!ResolveCommand(simulator->model(), command, &error)) {
        const bool unknown =
            error.find("no ") != std::string::npos || error.find("unknown") != std::string::npos;
        throw RequestError{unknown ? ErrorCode::kNotFound : ErrorCode::kBadValue, error};
      }
    }
    for (const Command& command : commands) client.drives.insert(command.target);
    return commands;
  }

  void AppendArrayCommands(const Request& request, const Json& action, const std::string& where,
                           const Command& base, std::vector<Command>* commands) {
    const Json& index_json = action["array"];
    if (!index_json.is_number_integer())
      throw RequestError{ErrorCode::kMalformed,
                         where + ".array must be the index of an array frame"};
    const int64_t index = index_json.get<int64_t>();
    const auto arrays_it = request.header.find("arrays");
    if (arrays_it == request.header.end() || !arrays_it->is_array() || index < 0 ||
        index >= static_cast<int64_t>(arrays_it->size()) ||
        index >= static_cast<int64_t>(request.frames.size()))
      throw RequestError{
          ErrorCode::kMalformed,
          where + ".array = " + std::to_string(index) +
              " names no array frame (the header's 'arrays' describes the frames after it)"};
    ArrayDesc desc;
    std::string error;
    if (!ArrayDescFromJson((*arrays_it)[static_cast<size_t>(index)], &desc, &error))
      throw RequestError{ErrorCode::kMalformed, "arrays[" + std::to_string(index) + "]: " + error};
    const zmq::message_t& frame = request.frames[static_cast<size_t>(index)];
    if (frame.size() != desc.ByteSize())
      throw RequestError{ErrorCode::kBadValue, "array frame " + std::to_string(index) + " holds " +
                                                   std::to_string(frame.size()) +
                                                   " bytes, its descriptor says " +
                                                   std::to_string(desc.ByteSize())};
    const auto [world_begin, world_end] = Worlds(action);
    const int64_t worlds = world_end - world_begin;
    int64_t per_world = 0;
    bool batched = false;
    if (desc.shape.size() == 2 && desc.shape[0] == worlds) {
      per_world = desc.shape[1];
      batched = true;
    } else if (desc.shape.size() == 1) {
      per_world = desc.shape[0];
    } else {
      throw RequestError{ErrorCode::kBadValue, where + ": array shape must be [" +
                                                   std::to_string(worlds) +
                                                   ", n] (one row per world) or [n] (every world)"};
    }
    const uint8_t* bytes = frame.data<uint8_t>();
    auto value_at = [&](int64_t i) -> double {
      const uint8_t* p = bytes + static_cast<size_t>(i) * DTypeSize(desc.dtype);
      switch (desc.dtype) {
        case DType::kFloat64: {
          double v;
          std::memcpy(&v, p, 8);
          return v;
        }
        case DType::kFloat32: {
          float v;
          std::memcpy(&v, p, 4);
          return v;
        }
        case DType::kInt64: {
          int64_t v;
          std::memcpy(&v, p, 8);
          return static_cast<double>(v);
        }
        case DType::kInt32: {
          int32_t v;
          std::memcpy(&v, p, 4);
          return v;
        }
        case DType::kUInt8:
          return *p;
      }
      return 0;
    };
    const int64_t rows = batched ? worlds : 1;
    for (int64_t row = 0; row < rows; ++row) {
      Command command = base;
      command.world = batched ? world_begin + static_cast<int>(row)
                              : (worlds == simulator->num_worlds() ? -1 : world_begin);
      for (int64_t i = 0; i < per_world; ++i)
        command.values.push_back(value_at(row * per_world + i));
      if (!batched && worlds != simulator->num_worlds()) {
        for (int w = world_begin; w < world_end; ++w) {
          command.world = w;
          commands->push_back(command);
        }
      } else {
        commands->push_back(std::move(command));
      }
    }
  }

  void Submit(const std::vector<Command>& commands) {
    for (const Command& command : commands) {
      const std::string error = simulator->Submit(command);
      if (!error.empty())
        throw RequestError{ErrorCode::kInternal, "validated command rejected: " + error};
    }
  }

  void Step(Request& request, Client& client) {
    if (!client.controller)
      throw RequestError{ErrorCode::kForbidden,
                         "observers may not step (hello with role 'controller')"};
    if (client.pending)
      throw RequestError{ErrorCode::kWrongMode,
                         "a step of this client is already waiting for the other controllers"};
    const Json& header = request.header;
    const bool lockstep = options.mode == TimingMode::kLockstep;
    const int64_t ticks = header.value("ticks", lockstep ? int64_t{1} : int64_t{0});
    if (ticks < 0 || ticks > (int64_t{1} << 40))
      throw RequestError{ErrorCode::kBadValue, "'ticks' must be a non-negative integer"};
    if (!lockstep && ticks != 0)
      throw RequestError{
          ErrorCode::kWrongMode,
          "real-time mode: the clock advances by itself; send ticks 0 (actions apply on arrival)"};
    if (lockstep && paused && ticks > 0)
      throw RequestError{ErrorCode::kWrongMode, "the simulation is paused (send resume)"};
    PendingStep pending;
    pending.ticks = ticks;
    if (header.contains("id")) pending.id = header["id"];
    pending.obs = header.contains("obs") ? Fields(StringList(header, "obs")) : client.obs;
    std::tie(pending.world_begin, pending.world_end) = Worlds(header);
    const std::vector<Command> commands = header.contains("actions")
                                              ? ParseActions(request, client, header["actions"])
                                              : std::vector<Command>{};
    Submit(commands);
    client.pending = std::move(pending);
    if (lockstep) {
      AdvanceLockstep();
      return;
    }
    // Real time: the actions apply at the next tick; reply now with the current observation.
    ReplyStep(client);
  }

  void ReplyStep(Client& client) {
    Json header = TickHeader();
    header["ok"] = true;
    if (!client.pending->id.is_null()) header["id"] = client.pending->id;
    header["worlds"] = {client.pending->world_begin, client.pending->world_end};
    header["resets"] = simulator->total_resets();
    const PendingStep pending = std::move(*client.pending);
    client.pending.reset();
    Reply(client.routing_id, client.delimiter, std::move(header), pending.obs, pending.world_begin,
          pending.world_end);
  }

  // Lockstep: advance once every controller has a step waiting, by the smallest tick count.
  void AdvanceLockstep() {
    int64_t ticks = -1;
    for (const auto& [id, client] : clients) {
      if (!client.controller) continue;
      if (!client.pending) return;
      ticks = ticks < 0 ? client.pending->ticks : std::min(ticks, client.pending->ticks);
    }
    if (ticks < 0) return;
    if (ticks > 0) simulator->Step(ticks);
    UpdateSimulationStats();
    PublishSimulationEvents();
    for (auto& [id, client] : clients)
      if (client.controller && client.pending) ReplyStep(client);
  }

  void Set(Request& request, Client& client) {
    if (!client.controller)
      throw RequestError{ErrorCode::kForbidden,
                         "observers may not set (hello with role 'controller')"};
    Json actions = request.header.contains("actions") ? request.header["actions"]
                                                      : Json::array({request.header});
    if (!request.header.contains("actions")) {
      actions[0].erase("op");
      actions[0].erase("id");
    }
    const std::vector<Command> commands = ParseActions(request, client, actions);
    Submit(commands);
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["applies_at_tick"] = simulator->tick();
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  void Get(Request& request) {
    const std::vector<FieldId> fields = Fields(StringList(request.header, "fields"));
    if (fields.empty())
      throw RequestError{ErrorCode::kMalformed, "'fields' must name at least one field"};
    const auto [begin, end] = Worlds(request.header);
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["worlds"] = {begin, end};
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply), fields, begin, end);
  }

  // The KPIs of the current episode so far, as `ftwin run` prints them at the end.
  void Kpis(Request& request) {
    Json list = Json::array();
    for (const KpiEntry& entry : simulator->ComputeKpis()) {
      Json per_world = Json::array();
      for (double value : entry.per_world)
        per_world.push_back(std::isfinite(value) ? Json(value) : Json());
      list.push_back({{"name", entry.block + "." + entry.desc.name},
                      {"unit", entry.desc.unit},
                      {"aggregation", KpiAggregationName(entry.desc.across_worlds)},
                      {"value", std::isfinite(entry.aggregate) ? Json(entry.aggregate) : Json()},
                      {"per_world", per_world}});
    }
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["kpis"] = std::move(list);
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  // Clone pattern: the whole observable state at this tick plus the sequence number each topic
  // had when it was taken; stream messages with a higher seq follow on from it.
  void Snapshot(Request& request) {
    const auto [begin, end] = Worlds(request.header);
    std::vector<FieldId> fields;
    const Schema& schema = simulator->model().schema();
    for (FieldId id = 0; id < schema.size(); ++id)
      if (schema.field(id).kind != FieldKind::kScratch) fields.push_back(id);
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["worlds"] = {begin, end};
    Json seqs = Json::object();
    for (const Export& item : exports) seqs[item.topic] = item.seq;
    reply["seqs"] = seqs;
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    std::vector<std::pair<ArrayDesc, std::string>> extra;
    if (request.header.value("engine", false)) {
      const std::vector<uint8_t> blob = simulator->Snapshot();
      extra.push_back(
          {ArrayDesc{"engine.snapshot", DType::kUInt8, {static_cast<int64_t>(blob.size())}, ""},
           std::string(blob.begin(), blob.end())});
    }
    Reply(request.routing_id, request.delimiter, std::move(reply), fields, begin, end, extra);
  }

  void Subscribe(Request& request, Client& client) {
    const std::string topic =
        Require(request.header, "topic", Json::value_t::string, "a topic string")
            .get<std::string>();
    if (topic.empty() || topic[0] == '_')
      throw RequestError{ErrorCode::kBadValue, "'topic' must be non-empty and not start with '_'"};
    for (const Export& item : exports)
      if (item.topic == topic)
        throw RequestError{ErrorCode::kBadValue, "topic '" + topic + "' is already published"};
    if (client.subscriptions >= kMaxSubscriptionsPerClient)
      throw RequestError{
          ErrorCode::kBadValue,
          "at most " + std::to_string(kMaxSubscriptionsPerClient) + " subscriptions per client"};
    Export item;
    item.topic = topic;
    item.owner = client.routing_id;
    item.fields = Fields(StringList(request.header, "fields"));
    if (item.fields.empty())
      throw RequestError{ErrorCode::kMalformed, "'fields' must name at least one field"};
    item.period_ticks = request.header.value("every_ticks", int64_t{1});
    if (item.period_ticks < 1)
      throw RequestError{ErrorCode::kBadValue, "'every_ticks' must be >= 1"};
    Json names = Json::array();
    for (FieldId id : item.fields) names.push_back(simulator->model().schema().field(id).name);
    exports.push_back(std::move(item));
    ++client.subscriptions;
    Json reply = {{"ok", true}, {"topic", topic}, {"fields", names}};
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  void Reset(Request& request) {
    const Json& header = request.header;
    const bool rebuild = header.contains("seed") || header.contains("overrides");
    if (rebuild) {
      if (header.contains("worlds"))
        throw RequestError{ErrorCode::kBadValue,
                           "a new seed or parameter overrides apply to every world: omit 'worlds'"};
      Spec spec = scenario.spec;
      if (header.contains("seed")) {
        const Json& seed = header["seed"];
        if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<int64_t>() >= 0))
          throw RequestError{ErrorCode::kBadValue, "'seed' must be a non-negative integer"};
        spec.run.seed = seed.get<uint64_t>();
      }
      if (header.contains("overrides")) ApplyOverrides(header["overrides"], &spec);
      spec.text = SpecToYaml(spec);
      LoadedScenario loaded;
      try {
        loaded.model = CompileSpec(spec, *registry);
        loaded.spec = std::move(spec);
        BuildExports(loaded.spec, *loaded.model);
      } catch (const InputError& error) {
        throw RequestError{ErrorCode::kInvalidScenario, error.what()};
      }
      ++episode;
      InstallSimulator(std::move(loaded));
    } else if (header.contains("worlds")) {
      const Json& worlds = header["worlds"];
      if (!worlds.is_array())
        throw RequestError{ErrorCode::kMalformed, "'worlds' must be a list of world indices"};
      std::vector<int> list;
      for (const Json& w : worlds) {
        if (!w.is_number_integer() || w.get<int64_t>() < 0 ||
            w.get<int64_t>() >= simulator->num_worlds())
          throw RequestError{ErrorCode::kBadValue,
                             "'worlds' holds " + w.dump() + ", expected indices in [0, " +
                                 std::to_string(simulator->num_worlds()) + ")"};
        list.push_back(w.get<int>());
      }
      for (int w : list) simulator->ResetWorld(w, "reset by bridge request");
    } else {
      ++episode;
      if (recorder) {
        // A full reset starts a new episode: keep the recording replayable by starting anew.
        InstallSimulator(LoadedScenario{scenario.spec, scenario.model});
      } else {
        simulator->Reset();
        events_published = 0;
      }
    }
    for (auto& [id, client] : clients) client.pending.reset();
    realtime_origin_ns = SteadyNs();
    realtime_origin_tick = simulator->tick();
    for (Export& item : exports) PublishExport(item);
    PublishSimulationEvents();
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["seed"] = scenario.model->run().seed;
    if (header.contains("id")) reply["id"] = header["id"];
    auto client_it = clients.find(request.routing_id);
    std::vector<FieldId> obs;
    if (client_it != clients.end()) {
      obs = header.contains("obs") ? Fields(StringList(header, "obs")) : client_it->second.obs;
      if (header.contains("obs")) {
        client_it->second.obs = obs;
        client_it->second.obs_patterns = StringList(header, "obs");
      }
    }
    Reply(request.routing_id, request.delimiter, std::move(reply), obs, 0, simulator->num_worlds());
  }

  void ApplyOverrides(const Json& overrides, Spec* spec) {
    if (!overrides.is_object())
      throw RequestError{ErrorCode::kMalformed,
                         "'overrides' must map '<block>.<parameter>' to a value"};
    for (const auto& [key, value] : overrides.items()) {
      const size_t dot = key.find('.');
      if (dot == std::string::npos)
        throw RequestError{ErrorCode::kBadValue,
                           "override '" + key + "': expected '<block>.<parameter>'"};
      const std::string block = key.substr(0, dot), parameter = key.substr(dot + 1);
      auto it = std::find_if(spec->blocks.begin(), spec->blocks.end(),
                             [&](const BlockSpec& b) { return b.name == block; });
      if (it == spec->blocks.end())
        throw RequestError{ErrorCode::kNotFound,
                           "override '" + key + "': no block '" + block + "'"};
      if (parameter == "name" || parameter == "type")
        throw RequestError{ErrorCode::kBadValue,
                           "override '" + key + "': a block's name and type cannot change"};
      // Deep-copy the block's mapping so the loaded scenario is never changed.
      YAML::Node params = YAML::Clone(it->params);
      params[parameter] = YAML::Load(value.dump());
      it->params = params;
    }
  }

  void Fault(Request& request) {
    const Json& header = request.header;
    Command command;
    command.tick = simulator->tick();
    command.target =
        Require(header, "target", Json::value_t::string, "'<block>!<fault>'").get<std::string>();
    if (command.target.find('!') == std::string::npos)
      throw RequestError{ErrorCode::kBadValue, "'target' must be '<block>!<fault>'"};
    command.world = header.value("world", -1);
    if (header.contains("params")) {
      for (const Json& v : header["params"]) {
        if (!v.is_number()) throw RequestError{ErrorCode::kBadValue, "'params' must be numbers"};
        command.values.push_back(v.get<double>());
      }
    }
    auto client_it = clients.find(request.routing_id);
    command.origin =
        "bridge:" + (client_it != clients.end() ? client_it->second.name : std::string("?"));
    std::string error;
    const Model& model = simulator->model();
    // Fill default parameters so that only a duration may be appended.
    const size_t bang = command.target.find('!');
    const int block = model.FindBlock(command.target.substr(0, bang));
    if (block >= 0) {
      for (const FaultDesc& fault : model.binding(block).faults)
        if (fault.name == command.target.substr(bang + 1))
          for (size_t p = command.values.size(); p < fault.params.size(); ++p)
            command.values.push_back(fault.params[p].default_value);
    }
    if (header.contains("duration_s")) {
      if (!header["duration_s"].is_number() || header["duration_s"].get<double>() < 0)
        throw RequestError{ErrorCode::kBadValue,
                           "'duration_s' must be a non-negative number (0 clears)"};
      command.values.push_back(header["duration_s"].get<double>());
    }
    if (command.world < -1 || command.world >= simulator->num_worlds())
      throw RequestError{ErrorCode::kBadValue, "'world' is outside the run's worlds"};
    if (!ResolveCommand(model, command, &error)) throw RequestError{ErrorCode::kBadValue, error};
    Submit({command});
    Json reply = TickHeader();
    reply["ok"] = true;
    if (header.contains("id")) reply["id"] = header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  void PauseResume(Request& request, bool pause) {
    if (paused != pause) {
      paused = pause;
      realtime_origin_ns = SteadyNs();
      realtime_origin_tick = simulator->tick();
      PublishEvent(pause ? "paused" : "resumed", Json::object());
    }
    Json reply = TickHeader();
    reply["ok"] = true;
    reply["paused"] = paused;
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
  }

  void Close(Request& request) {
    RemoveClient(request.routing_id);
    Json reply = {{"ok", true}};
    if (request.header.contains("id")) reply["id"] = request.header["id"];
    Reply(request.routing_id, request.delimiter, std::move(reply));
    if (options.mode == TimingMode::kLockstep) AdvanceLockstep();
  }

  void RemoveClient(const std::string& routing_id) {
    exports.erase(std::remove_if(exports.begin(), exports.end(),
                                 [&](const Export& e) { return e.owner == routing_id; }),
                  exports.end());
    clients.erase(routing_id);
  }

  // ---- simulation thread: watchdog and housekeeping ---------------------------------------

  void Watchdog(int64_t now) {
    for (auto& [id, client] : clients) {
      if (!client.controller || client.deadline_ns <= 0 || client.tripped) continue;
      if (now - client.last_seen_ns <= client.deadline_ns) continue;
      client.tripped = true;
      ++client.trips;
      {
        std::lock_guard lock(stats_mutex);
        ++counters.watchdog_trips;
      }
      std::vector<std::string> applied = ApplySafeBehaviour(client);
      PublishEvent("watchdog_trip",
                   {{"client", client.name},
                    {"safe", SafeBehaviourName(client.safe)},
                    {"silent_s", static_cast<double>(now - client.last_seen_ns) * 1e-9},
                    {"applied", applied}});
      if (!options.quiet)
        spdlog::warn("bridge: controller '{}' silent for more than {} ms: {}", client.name,
                     client.deadline_ns / 1'000'000, SafeBehaviourName(client.safe));
    }
  }

  // Returns the commands issued.
  std::vector<std::string> ApplySafeBehaviour(const Client& client) {
    std::vector<std::string> applied;
    if (client.safe == SafeBehaviour::kHold) return applied;
    const Model& model = simulator->model();
    const Schema& schema = model.schema();
    std::set<int> stopped_blocks;
    for (const std::string& target : client.drives) {
      const size_t slash = target.find('/');
      const std::string owner =
          slash != std::string::npos ? target.substr(0, slash) : target.substr(0, target.find('.'));
      const int block = model.FindBlock(owner);
      if (client.safe == SafeBehaviour::kStop && block >= 0) {
        bool has_stop = false;
        for (const CommandDesc& command : model.binding(block).commands)
          has_stop |= command.verb == "safe_stop";
        if (has_stop) {
          if (stopped_blocks.insert(block).second) {
            Command command{simulator->tick(), -1, owner + "/safe_stop", {}, "bridge:watchdog"};
            for (const CommandDesc& desc : model.binding(block).commands)
              if (desc.verb == "safe_stop")
                for (const ArgDesc& arg : desc.args) command.values.push_back(arg.default_value);
            if (simulator->Submit(command).empty()) applied.push_back(command.target);
          }
          continue;
        }
      }
      if (slash != std::string::npos) continue;  // a block command has no "zero"
      const std::string field_name = target.substr(0, target.find('['));
      const FieldId id = schema.Find(field_name);
      if (id == kInvalidField) continue;
      const FieldDesc& field = schema.field(id);
      const double value = std::clamp(0.0, field.lower, field.upper);
      Command command{simulator->tick(), -1, field_name,
                      std::vector<double>(static_cast<size_t>(field.ElementCount()), value),
                      "bridge:watchdog"};
      if (simulator->Submit(command).empty()) applied.push_back(field_name);
    }
    return applied;
  }

  void ExpireIdle(int64_t now) {
    const int64_t timeout = static_cast<int64_t>(options.client_idle_timeout_s * 1e9);
    std::vector<std::string> expired;
    for (const auto& [id, client] : clients)
      if (!client.pending && now - client.last_seen_ns > timeout) expired.push_back(id);
    for (const std::string& id : expired) {
      PublishEvent("client_expired", {{"client", clients[id].name}});
      RemoveClient(id);
    }
    if (!expired.empty() && options.mode == TimingMode::kLockstep) AdvanceLockstep();
    {
      std::lock_guard lock(stats_mutex);
      counters.clients = static_cast<int>(clients.size());
    }
    UpdateSimulationStats();
  }

  void UpdateSimulationStats() {
    std::lock_guard lock(stats_mutex);
    counters.tick = simulator->tick();
    const Simulator::DeviceSyncs syncs = simulator->device_syncs();
    counters.device_uploads = syncs.uploads;
    counters.device_downloads = syncs.downloads;
    counters.device_upload_bytes = syncs.upload_bytes;
    counters.device_download_bytes = syncs.download_bytes;
  }

  uint64_t Run(const std::atomic<bool>& stop) {
    for (Export& item : exports) PublishExport(item);
    realtime_origin_ns = SteadyNs();
    realtime_origin_tick = simulator->tick();
    last_stats_ns = realtime_origin_ns;
    const int64_t dt_ns = simulator->model().run().dt_ns;
    const int64_t duration_ticks = simulator->model().run().duration_ns / dt_ns;
    bool behind = false;
    while (!stop.load(std::memory_order_relaxed)) {
      const bool realtime = options.mode == TimingMode::kRealtime && !paused;
      // Busy-poll briefly after a request: a lockstep controller usually answers within
      // microseconds, and a sleeping thread's wake-up costs more than that.
      const bool hot = SteadyNs() - last_request_ns < options.busy_poll_ns;
      // Behind the real-time schedule (or running as fast as possible): only look at the
      // sockets, do not wait on them.
      ServeSockets(
          std::chrono::milliseconds(hot || (realtime && behind) ? 0 : (realtime ? 1 : 20)));
      int64_t now = SteadyNs();
      if (realtime) {
        const double elapsed_s = static_cast<double>(now - realtime_origin_ns) * 1e-9;
        const double due_ticks =
            elapsed_s * options.realtime_factor * 1e9 / static_cast<double>(dt_ns);
        // An infinite factor (run --serve) means as fast as possible.
        const int64_t target = due_ticks >= 9e18
                                   ? std::numeric_limits<int64_t>::max()
                                   : realtime_origin_tick + static_cast<int64_t>(due_ticks);
        // Advance in slices so requests and the watchdog are served at least every 5 ms.
        while (simulator->tick() < target && SteadyNs() - now < 5'000'000) {
          // On the device path a Step() call costs a State upload and download: step to the
          // next tick where an export is due (at most kDeviceSlice ticks, so requests are still
          // served often) instead of one tick at a time.
          int64_t ticks = 1;
          if (simulator->on_device()) {
            const int64_t period = ExportPeriod();
            const int64_t to_export = period == std::numeric_limits<int64_t>::max()
                                          ? kDeviceSlice
                                          : period - simulator->tick() % period;
            ticks = std::min({to_export, kDeviceSlice, target - simulator->tick()});
            if (options.stop_at_duration)
              ticks = std::min(ticks, std::max<int64_t>(1, duration_ticks - simulator->tick()));
          }
          simulator->Step(ticks);
          if (options.stop_at_duration && simulator->tick() >= duration_ticks) break;
        }
        if (options.stop_at_duration && simulator->tick() >= duration_ticks) break;
        behind = simulator->tick() < target;
        now = SteadyNs();
        Watchdog(now);
      }
      if (now - last_stats_ns >= 1'000'000'000) {
        last_stats_ns = now;
        PublishBridgeStats();
        ExpireIdle(now);
      }
    }
    if (recorder) recorder->Close();
    return simulator->state().Hash();
  }
};

BridgeServer::BridgeServer(LoadedScenario scenario, const BlockRegistry* registry,
                           RunOverrides overrides, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->registry = registry;
  impl_->overrides = std::move(overrides);
  impl_->options = std::move(options);
  impl_->control_endpoint = impl_->options.control_endpoint;
  impl_->stream_endpoint = impl_->options.stream_endpoint;
  impl_->InstallSimulator(std::move(scenario));
}

BridgeServer::~BridgeServer() {
  if (impl_->recorder) impl_->recorder->Close();
}

void BridgeServer::Start() {
  Impl& impl = *impl_;
  if (impl.options.keys_dir.empty()) {
    for (const std::string& endpoint : {impl.control_endpoint, impl.stream_endpoint})
      if (!IsLocalEndpoint(endpoint))
        throw std::runtime_error("endpoint " + endpoint +
                                 " is not loopback: serving other interfaces requires CURVE keys "
                                 "(--keys DIR, made with `ftwin keygen`)");
  } else {
    impl.keys = LoadKeys(impl.options.keys_dir);
  }
  impl.OpenSockets();
}

const std::string& BridgeServer::control_endpoint() const { return impl_->control_endpoint; }
const std::string& BridgeServer::stream_endpoint() const { return impl_->stream_endpoint; }

uint64_t BridgeServer::Run(const std::atomic<bool>& stop) { return impl_->Run(stop); }

std::vector<KpiEntry> BridgeServer::ComputeKpis() const { return impl_->simulator->ComputeKpis(); }
std::string BridgeServer::CommandLogJsonLines() const {
  return impl_->simulator->command_log().ToJsonLines();
}
int64_t BridgeServer::tick() const { return impl_->simulator->tick(); }
double BridgeServer::time_s() const { return impl_->simulator->time_s(); }

void BridgeServer::Preload(const std::vector<Command>& commands) {
  for (const Command& command : commands) {
    const std::string error = impl_->simulator->Submit(command);
    if (!error.empty()) throw std::invalid_argument("command for " + command.target + ": " + error);
  }
}

ServerStats BridgeServer::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->counters;
}

}  // namespace ftwin::bridge
