// Command-line and table helpers shared by the GPU batch benchmarks (bench/gpu/*.cpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace ftwin::bench {

/// "1,16,256" -> {1, 16, 256}.
inline std::vector<int> ParseWorldList(const char* text) {
  std::vector<int> sizes;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) sizes.push_back(std::atoi(item.c_str()));
  return sizes;
}

/// A rate for a table cell, or "-" when not measured.
inline std::string RateCell(double rate) {
  char text[32];
  if (rate > 0)
    std::snprintf(text, sizeof text, "%.4g", rate);
  else
    std::snprintf(text, sizeof text, "-");
  return text;
}

}  // namespace ftwin::bench
