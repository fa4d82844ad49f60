// Whole-file outputs that follow symlinks, write devices straight through and never overwrite an
// input (see output_file.h).
#include "data/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/check.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

// The file a write to path lands on: path itself, or the final target of a symlink chain (a
// relative link target is taken relative to the link's folder).
std::string final_target(const std::string& path) {
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return p.string();
    const fs::path to = fs::read_symlink(p, ec);
    SG_CHECK(!ec, "cannot read the symlink ", p.string(), ": ", ec.message());
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  SG_FAIL("too many levels of symlinks at ", path);
}

void write_all(int fd, const std::string& bytes, const std::string& path, const std::string& what,
               bool close_on_error = true) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : EIO;
      if (close_on_error) ::close(fd);
      SG_FAIL("cannot write ", what, " ", path, ": ", std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
}

// The descriptor a path names when it is one of this process's open files (/dev/stdout,
// /dev/stderr, /dev/fd/N, /proc/self/fd/N, or a link to one), else -1. Such a path must be written
// through the descriptor: following it to the file behind (a shell redirection's target) and
// replacing that file would throw away everything else the stream holds.
int open_stream_fd(const std::string& path) {
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    const std::string s = p.lexically_normal().string();
    if (s == "/dev/stdout") return 1;
    if (s == "/dev/stderr") return 2;
    for (const std::string prefix : {"/dev/fd/", "/proc/self/fd/"}) {
      if (s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0 &&
          s.size() - prefix.size() <= 9 &&
          s.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
        return std::atoi(s.c_str() + prefix.size());
    }
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return -1;
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) return -1;
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  return -1;
}

}  // namespace

std::string output_final_target(const std::string& path) { return final_target(path); }

bool is_process_stdout(const std::string& path) {
  if (path.empty()) return false;
  if (open_stream_fd(path) == 1) return true;
  struct stat out, st;
  return ::fstat(1, &out) == 0 && ::stat(path.c_str(), &st) == 0 && out.st_dev == st.st_dev &&
         out.st_ino == st.st_ino;
}

void write_whole_file(const std::string& path, const std::string& bytes, const std::string& what) {
  SG_CHECK(!path.empty(), "no path given for the ", what);
  const int stream = open_stream_fd(path);
  if (stream >= 0) {  // after what stdio has buffered for the same stream
    std::fflush(nullptr);
    write_all(stream, bytes, path, what, /*close_on_error=*/false);
    return;
  }
  struct stat st;  // stat follows links: /dev/stdout -> /proc/self/fd/1 -> a pipe or terminal
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    SG_CHECK(!S_ISDIR(st.st_mode), what, " ", path, " is a folder");
    const int fd = ::open(path.c_str(), O_WRONLY);  // a device or FIFO: straight through
    SG_CHECK(fd >= 0, "cannot write ", what, " ", path, ": ", std::strerror(errno));
    write_all(fd, bytes, path, what);
    ::close(fd);
    return;
  }
  const std::string target = final_target(path);
  std::string tmp = target + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  SG_CHECK(fd >= 0, "cannot write ", what, " ", path, ": ", std::strerror(errno));
  try {
    write_all(fd, bytes, path, what);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  int err = 0;
  if (::fchmod(fd, 0644) != 0) err = errno;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    SG_FAIL("cannot write ", what, " ", path, ": ", std::strerror(err));
  }
}

void check_output_not_input(const std::string& out, const std::vector<std::string>& inputs,
                            const std::string& flag) {
  if (out.empty()) return;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (!in.empty() && fs::exists(out, ec) && fs::equivalent(out, in, ec) && !ec)
      SG_FAIL(flag, " ", out, " is the input file ", in,
              "; writing it would destroy the input: choose another path");
  }
}

void check_outputs_distinct(const std::string& out, const std::string& flag,
                            const std::string& other, const std::string& other_what) {
  if (out.empty() || other.empty()) return;
  if (open_stream_fd(out) >= 0 && open_stream_fd(other) >= 0) return;  // both append to streams
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(final_target(out), ec);
  if (ec) return;
  const fs::path b = fs::weakly_canonical(final_target(other), ec);
  if (ec) return;
  bool same = a == b;
  if (!same && fs::exists(a, ec) && fs::exists(b, ec)) same = fs::equivalent(a, b, ec) && !ec;
  SG_CHECK(!same, flag, " ", out, " is ", other_what, " ", other,
           "; one would overwrite the other: choose another path");
}

void check_output_writable(const std::string& out, const std::string& flag) {
  if (out.empty()) return;
  const int stream = open_stream_fd(out);
  if (stream >= 0) {
    const int fl = ::fcntl(stream, F_GETFL);
    SG_CHECK(fl >= 0 && (fl & O_ACCMODE) != O_RDONLY, "cannot write ", flag, " ", out,
             ": descriptor ", stream, " is not open for writing");
    return;
  }
  struct stat st;
  if (::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    SG_CHECK(::access(out.c_str(), W_OK) == 0, "cannot write ", flag, " ", out, ": ",
             std::strerror(errno));
    return;  // a device or FIFO, written straight through
  }
  const std::string target = final_target(out);
  std::error_code ec;
  if (fs::exists(target, ec)) {
    SG_CHECK(!fs::is_directory(target, ec), flag, " ", out, " is a folder, not a file");
    SG_CHECK(::access(target.c_str(), W_OK) == 0, "cannot write ", flag, " ", out, ": ",
             std::strerror(errno));
    return;
  }
  fs::path folder = fs::path(target).parent_path();
  if (folder.empty()) folder = ".";
  SG_CHECK(fs::is_directory(folder, ec), "cannot write ", flag, " ", out, ": folder ",
           folder.string(), " does not exist");
  check_folder_writable(folder.string(), flag + " " + out);
}

void check_folder_writable(const std::string& folder, const std::string& what) {
  // access() says yes to root everywhere; creating a file is the real test (/proc refuses it).
  std::string probe = (fs::path(folder) / ".sketchgrad-write-test-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  SG_CHECK(fd >= 0, "cannot write ", what, ": cannot create files in ", folder, " (",
           std::strerror(errno), ")");
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace sg
