// Standard-descriptor guard and end-of-command stdout check (see std_streams.h).
#include "apps/std_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace sg {

bool occupy_closed_std_descriptors() {
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    stdout_closed |= fd == 1;
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0 && null_fd != fd) {
      dup2(null_fd, fd);
      close(null_fd);
    }
  }
  return stdout_closed;
}

int finish_stdout(int rc, bool stdout_closed) {
  std::cout.flush();
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;  // a write that failed mid-output left none behind
  if (flushed && !std::ferror(stdout) && std::cout.good()) return rc;
  const std::string cause = stdout_closed ? ": it is closed"
                            : err         ? std::string(": ") + std::strerror(err)
                                          : std::string();
  if (rc == 0)
    std::fprintf(stderr, "sketchgrad: error: could not write to standard output%s\n",
                 cause.c_str());
  return rc == 0 ? 1 : rc;
}

}  // namespace sg
