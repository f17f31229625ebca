#include "engine/kpi_report.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ftwin {
namespace {
std::string Number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}
std::string Exact(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}
}  // namespace

std::string FormatKpiTable(const std::vector<KpiEntry>& kpis, int num_worlds) {
  size_t name_width = 10;
  for (const KpiEntry& kpi : kpis)
    name_width = std::max(name_width, kpi.block.size() + 1 + kpi.desc.name.size());
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %14s  %-10s%s\n", static_cast<int>(name_width), "KPI",
                "value", "unit", num_worlds > 1 ? "  (across worlds: agg  std  min  max)" : "");
  text += line;
  for (const KpiEntry& kpi : kpis) {
    const std::string name = kpi.block + "." + kpi.desc.name;
    if (num_worlds > 1)
      std::snprintf(line, sizeof line, "%-*s %14s  %-10s  %s  %s  %s  %s\n",
                    static_cast<int>(name_width), name.c_str(), Number(kpi.aggregate).c_str(),
                    kpi.desc.unit.c_str(), KpiAggregationName(kpi.desc.across_worlds),
                    Number(kpi.stddev).c_str(), Number(kpi.min).c_str(), Number(kpi.max).c_str());
    else
      std::snprintf(line, sizeof line, "%-*s %14s  %s\n", static_cast<int>(name_width),
                    name.c_str(), Number(kpi.aggregate).c_str(), kpi.desc.unit.c_str());
    text += line;
  }
  return text;
}

std::string KpisToJson(const std::vector<KpiEntry>& kpis, const RunMetadata& metadata) {
  nlohmann::ordered_json root;
  root["scenario"] = metadata.scenario_name;
  root["scenario_file"] = metadata.scenario_file;
  root["seed"] = metadata.seed;
  root["worlds"] = metadata.num_worlds;
  root["threads"] = metadata.num_threads;
  root["ticks"] = metadata.ticks;
  root["sim_time_s"] = metadata.sim_time_s;
  root["wall_time_s"] = metadata.wall_time_s;
  root["world_resets"] = metadata.world_resets;
  root["ftwin_version"] = metadata.version;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const KpiEntry& kpi : kpis) {
    nlohmann::ordered_json item;
    item["block"] = kpi.block;
    item["name"] = kpi.desc.name;
    item["unit"] = kpi.desc.unit;
    item["aggregation"] = KpiAggregationName(kpi.desc.across_worlds);
    item["value"] = kpi.aggregate;
    item["mean"] = kpi.mean;
    item["std"] = kpi.stddev;
    item["min"] = kpi.min;
    item["max"] = kpi.max;
    item["per_world"] = kpi.per_world;
    list.push_back(std::move(item));
  }
  root["kpis"] = std::move(list);
  return root.dump(2) + "\n";
}

std::string KpisToCsv(const std::vector<KpiEntry>& kpis) {
  std::string text = "block,kpi,unit,world,value\n";
  for (const KpiEntry& kpi : kpis) {
    for (size_t w = 0; w < kpi.per_world.size(); ++w)
      text += kpi.block + "," + kpi.desc.name + "," + kpi.desc.unit + "," + std::to_string(w) +
              "," + Exact(kpi.per_world[w]) + "\n";
    text += kpi.block + "," + kpi.desc.name + "," + kpi.desc.unit + ",all," + Exact(kpi.aggregate) +
            "\n";
  }
  return text;
}

void WriteFileAtomic(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    if (!stream) throw std::runtime_error("cannot write " + temporary.string());
    stream << text;
    stream.flush();
    if (!stream) throw std::runtime_error("cannot write " + temporary.string());
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace ftwin
