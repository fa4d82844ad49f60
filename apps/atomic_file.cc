// Whole-file writes through a temporary and a rename (see atomic_file.h).
#include "apps/atomic_file.h"

#include <cstdio>
#include <fstream>

#include "engine/check.h"

namespace sg {

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    SG_CHECK(f.good(), "cannot write ", path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    SG_FAIL("cannot write ", path);
  }
}

}  // namespace sg
