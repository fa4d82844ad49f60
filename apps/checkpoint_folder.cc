// The checkpoint folder's lifetime, lock and ownership checks (see checkpoint_folder.h).
#include "apps/checkpoint_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/check.h"

namespace sg {
namespace {

bool stat_path(const std::string& p, struct stat* st) { return stat(p.c_str(), st) == 0; }

}  // namespace

CheckpointFolder::CheckpointFolder(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  struct stat st;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (stat_path(dir, &st)) {
      const bool checkpoint_file =
          dir.size() > 12 && dir.compare(dir.size() - 12, 12, ".safetensors") == 0;
      SG_FAIL("--checkpoint ", dir, " is a file; --checkpoint names a folder",
              checkpoint_file ? " (the one that holds checkpoint.safetensors)" : "");
    }
    std::filesystem::create_directories(dir, ec);
    SG_CHECK(!ec, "cannot create checkpoint folder ", dir, ": ", ec.message());
    created_ = true;
  }
  lock_path_ = dir + "/.sketchgrad.lock";
  // A run that ends unlinks its lock file while holding it; a run that opened that file just
  // before would lock an unlinked file. So the lock counts only when it is on the file that is at
  // the path now; otherwise open the new one and try again.
  for (int attempt = 0; lock_fd_ < 0; ++attempt) {
    const int fd = open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const std::string why = std::strerror(errno);
      if (created_) rmdir(dir.c_str());
      SG_FAIL("--checkpoint: cannot create files in ", dir, ": ", why);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {0};
      const ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
      close(fd);
      SG_FAIL("--checkpoint ", dir, " is in use by another sketchgrad run",
              n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : std::string(),
              ": wait for it to end or choose another folder");
    }
    struct stat held;
    if (fstat(fd, &held) == 0 && stat_path(lock_path_, &st) && held.st_dev == st.st_dev &&
        held.st_ino == st.st_ino) {
      lock_fd_ = fd;
    } else {
      close(fd);
      SG_CHECK(attempt < 100, "--checkpoint ", dir, ": cannot lock ", lock_path_,
               " (it keeps being replaced)");
    }
  }
  // The pid is only for a second run's message; the lock holds without it.
  const std::string me = std::to_string(getpid());
  if (ftruncate(lock_fd_, 0) == 0) (void)!pwrite(lock_fd_, me.data(), me.size(), 0);
}

CheckpointFolder::~CheckpointFolder() {
  if (lock_fd_ >= 0) {
    unlink(lock_path_.c_str());  // while still holding the lock
    close(lock_fd_);
  }
  if (created_) rmdir(dir_.c_str());  // fails, harmlessly, unless the run left it empty
}

void CheckpointFolder::check_ours(const std::string& path, const std::string& what) const {
  if (dir_.empty()) return;
  struct stat st;
  if (!stat_path(path, &st)) return;
  auto it = owned_.find(path);
  const bool ours =
      it != owned_.end() && it->second.first == st.st_dev && it->second.second == st.st_ino;
  SG_CHECK(ours, "the ", what, " ", path,
           " was put there by another process while this run was going; it is left as it is and "
           "this run stops without writing its own (rerun with another --checkpoint folder, or "
           "--resume from that file)");
}

void CheckpointFolder::adopt(const std::string& path) {
  if (dir_.empty()) return;
  struct stat st;
  if (stat_path(path, &st)) owned_[path] = {st.st_dev, st.st_ino};
}

}  // namespace sg
