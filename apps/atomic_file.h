// Writes a whole file so that a reader (or a crash) never sees half of it: the text goes to
// PATH.tmp, which is then renamed over PATH. One clear error line if either step fails.
#pragma once
#include <string>

namespace sg {

void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace sg
