#include "engine/diagnostics.h"

namespace ftwin {

std::string Diagnostic::ToString() const {
  std::string text = location.file.empty() ? std::string("<input>") : location.file;
  if (location.line > 0) {
    text += ":" + std::to_string(location.line);
    if (location.column > 0) text += ":" + std::to_string(location.column);
  }
  text += ": ";
  if (!key_path.empty()) text += key_path + ": ";
  if (!value.empty()) text += "got '" + value + "', ";
  text += expected;
  return text;
}

std::string Diagnostics::ToString() const {
  std::string text;
  for (const Diagnostic& item : items_) {
    if (!text.empty()) text += "\n";
    text += item.ToString();
  }
  return text;
}

}  // namespace ftwin
