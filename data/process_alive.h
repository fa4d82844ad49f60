// Whether the process that left a file behind (DIR/.synth-partial-PID, FILE.tmp.PID) still runs.
//
//   running(pid) = pid exists (kill(pid, 0) succeeds or says EPERM) and is not a zombie
//                  (/proc/PID/stat state Z or X): a process killed with SIGKILL stays a zombie
//                  until its parent (or init) reaps it, and its leftovers are already stale then.
#pragma once
#include <sys/types.h>

namespace sg {

bool process_is_running(pid_t pid);

}  // namespace sg
