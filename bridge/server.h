// The bridge server: streams a running simulation's state over ZeroMQ and takes controllers'
// actions back (docs/protocol.md).
//
// Threads: one server thread (the caller of Run) owns the Simulator and every socket (the ROUTER
// control endpoint, the PUB stream, the ZAP authentication handler); libzmq's own I/O thread
// moves the bytes. Sends never block: the simulation publishes at tick boundaries as a read-only
// consumer of the State, a slow subscriber never stalls it (the PUB socket drops at its
// high-water mark and subscribers see the gap in the per-topic sequence numbers), and a reply to
// a peer that is gone is dropped. (An extra I/O thread of our own with an inproc pipe to the
// simulation cost two thread wake-ups per round trip and bought nothing libzmq does not already
// do; docs/architecture.md.)
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/scenario.h"
#include "engine/simulator.h"

namespace ftwin::bridge {

enum class TimingMode { kLockstep, kRealtime };

struct ServerOptions {
  TimingMode mode = TimingMode::kLockstep;
  double realtime_factor = 1.0;  ///< real time: simulated seconds per wall second
  std::string control_endpoint = "tcp://127.0.0.1:5555";
  std::string stream_endpoint = "tcp://127.0.0.1:5556";
  /// CURVE keys (docs/protocol.md §Security). Empty = no encryption, loopback/ipc/inproc only.
  std::filesystem::path keys_dir;
  int64_t max_message_bytes = int64_t{64} << 20;  ///< ZMQ_MAXMSGSIZE of the control socket
  int stream_high_water_mark = 1000;              ///< messages queued per subscriber
  double client_idle_timeout_s = 60.0;
  /// After activity, the server's threads keep polling without sleeping this long: lower
  /// round-trip latency for a spare core (0 = always sleep in poll).
  int64_t busy_poll_ns = 0;  ///< a client silent this long is forgotten
  /// Real time: stop when the simulated time reaches the scenario duration (otherwise the
  /// server keeps running until stopped).
  bool stop_at_duration = false;
  std::filesystem::path record_file;  ///< MCAP recording of the first episode (empty = none)
  std::string version;                ///< program version written to recordings
  bool quiet = false;
  /// Every client is an observer (re-streaming a recording: nothing may change the run).
  bool observers_only = false;
  /// Where the simulation runs (docs/gpu.md): on the device path the host State is copied back
  /// only at the end of each lockstep step and at ticks where a stream export is due.
  SimDevice device = SimDevice::kCpu;
};

struct ServerStats {
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t published = 0;
  int64_t stream_drops = 0;  ///< stream messages the PUB socket refused (not queued)
  int64_t watchdog_trips = 0;
  int64_t deadline_misses = 0;
  int64_t tick = 0;
  int clients = 0;
  /// Host-device copies on the device path (0 on the CPU), one per field (or field world range)
  /// copied: Simulator::DeviceSyncs.
  int64_t device_uploads = 0, device_downloads = 0;
  int64_t device_upload_bytes = 0, device_download_bytes = 0;
};

class BridgeServer {
 public:
  /// Takes a validated scenario; the registry is used again when a reset overrides parameters.
  BridgeServer(LoadedScenario scenario, const BlockRegistry* registry, RunOverrides overrides,
               ServerOptions options);
  ~BridgeServer();
  BridgeServer(const BridgeServer&) = delete;
  BridgeServer& operator=(const BridgeServer&) = delete;

  /// Binds the sockets (they then belong to the thread that calls Run). Throws
  /// std::runtime_error naming the endpoint
  /// on failure (address in use, non-loopback without keys, unreadable keys).
  void Start();
  /// The bound endpoints (a wildcard port resolved to the real one).
  const std::string& control_endpoint() const;
  const std::string& stream_endpoint() const;
  /// Runs the simulation loop on the calling thread until `stop` becomes true (or, real time
  /// with stop_at_duration, the duration is reached). Returns the final state hash.
  uint64_t Run(const std::atomic<bool>& stop);
  ServerStats stats() const;
  /// Queues commands (e.g. a recorded command log) before Run; each applies at its tick.
  /// Throws std::invalid_argument naming the first command the model rejects.
  void Preload(const std::vector<Command>& commands);
  /// After Run: the KPIs of the current episode, its command log (JSON lines) and its clock.
  std::vector<KpiEntry> ComputeKpis() const;
  std::string CommandLogJsonLines() const;
  int64_t tick() const;
  double time_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when every endpoint address is loopback, ipc or inproc (allowed without keys).
bool IsLocalEndpoint(const std::string& endpoint);

}  // namespace ftwin::bridge
