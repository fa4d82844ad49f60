// JSON text of a value for files the apps write (summaries, logs, plans, checkpoint headers).
// Paths are bytes on Linux and need not be UTF-8; nlohmann-json throws on invalid UTF-8 by default,
// which lost whole runs at their final write. Invalid bytes are written as U+FFFD instead.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace sg {

// indent < 0: one line; otherwise pretty-printed with that many spaces.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sg
