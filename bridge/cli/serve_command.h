// `ftwin serve` (a simulation that controllers drive over ZeroMQ), `ftwin run --serve` and
// `ftwin keygen` (CURVE key pairs for serving beyond loopback).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "bridge/server.h"
#include "engine/scenario.h"

namespace ftwin {

struct ServeCommandOptions {
  std::filesystem::path scenario;
  RunOverrides overrides;
  bridge::ServerOptions server;
  std::optional<std::filesystem::path> out_dir;  ///< KPIs and the command log at exit
  std::string device = "auto";                   ///< auto, cpu or cuda (as `ftwin run --device`)
};

/// Serves until SIGINT/SIGTERM (or, with server.stop_at_duration, the end of the run), then
/// prints the KPIs. Returns an ExitCode.
int ServeCommand(const ServeCommandOptions& options);

/// `ftwin replay FILE --serve`: re-runs a recording on the real-time clock and publishes it on
/// the stream (every client is an observer). Returns an ExitCode.
int ReplayServeCommand(const std::filesystem::path& recording, bridge::ServerOptions options);

/// Writes `<dir>/<name>.key` (public) and `<dir>/<name>.key_secret` (mode 0600). Returns an
/// ExitCode.
int KeygenCommand(const std::filesystem::path& dir, const std::string& name);

}  // namespace ftwin
