// Liveness of a process by pid (see process_alive.h).
#include "data/process_alive.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace sg {

bool process_is_running(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  // /proc/PID/stat: "PID (COMM) STATE ...", COMM may hold spaces and parentheses: the state is the
  // first field after the last ')'.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return true;  // no /proc: trust kill()
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace sg
