// What the operating system says about this process: peak resident memory (VmHWM in
// /proc/self/status), and whether stderr is a terminal (progress lines are rewritten in place only
// then).
#pragma once
#include <cstddef>

namespace sg {

size_t peak_resident_bytes();  // 0 when /proc is not available
bool stderr_is_terminal();

}  // namespace sg
