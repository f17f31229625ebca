// Bridge benchmarks against raw libzmq in the same run, on tcp loopback:
//  1. stream throughput (messages/s delivered to one subscriber) for state messages of 64 B,
//     4 KiB and 1 MiB (a block holding that many bytes of f64), vs a raw PUB/SUB sending
//     [topic, payload] with the same payload and high-water marks;
//  2. lockstep control round trip (step 1 tick -> reply with one observation array), mean and
//     p99, vs a raw DEALER/ROUTER echo of a request and reply of the same sizes.
// Usage: bench_bridge [messages_per_size]
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bridge/client.h"
#include "bridge/server.h"
#include "plants/register.h"

using namespace ftwin;
using namespace ftwin::bridge;
using Clock = std::chrono::steady_clock;

namespace {

// A block holding `elements` f64 values and touching one per tick: the state message's payload
// without simulation work, so the benchmark measures the bridge.
class PayloadBlock final : public Block {
 public:
  PayloadBlock(std::string name, int elements) : Block(std::move(name)), elements_(elements) {}
  std::string type_name() const override { return "bench_payload"; }
  void Declare(const DeclareContext&, BlockDeclaration& declaration) override {
    field_ = declaration.AddState({.name = "data",
                                   .shape = {elements_},
                                   .unit = "1",
                                   .kind = FieldKind::kDiscrete,
                                   .checked = false});
  }
  void Update(const TickInfo& tick, BlockIo& io) const override {
    io.Field<double>(field_)[tick.tick % elements_] = static_cast<double>(tick.tick);
  }

 private:
  int elements_;
  FieldId field_ = kInvalidField;
};

std::string PayloadScenario(int elements, int64_t ticks) {
  return "ftwin: 1\nname: bench\nrun: {dt: 1s, duration: " + std::to_string(ticks) +
         "s, seed: 1, worlds: 1, threads: 1}\n"
         "blocks:\n  - {name: sig, type: bench_payload, elements: " +
         std::to_string(elements) + "}\nexports:\n  - {topic: sig/, fields: [sig.data]}\n";
}

std::string SignalScenario(int worlds, int64_t ticks) {
  return "ftwin: 1\nname: bench\nrun: {dt: 1s, duration: " + std::to_string(ticks) +
         "s, seed: 1, worlds: " + std::to_string(worlds) +
         ", threads: 1}\n"
         "blocks:\n  - {name: sig, type: signal_source, shape: sine, unit: '1', mean: 0.0, "
         "amplitude: 1.0, wave_period: 60s}\n"
         "exports:\n  - {topic: sig/, fields: [sig.value]}\n";
}

BlockRegistry Registry() {
  BlockRegistry registry;
  RegisterEngineBlocks(registry);
  RegisterPlantBlocks(registry);
  registry.Register(
      "bench_payload", "benchmark payload", [](const std::string& name, ParamReader& params) {
        const int elements = static_cast<int>(params.RequiredInteger("elements", 1, 1 << 24));
        params.Finish();
        return std::make_unique<PayloadBlock>(name, elements);
      });
  return registry;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Receives until `count` messages arrived or the stream stays silent for 1 s after `done`.
int64_t Drain(zmq::socket_t& sub, int64_t count, const std::atomic<bool>& done,
              Clock::time_point* first, Clock::time_point* last) {
  int64_t received = 0;
  std::vector<zmq::message_t> parts;
  zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
  while (received < count) {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(done ? 1000 : 5000)) == 0) break;
    parts.clear();
    if (!zmq::recv_multipart(sub, std::back_inserter(parts))) break;
    if (received == 0) *first = Clock::now();
    *last = Clock::now();
    ++received;
  }
  return received;
}

struct Throughput {
  double messages_per_s = 0;
  int64_t received = 0;
};

Throughput FtwinStream(int elements, int64_t messages, int hwm) {
  const BlockRegistry registry = Registry();
  LoadedScenario loaded =
      LoadScenarioText(PayloadScenario(elements, messages), "bench.yaml", registry);
  ServerOptions options;
  options.mode = TimingMode::kRealtime;
  options.realtime_factor = std::numeric_limits<double>::infinity();
  options.stop_at_duration = true;
  options.control_endpoint = "tcp://127.0.0.1:*";
  options.stream_endpoint = "tcp://127.0.0.1:*";
  options.stream_high_water_mark = hwm;
  options.quiet = true;
  BridgeServer server(std::move(loaded), &registry, {}, options);
  server.Start();
  zmq::context_t context;
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, hwm);
  sub.set(zmq::sockopt::subscribe, "sig/");
  sub.connect(server.stream_endpoint());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::atomic<bool> stop{false}, done{false};
  std::thread runner([&] {
    server.Run(stop);
    done = true;
  });
  Clock::time_point first, last;
  Throughput result;
  result.received = Drain(sub, messages + 1, done, &first, &last);
  runner.join();
  result.messages_per_s = result.received > 1 ? (result.received - 1) / Seconds(last - first) : 0;
  return result;
}

Throughput RawStream(size_t payload_bytes, int64_t messages, int hwm) {
  zmq::context_t context;
  zmq::socket_t pub(context, zmq::socket_type::pub);
  pub.set(zmq::sockopt::sndhwm, hwm);
  pub.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pub.get(zmq::sockopt::last_endpoint);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, hwm);
  sub.set(zmq::sockopt::subscribe, "sig/");
  sub.connect(endpoint);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::atomic<bool> done{false};
  std::thread sender([&] {
    const std::string payload(payload_bytes, 'x');
    for (int64_t i = 0; i < messages; ++i) {
      pub.send(zmq::buffer(std::string_view("sig/")), zmq::send_flags::sndmore);
      pub.send(zmq::buffer(payload), zmq::send_flags::none);
    }
    done = true;
  });
  Clock::time_point first, last;
  Throughput result;
  result.received = Drain(sub, messages, done, &first, &last);
  sender.join();
  result.messages_per_s = result.received > 1 ? (result.received - 1) / Seconds(last - first) : 0;
  return result;
}

struct Latency {
  double mean_us = 0, p99_us = 0;
};

Latency Summarise(std::vector<double> samples_us) {
  std::sort(samples_us.begin(), samples_us.end());
  Latency latency;
  for (double s : samples_us) latency.mean_us += s;
  latency.mean_us /= static_cast<double>(samples_us.size());
  latency.p99_us = samples_us[samples_us.size() * 99 / 100];
  return latency;
}

Latency FtwinRoundTrip(int round_trips, int64_t busy_poll_ns) {
  const BlockRegistry registry = Registry();
  LoadedScenario loaded =
      LoadScenarioText(SignalScenario(1, 1'000'000'000), "bench.yaml", registry);
  ServerOptions options;
  options.control_endpoint = "tcp://127.0.0.1:*";
  options.stream_endpoint = "tcp://127.0.0.1:*";
  options.quiet = true;
  options.busy_poll_ns = busy_poll_ns;
  BridgeServer server(std::move(loaded), &registry, {}, options);
  server.Start();
  std::atomic<bool> stop{false};
  std::thread runner([&] { server.Run(stop); });
  zmq::context_t context;
  Client client(context, server.control_endpoint());
  client.Hello("bench", "controller", {{"obs", {"sig.value"}}});
  std::vector<double> samples;
  const nlohmann::json step = {{"op", "step"}, {"ticks", 1}};
  for (int i = 0; i < round_trips + 200; ++i) {
    const auto start = Clock::now();
    client.Request(step);
    if (i >= 200) samples.push_back(Seconds(Clock::now() - start) * 1e6);
  }
  stop = true;
  runner.join();
  return Summarise(samples);
}

// The same exchange shapes with raw sockets: a ~60-byte JSON request and a reply of a ~250-byte
// header plus an 8-byte array frame, echoed by a ROUTER thread.
Latency RawRoundTrip(int round_trips) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    std::vector<zmq::message_t> parts;
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    const std::string header(250, 'h');
    const double value = 1.0;
    while (!stop) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) == 0) continue;
      parts.clear();
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
      router.send(parts[0], zmq::send_flags::sndmore);
      router.send(zmq::buffer(header), zmq::send_flags::sndmore);
      router.send(zmq::buffer(&value, sizeof value), zmq::send_flags::none);
    }
  });
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.connect(endpoint);
  const std::string request(60, 'r');
  std::vector<double> samples;
  std::vector<zmq::message_t> parts;
  for (int i = 0; i < round_trips + 200; ++i) {
    const auto start = Clock::now();
    dealer.send(zmq::buffer(request), zmq::send_flags::none);
    parts.clear();
    (void)zmq::recv_multipart(dealer, std::back_inserter(parts));
    if (i >= 200) samples.push_back(Seconds(Clock::now() - start) * 1e6);
  }
  stop = true;
  echo.join();
  return Summarise(samples);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t messages = argc > 1 ? std::atoll(argv[1]) : 20000;
  std::printf("ftwin bridge vs raw libzmq %d.%d.%d, tcp loopback\n\n", ZMQ_VERSION_MAJOR,
              ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
  std::printf("%-10s %8s %14s %14s %8s %10s %10s\n", "payload", "msgs", "ftwin msg/s", "raw msg/s",
              "ratio", "ftwin MB/s", "raw MB/s");
  const struct {
    const char* label;
    int worlds;
    int64_t count;
  } sizes[] = {{"64 B", 8, messages}, {"4 KiB", 512, messages}, {"1 MiB", 131072, messages / 20}};
  for (const auto& size : sizes) {
    const size_t bytes = static_cast<size_t>(size.worlds) * 8;
    const int hwm = 100000;
    const Throughput ours = FtwinStream(size.worlds, size.count, hwm);
    const Throughput raw = RawStream(bytes, size.count, hwm);
    std::printf("%-10s %8lld %14.0f %14.0f %7.2f%% %10.1f %10.1f\n", size.label,
                static_cast<long long>(size.count), ours.messages_per_s, raw.messages_per_s,
                100.0 * ours.messages_per_s / raw.messages_per_s, ours.messages_per_s * bytes / 1e6,
                raw.messages_per_s * bytes / 1e6);
    if (ours.received < size.count || raw.received < size.count)
      std::printf("           (delivered: ftwin %lld, raw %lld of %lld)\n",
                  static_cast<long long>(ours.received), static_cast<long long>(raw.received),
                  static_cast<long long>(size.count));
  }
  const int round_trips = 20000;
  const Latency raw = RawRoundTrip(round_trips);
  std::printf(
      "\nlockstep round trip, %d steps (raw REQ/REP-shaped echo: mean %.1f us, p99 %.1f us)\n",
      round_trips, raw.mean_us, raw.p99_us);
  for (const int64_t busy_poll_us : {int64_t{0}, int64_t{200}}) {
    const Latency ours = FtwinRoundTrip(round_trips, busy_poll_us * 1000);
    std::printf("  ftwin busy-poll %3lld us: mean %.1f us p99 %.1f us | ratio %.2fx (p99 %.2fx)\n",
                static_cast<long long>(busy_poll_us), ours.mean_us, ours.p99_us,
                ours.mean_us / raw.mean_us, ours.p99_us / raw.p99_us);
  }
  return 0;
}
