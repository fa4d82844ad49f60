// Process statistics from /proc (see process_stats.h).
#include "apps/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <string>

namespace sg {

size_t peak_resident_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return static_cast<size_t>(std::stoull(line.substr(6))) * 1024;
  return 0;
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace sg
