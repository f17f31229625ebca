// Bridge server tests over real sockets (loopback tcp and ipc): lockstep round trips checked
// against an in-process simulation, the real-time watchdog, late joiners, slow subscribers,
// CURVE authentication, malformed input, reconnects and replay of a networked run.
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bridge/client.h"
#include "bridge/server.h"
#include "engine/mcap.h"
#include "engine/recorder.h"
#include "engine/simulator.h"
#include "plants/register.h"

using namespace ftwin;
using namespace ftwin::bridge;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A heated room: thermal network, PID heater whose setpoint controllers drive.
std::string RoomScenario(int worlds, const std::string& duration = "1d") {
  return R"(ftwin: 1
name: bridge-room
run: {dt: 10s, duration: )" +
         duration + R"(, seed: 7, worlds: )" + std::to_string(worlds) + R"(, threads: 1}
blocks:
  - {name: weather, type: signal_source, shape: sine, unit: K, mean: 278.15, amplitude: 5.0, wave_period: 1d}
  - name: building
    type: thermal_network
    nodes:
      - {name: air, capacitance_J_per_K: 2.0e6, ambient_conductance_W_per_K: 60.0, initial_temp_K: 288.15}
    heat_inputs: [air]
  - {name: heater, type: pid_controller, measurement_unit: K, output_unit: W, setpoint: 294.15,
     setpoint_min: 278.15, setpoint_max: 303.15, kp: 4000.0, ki: 2.0, output_min: 0.0,
     output_max: 15000.0, period: 10s}
connections:
  - [weather.value, building.ambient_K]
  - ["building.temp_K[0]", heater.measurement, delayed]
  - [heater.command, building.heat_air_W]
)";
}

BlockRegistry TestRegistry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  return registry;
}

struct ServerFixture {
  BlockRegistry registry = TestRegistry();
  std::unique_ptr<BridgeServer> server;
  std::atomic<bool> stop{false};
  std::thread thread;
  uint64_t final_hash = 0;

  ServerFixture(const std::string& scenario, ServerOptions options, bool run_now = true) {
    options.quiet = true;
    LoadedScenario loaded = LoadScenarioText(scenario, "bridge_test.yaml", registry);
    server = std::make_unique<BridgeServer>(std::move(loaded), &registry, RunOverrides{}, options);
    server->Start();
    if (run_now) RunInBackground();
  }
  void RunInBackground() {
    thread = std::thread([this] { final_hash = server->Run(stop); });
  }
  uint64_t Stop() {
    stop = true;
    if (thread.joinable()) thread.join();
    return final_hash;
  }
  ~ServerFixture() { Stop(); }
};

ServerOptions Loopback(TimingMode mode = TimingMode::kLockstep) {
  ServerOptions options;
  options.mode = mode;
  options.control_endpoint = "tcp://127.0.0.1:*";
  options.stream_endpoint = "tcp://127.0.0.1:*";
  return options;
}

Array F64Array(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v) {
  Array array;
  array.desc = ArrayDesc{name, DType::kFloat64, std::move(shape), ""};
  array.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  return array;
}

std::vector<double> Doubles(const Array& array) {
  std::vector<double> values(array.bytes.size() / 8);
  std::memcpy(values.data(), array.bytes.data(), array.bytes.size());
  return values;
}

std::vector<double> FieldValues(const Simulator& simulator, const std::string& name) {
  const FieldId id = simulator.model().schema().Find(name);
  const State& state = simulator.state();
  const double* data = state.Data<double>(id);
  return std::vector<double>(data, data + state.ElementCount(id) * state.num_worlds());
}

// Waits for a stream message satisfying `predicate`.
std::optional<Message> WaitFor(Subscriber& subscriber, std::chrono::milliseconds timeout,
                               const std::function<bool(const Message&)>& predicate) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<Message> message = subscriber.Receive(50ms);
    if (message && predicate(*message)) return message;
  }
  return std::nullopt;
}

std::filesystem::path TempDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ftwin-bridge-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("Lockstep steps with actions match the in-process simulation bit for bit", "[bridge]") {
  ServerFixture fixture(RoomScenario(1), Loopback());
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  const Message hello = client.Hello("ctrl", "controller", {{"obs", {"building.temp_K"}}});
  REQUIRE(hello.ok());
  CHECK(hello.header["version"] == kProtocolVersion);
  CHECK(hello.header["run"]["mode"] == "lockstep");
  CHECK(hello.header["schema"].size() > 3);

  // Reference: the same scenario and commands, run here.
  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(RoomScenario(1), "ref.yaml", registry).model);
  Simulator untouched(LoadScenarioText(RoomScenario(1), "ref.yaml", registry).model);

  const Message first =
      client.Request({{"op", "step"},
                      {"ticks", 30},
                      {"actions", {{{"target", "heater.setpoint"}, {"values", {280.0}}}}}});
  REQUIRE(first.ok());
  CHECK(first.header["tick"] == 30);
  reference.Submit({0, -1, "heater.setpoint", {280.0}, "test"});
  reference.Step(30);
  untouched.Step(30);
  CHECK(Doubles(first.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  // The action changed the plant: with the setpoint below the room, the heater is off.
  CHECK(Doubles(first.array("building.temp_K"))[0] <
        FieldValues(untouched, "building.temp_K")[0] - 0.5);

  const Message second = client.Request({{"op", "step"}, {"ticks", 50}});
  REQUIRE(second.ok());
  reference.Step(50);
  CHECK(second.header["tick"] == 80);
  CHECK(Doubles(second.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  // The KPIs over the wire are the simulation's own.
  const Message kpis = client.Request({{"op", "kpis"}});
  REQUIRE(kpis.ok());
  std::map<std::string, double> by_name;
  for (const Json& kpi : kpis.header["kpis"]) by_name[kpi["name"]] = kpi["value"].get<double>();
  for (const KpiEntry& entry : reference.ComputeKpis())
    CHECK(by_name.at(entry.block + "." + entry.desc.name) == entry.aggregate);
  CHECK(fixture.Stop() == reference.state().Hash());
}

TEST_CASE("Batched worlds travel as one array per field over ipc", "[bridge]") {
  ServerOptions options = Loopback();
  const std::string base = "ipc:///tmp/ftwin-bridge-test-" + std::to_string(getpid());
  options.control_endpoint = base + ".ctl";
  options.stream_endpoint = base + ".pub";
  ServerFixture fixture(RoomScenario(4), options);
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  REQUIRE(client.Hello("ctrl").ok());
  const std::vector<double> setpoints = {280.0, 290.0, 295.0, 300.0};
  const Message reply =
      client.Request({{"op", "step"},
                      {"ticks", 60},
                      {"obs", {"building.temp_K", "heater.setpoint"}},
                      {"actions", {{{"target", "heater.setpoint"}, {"array", 0}}}}},
                     {F64Array("setpoints", {4, 1}, setpoints)});
  REQUIRE(reply.ok());
  CHECK(reply.array("building.temp_K").desc.shape == std::vector<int64_t>{4});
  CHECK(Doubles(reply.array("heater.setpoint")) == setpoints);

  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(RoomScenario(4), "ref.yaml", registry).model);
  for (int w = 0; w < 4; ++w)
    reference.Submit({0, w, "heater.setpoint", {setpoints[static_cast<size_t>(w)]}, "test"});
  reference.Step(60);
  CHECK(Doubles(reply.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  // A warmer setpoint gives a warmer room in every world.
  const std::vector<double> temps = Doubles(reply.array("building.temp_K"));
  for (size_t w = 1; w < temps.size(); ++w) CHECK(temps[w] > temps[w - 1]);
}

TEST_CASE("Real-time watchdog trips on a silent controller and applies its safe behaviour",
          "[bridge]") {
  ServerOptions options = Loopback(TimingMode::kRealtime);
  options.realtime_factor = 2000.0;  // 200 ticks of 10 s per wall second
  ServerFixture fixture(RoomScenario(1, "30d"), options);
  zmq::context_t context;
  Subscriber events(context, fixture.server->stream_endpoint(), {"_events/", "heater/"});
  std::this_thread::sleep_for(200ms);  // let the subscription reach the publisher
  Client client(context, fixture.server->control_endpoint());
  REQUIRE(client
              .Hello("ctrl", "controller",
                     {{"deadline_ms", 150}, {"safe", "zero"}, {"drives", {"heater.setpoint"}}})
              .ok());
  // Real time: a step carries actions only (the clock advances by itself).
  const Message wrong = client.Request({{"op", "step"}, {"ticks", 5}});
  CHECK(wrong.error() == "wrong_mode");
  REQUIRE(client
              .Request({{"op", "step"},
                        {"ticks", 0},
                        {"actions", {{{"target", "heater.setpoint"}, {"values", {300.0}}}}}})
              .ok());
  // Silent from now on: the watchdog must trip and drive the setpoint to its safe value
  // ("zero", clamped into the field's range: the lower bound 278.15 K).
  const std::optional<Message> trip = WaitFor(events, 3000ms, [](const Message& m) {
    return m.topic == "_events/" && m.header["event"] == "watchdog_trip";
  });
  REQUIRE(trip);
  CHECK(trip->header["detail"]["client"] == "ctrl");
  CHECK(trip->header["detail"]["silent_s"].get<double>() >= 0.15);
  const std::optional<Message> safe = WaitFor(events, 2000ms, [](const Message& m) {
    return m.topic == "heater/" && Doubles(m.array("heater.setpoint"))[0] == 278.15;
  });
  CHECK(safe);
  // Speaking again recovers (and counts the late message as a deadline miss).
  REQUIRE(client.Request({{"op", "get"}, {"fields", {"heater.setpoint"}}}).ok());
  const std::optional<Message> recovered = WaitFor(events, 2000ms, [](const Message& m) {
    return m.topic == "_events/" && m.header["event"] == "watchdog_recovered";
  });
  CHECK(recovered);
  fixture.Stop();
  CHECK(fixture.server->stats().watchdog_trips == 1);
  CHECK(fixture.server->stats().deadline_misses >= 1);
}

TEST_CASE("A late joiner's snapshot continues seamlessly into the stream", "[bridge]") {
  ServerFixture fixture(RoomScenario(2), Loopback());
  zmq::context_t context;
  Client controller(context, fixture.server->control_endpoint());
  REQUIRE(controller.Hello("ctrl").ok());
  REQUIRE(controller.Request({{"op", "step"}, {"ticks", 20}}).ok());

  // Clone pattern: subscribe first, then take the snapshot, then read on from its seq.
  Subscriber subscriber(context, fixture.server->stream_endpoint(), {"building/"});
  std::this_thread::sleep_for(200ms);
  Client late(context, fixture.server->control_endpoint());
  REQUIRE(late.Hello("late", "observer").ok());
  const Message snapshot = late.Request({{"op", "snapshot"}});
  REQUIRE(snapshot.ok());
  CHECK(snapshot.header["tick"] == 20);
  const uint64_t seq = snapshot.header["seqs"]["building/"];
  const Message get = late.Request({{"op", "get"}, {"fields", {"building.*"}}});
  CHECK(Doubles(snapshot.array("building.temp_K")) == Doubles(get.array("building.temp_K")));
  // An observer may not step.
  CHECK(late.Request({{"op", "step"}}).error() == "forbidden");

  REQUIRE(controller.Request({{"op", "step"}, {"ticks", 5}}).ok());
  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(RoomScenario(2), "ref.yaml", registry).model);
  reference.Step(20);
  std::vector<int64_t> ticks;
  for (int i = 0; i < 5; ++i) {
    std::optional<Message> message = WaitFor(subscriber, 2000ms, [&](const Message& m) {
      return m.header["seq"].get<uint64_t>() > seq;
    });
    REQUIRE(message);
    reference.Step(1);
    ticks.push_back(message->header["tick"]);
    CHECK(message->header["seq"].get<uint64_t>() == seq + 1 + static_cast<uint64_t>(i));
    CHECK(Doubles(message->array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  }
  CHECK(ticks == std::vector<int64_t>{21, 22, 23, 24, 25});
  CHECK(subscriber.gaps() == 0);
}

TEST_CASE("A slow subscriber never stalls the simulation; it sees sequence gaps", "[bridge]") {
  ServerOptions options = Loopback(TimingMode::kRealtime);
  options.realtime_factor = std::numeric_limits<double>::infinity();
  options.stop_at_duration = true;
  options.stream_high_water_mark = 10;
  ServerFixture fixture(RoomScenario(1, "10d"), options, /*run_now=*/false);
  zmq::context_t context;
  Subscriber slow(context, fixture.server->stream_endpoint(), {"building/"}, std::nullopt,
                  /*receive_hwm=*/2);
  std::this_thread::sleep_for(200ms);
  fixture.RunInBackground();
  fixture.thread.join();  // returns only because nothing waits for the subscriber
  CHECK(fixture.server->tick() == 10 * 8640);
  int64_t received = 0;
  while (slow.Receive(200ms)) ++received;
  CHECK(received > 0);
  CHECK(received < 10 * 8640);
  CHECK(slow.gaps() > 0);
}

TEST_CASE("CURVE: known keys are accepted, unknown keys rejected, read-only clients observe",
          "[bridge]") {
  const std::filesystem::path dir = TempDir("keys");
  std::filesystem::create_directories(dir / "clients");
  std::filesystem::create_directories(dir / "readonly");
  auto make_pair = [](const std::filesystem::path& stem) {
    char public_key[41], secret_key[41];
    REQUIRE(zmq_curve_keypair(public_key, secret_key) == 0);
    std::ofstream(stem.string() + ".key") << public_key << "\n";
    std::ofstream(stem.string() + ".key_secret") << secret_key << "\n";
  };
  make_pair(dir / "server");
  make_pair(dir / "clients" / "alice");
  make_pair(dir / "readonly" / "bob");
  const std::filesystem::path outside = TempDir("keys-outside");
  make_pair(outside / "mallory");

  ServerOptions options = Loopback();
  options.keys_dir = dir;
  ServerFixture fixture(RoomScenario(1), options);
  zmq::context_t context;
  const std::string server_key = (dir / "server.key").string();

  Client alice(context, fixture.server->control_endpoint(),
               LoadClientKeys(server_key, (dir / "clients" / "alice").string()));
  const Message hello = alice.Hello("alice");
  REQUIRE(hello.ok());
  CHECK_FALSE(hello.header["read_only"].get<bool>());
  CHECK(alice.Request({{"op", "step"}, {"ticks", 3}}).ok());

  Client mallory(context, fixture.server->control_endpoint(),
                 LoadClientKeys(server_key, (outside / "mallory").string()));
  mallory.Send({{"op", "hello"}, {"name", "mallory"}});
  CHECK_FALSE(mallory.Receive(700ms));

  Client bob(context, fixture.server->control_endpoint(),
             LoadClientKeys(server_key, (dir / "readonly" / "bob").string()));
  CHECK(bob.Hello("bob", "controller").error() == "forbidden");
  REQUIRE(bob.Hello("bob", "observer").ok());
  CHECK(bob.Request({{"op", "set"}, {"target", "heater.setpoint"}, {"values", {300.0}}}).error() ==
        "forbidden");
  CHECK(bob.Request({{"op", "get"}, {"fields", {"heater.setpoint"}}}).ok());

  // The stream is encrypted too: a subscriber with an allowed key receives it.
  Subscriber stream(context, fixture.server->stream_endpoint(), {"building/"},
                    LoadClientKeys(server_key, (dir / "readonly" / "bob").string()));
  std::this_thread::sleep_for(300ms);
  CHECK(alice.Request({{"op", "step"}, {"ticks", 1}}).ok());
  CHECK(stream.Receive(2000ms));

  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(outside);
}

TEST_CASE("Serving beyond loopback without keys is refused", "[bridge]") {
  CHECK(IsLocalEndpoint("tcp://127.0.0.1:5555"));
  CHECK(IsLocalEndpoint("ipc:///tmp/x"));
  CHECK_FALSE(IsLocalEndpoint("tcp://0.0.0.0:5555"));
  CHECK_FALSE(IsLocalEndpoint("tcp://*:5555"));
  ServerOptions options = Loopback();
  options.control_endpoint = "tcp://*:0";
  REQUIRE_THROWS_WITH(ServerFixture(RoomScenario(1), options),
                      Catch::Contains("requires CURVE keys"));
}

TEST_CASE("Malformed, invalid and oversized requests get errors and change nothing", "[bridge]") {
  ServerOptions options = Loopback();
  options.max_message_bytes = 4096;
  ServerFixture fixture(RoomScenario(1), options);
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  CHECK(client.RequestRaw({"\x01\x02garbage"}).error() == "malformed");
  CHECK(client.RequestRaw({"[1, 2]"}).error() == "malformed");
  CHECK(client.RequestRaw({"{}"}).error() == "malformed");
  CHECK(client.Request({{"op", "launch"}}).error() == "unknown_op");
  CHECK(client.Request({{"op", "step"}}).error() == "need_hello");
  CHECK(client.Request({{"op", "hello"}, {"versions", {99}}}).error() == "version");
  CHECK(client.Request({{"op", "hello"}, {"role", "boss"}}).error() == "bad_value");
  REQUIRE(client.Hello("ctrl").ok());

  // Each of these is rejected whole: none of its actions applies.
  const Json valid = {{"target", "heater.setpoint"}, {"values", {299.0}}};
  CHECK(client
            .Request({{"op", "step"},
                      {"actions", {valid, {{"target", "heater.nope"}, {"values", {1.0}}}}}})
            .error() == "not_found");
  CHECK(client
            .Request({{"op", "step"},
                      {"actions", {valid, {{"target", "heater.setpoint"}, {"values", {1e9}}}}}})
            .error() == "bad_value");
  CHECK(
      client
          .Request({{"op", "step"},
                    {"actions", {valid, {{"target", "heater.setpoint"}, {"values", {1.0, 2.0}}}}}})
          .error() == "bad_value");
  CHECK(client.Request({{"op", "step"}, {"actions", "all of them"}}).error() == "malformed");
  CHECK(client.Request({{"op", "step"}, {"ticks", -3}}).error() == "bad_value");
  CHECK(client.Request({{"op", "step"}, {"worlds", {0, 5}}}).error() == "bad_value");
  CHECK(client
            .Request({{"op", "step"}, {"actions", {{{"target", "heater.setpoint"}, {"array", 0}}}}},
                     {F64Array("short", {1, 1}, {})})
            .error() == "bad_value");
  CHECK(
      client.Request({{"op", "step"}, {"actions", {{{"target", "heater.setpoint"}, {"array", 3}}}}})
          .error() == "malformed");
  CHECK(client.Request({{"op", "fault"}, {"target", "heater!melt"}}).error() == "bad_value");
  CHECK(client.Request({{"op", "get"}, {"fields", {"nothing.*"}}}).error() == "not_found");
  CHECK(client.Request({{"op", "reset"}, {"overrides", {{"heater.kp", "lots"}}}}).error() ==
        "invalid_scenario");
  CHECK(client.Request({{"op", "reset"}, {"overrides", {{"ghost.kp", 1.0}}}}).error() ==
        "not_found");

  // Too many frames in one request.
  std::vector<std::string> many(1500, "x");
  many[0] = R"({"op":"get","fields":["heater.setpoint"]})";
  CHECK(client.RequestRaw(many).error() == "malformed");

  // Oversized: libzmq drops the connection (ZMQ_MAXMSGSIZE); the server carries on.
  Client big(context, fixture.server->control_endpoint());
  big.Send({{"op", "hello"}, {"name", std::string(10000, 'x')}});
  CHECK_FALSE(big.Receive(500ms));

  // Nothing above changed the simulation: a step now matches an untouched reference.
  const Message step = client.Request({{"op", "step"}, {"ticks", 10}, {"obs", {"building.*"}}});
  REQUIRE(step.ok());
  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(RoomScenario(1), "ref.yaml", registry).model);
  reference.Step(10);
  CHECK(Doubles(step.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  CHECK(fixture.server->stats().errors >= 20);
}

TEST_CASE("Reconnecting controllers replace their old registration; silent ones expire",
          "[bridge]") {
  ServerOptions options = Loopback();
  options.client_idle_timeout_s = 0.3;
  ServerFixture fixture(RoomScenario(1), options);
  zmq::context_t context;
  {
    Client first(context, fixture.server->control_endpoint());
    REQUIRE(first.Hello("ctrl").ok());
    REQUIRE(first.Request({{"op", "step"}, {"ticks", 2}}).ok());
  }  // disconnects without 'close'
  Client again(context, fixture.server->control_endpoint());
  REQUIRE(again.Hello("ctrl").ok());
  const Message step = again.Request({{"op", "step"}, {"ticks", 3}}, {}, 2000ms);
  REQUIRE(step.ok());
  CHECK(step.header["tick"] == 5);

  // Another controller that vanishes holds lockstep only until it expires.
  {
    Client ghost(context, fixture.server->control_endpoint());
    REQUIRE(ghost.Hello("ghost").ok());
  }
  const Message waited = again.Request({{"op", "step"}, {"ticks", 1}}, {}, 5000ms);
  REQUIRE(waited.ok());
  CHECK(waited.header["tick"] == 6);
}

TEST_CASE("Reset with a new seed and overrides starts a new episode", "[bridge]") {
  ServerFixture fixture(RoomScenario(1), Loopback());
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  REQUIRE(client.Hello("ctrl", "controller", {{"obs", {"building.temp_K"}}}).ok());
  REQUIRE(client.Request({{"op", "step"}, {"ticks", 40}}).ok());
  const Message reset =
      client.Request({{"op", "reset"}, {"seed", 99}, {"overrides", {{"heater.kp", 100.0}}}});
  REQUIRE(reset.ok());
  CHECK(reset.header["tick"] == 0);
  CHECK(reset.header["episode"] == 1);
  CHECK(reset.header["seed"] == 99);
  const Message step = client.Request({{"op", "step"}, {"ticks", 40}});
  REQUIRE(step.ok());
  // Reference: the scenario with the overridden gain.
  std::string text = RoomScenario(1);
  text.replace(text.find("kp: 4000.0"), 10, "kp: 100.0");
  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(text, "ref.yaml", registry).model);
  reference.Step(40);
  CHECK(Doubles(step.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
}

TEST_CASE("A networked run replays bit-exactly from its recording and its command log",
          "[bridge][determinism]") {
  const std::filesystem::path dir = TempDir("replay");
  ServerOptions options = Loopback();
  options.record_file = dir / "run.mcap";
  options.version = "test";
  ServerFixture fixture(RoomScenario(2), options);
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  REQUIRE(client.Hello("ctrl").ok());
  for (int i = 0; i < 10; ++i) {
    const double setpoint = 285.0 + i;
    REQUIRE(client
                .Request(
                    {{"op", "step"},
                     {"ticks", 7},
                     {"actions",
                      {{{"target", "heater.setpoint"}, {"values", {setpoint}}, {"world", i % 2}}}}})
                .ok());
  }
  const uint64_t hash = fixture.Stop();
  const std::string log = fixture.server->CommandLogJsonLines();
  fixture.server.reset();  // closes the recording

  const ReplayReport report = ReplayRecording(dir / "run.mcap", fixture.registry);
  CHECK(report.errors.empty());
  CHECK(report.identical);
  CHECK(report.messages_compared > 70);

  Simulator replay(LoadScenarioText(RoomScenario(2), "ref.yaml", fixture.registry).model);
  for (const Command& command : CommandLog::ParseJsonLines(log, "commands.jsonl"))
    REQUIRE(replay.Submit(command).empty());
  replay.Step(70);
  CHECK(replay.state().Hash() == hash);
  std::filesystem::remove_all(dir);
}

TEST_CASE("A recording re-streams over the bridge exactly as it was first published",
          "[bridge][determinism]") {
  const std::filesystem::path dir = TempDir("restream");
  ServerOptions options = Loopback();
  options.record_file = dir / "run.mcap";
  options.version = "test";
  std::vector<std::pair<int64_t, std::vector<double>>> live;
  {
    ServerFixture fixture(RoomScenario(2, "10min"), options);
    zmq::context_t context;
    Subscriber subscriber(context, fixture.server->stream_endpoint(), {"building/"});
    std::this_thread::sleep_for(200ms);
    Client client(context, fixture.server->control_endpoint());
    REQUIRE(client.Hello("ctrl").ok());
    for (int i = 0; i < 6; ++i)
      REQUIRE(client
                  .Request(
                      {{"op", "step"},
                       {"ticks", 10},
                       {"actions", {{{"target", "heater.setpoint"}, {"values", {283.0 + 3 * i}}}}}})
                  .ok());
    while (std::optional<Message> message = subscriber.Receive(300ms))
      live.emplace_back(message->header["tick"].get<int64_t>(),
                        Doubles(message->array("building.temp_K")));
    fixture.Stop();
    fixture.server.reset();
  }
  REQUIRE(live.size() >= 60);

  BlockRegistry registry = TestRegistry();
  std::vector<std::string> errors;
  std::optional<RecordedRun> run =
      ReadRecordedRun(mcap::ReadMcap(dir / "run.mcap"), registry, &errors);
  REQUIRE(run);
  ServerOptions replay = Loopback(TimingMode::kRealtime);
  replay.realtime_factor = std::numeric_limits<double>::infinity();
  replay.stop_at_duration = true;
  replay.observers_only = true;
  replay.quiet = true;
  BridgeServer server(std::move(run->loaded), &registry, run->overrides, replay);
  server.Preload(run->commands);
  server.Start();
  zmq::context_t context;
  Subscriber subscriber(context, server.stream_endpoint(), {"building/"}, std::nullopt, 100000);
  std::this_thread::sleep_for(200ms);
  std::atomic<bool> stop{false};
  server.Run(stop);
  std::map<int64_t, std::vector<double>> replayed;
  while (std::optional<Message> message = subscriber.Receive(300ms))
    replayed[message->header["tick"].get<int64_t>()] = Doubles(message->array("building.temp_K"));
  for (const auto& [tick, temps] : live) {
    INFO("tick " << tick);
    REQUIRE(replayed.count(tick));
    CHECK(replayed[tick] == temps);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("A server for observers only refuses controllers", "[bridge]") {
  ServerOptions options = Loopback();
  options.observers_only = true;
  ServerFixture fixture(RoomScenario(1), options);
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  CHECK(client.Hello("ctrl", "controller").error() == "forbidden");
  const Message hello = client.Hello("viewer", "observer");
  REQUIRE(hello.ok());
  CHECK(hello.header["read_only"].get<bool>());
  CHECK(client.Request({{"op", "get"}, {"fields", {"building.temp_K"}}}).ok());
}

TEST_CASE("On the device path a lockstep server copies only what it reads", "[bridge]") {
  // The emulated device runs the device path's orchestration on the host (docs/gpu.md): the
  // observations must equal the CPU simulation bit for bit. The State goes up once; after that
  // a command sends up (and first brings back) only its target field, and a step's reply or a
  // stream export brings back only the fields it carries.
  const std::string scenario =
      RoomScenario(3) + "exports:\n  - {topic: room/, fields: [building.temp_K], every: 200s}\n";
  ServerOptions options = Loopback();
  options.device = SimDevice::kEmulated;
  ServerFixture fixture(scenario, options);
  zmq::context_t context;
  Client client(context, fixture.server->control_endpoint());
  const Message hello = client.Hello("ctrl", "controller", {{"obs", {"building.temp_K"}}});
  REQUIRE(hello.ok());
  CHECK(hello.header["run"]["device"] == "emulated");
  BlockRegistry registry = TestRegistry();
  Simulator reference(LoadScenarioText(scenario, "ref.yaml", registry).model);
  const Schema& schema = reference.model().schema();
  int64_t state_bytes = 0;
  for (FieldId id = 0; id < schema.size(); ++id)
    state_bytes += static_cast<int64_t>(schema.field(id).BytesPerWorld()) * 3;
  const int64_t temp_bytes =
      static_cast<int64_t>(schema.field(schema.Find("building.temp_K")).BytesPerWorld()) * 3;
  const int64_t setpoint_bytes =
      static_cast<int64_t>(schema.field(schema.Find("heater.setpoint")).BytesPerWorld()) * 3;
  REQUIRE(temp_bytes == 3 * 8);
  REQUIRE(setpoint_bytes == 3 * 8);

  const Message first =
      client.Request({{"op", "step"},
                      {"ticks", 30},
                      {"actions", {{{"target", "heater.setpoint"}, {"values", {285.0}}}}}});
  REQUIRE(first.ok());
  reference.Submit({0, -1, "heater.setpoint", {285.0}, "test"});
  reference.Step(30);
  CHECK(Doubles(first.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  const Message second = client.Request({{"op", "step"}, {"ticks", 50}});
  REQUIRE(second.ok());
  reference.Step(50);
  CHECK(Doubles(second.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  ServerStats stats = fixture.server->stats();
  // Up: the whole State once (the command at tick 0 applies before it). Down: temp_K for the
  // export (every 20 ticks) at ticks 20, 40, 60 and 80 and for the reply at tick 30 (at 80 the
  // reply finds it current).
  CHECK(stats.device_upload_bytes == state_bytes);
  CHECK(stats.device_uploads == schema.size());
  CHECK(stats.device_download_bytes == 5 * temp_bytes);
  CHECK(stats.device_downloads == 5);

  // A client's export every 10 ticks, and a command: the command's field comes back and goes up,
  // temp_K comes back every 10 ticks.
  const Message subscribed = client.Request({{"op", "subscribe"},
                                             {"topic", "room"},
                                             {"fields", {"building.temp_K"}},
                                             {"every_ticks", 10}});
  REQUIRE(subscribed.ok());
  const Message third =
      client.Request({{"op", "step"},
                      {"ticks", 40},
                      {"actions", {{{"target", "heater.setpoint"}, {"values", {290.0}}}}}});
  REQUIRE(third.ok());
  reference.Submit({80, -1, "heater.setpoint", {290.0}, "test"});
  reference.Step(40);
  CHECK(Doubles(third.array("building.temp_K")) == FieldValues(reference, "building.temp_K"));
  stats = fixture.server->stats();
  CHECK(stats.device_upload_bytes == state_bytes + setpoint_bytes);
  // ticks 90, 100, 110, 120 (the reply at 120 finds it current) and the setpoint at tick 80.
  CHECK(stats.device_download_bytes == 9 * temp_bytes + setpoint_bytes);
  CHECK(fixture.Stop() == reference.state().Hash());
}
