// The --checkpoint folder of one training run:
//   - created with its parents when missing, and removed again at the end when the run left it
//     empty (a run that stops before its first checkpoint leaves nothing behind);
//   - locked for the run's lifetime (flock on the hidden file .sketchgrad.lock inside, which holds
//     the owner's pid): a second run on the same folder stops with one line naming the first
//     instead of replacing its checkpoints; the kernel drops the lock when a process dies;
//   - each checkpoint file the run writes is its own: before a write, a file at that path must be
//     absent or the very file (device, inode) this run resumed from or last wrote. A file put
//     there by anyone else meanwhile is refused rather than replaced.
#pragma once
#include <sys/types.h>

#include <map>
#include <string>
#include <utility>

namespace sg {

class CheckpointFolder {
 public:
  CheckpointFolder() = default;  // no --checkpoint: every call is a no-op
  // Creates and locks dir; throws one line when dir is a file or is locked by another run.
  explicit CheckpointFolder(const std::string& dir);
  ~CheckpointFolder();
  CheckpointFolder(const CheckpointFolder&) = delete;
  CheckpointFolder& operator=(const CheckpointFolder&) = delete;

  // Throws one line unless path is absent or the file this run adopted there; what names it in
  // the message ("checkpoint", "best checkpoint").
  void check_ours(const std::string& path, const std::string& what) const;
  // Marks the file now at path (resumed from, or just written) as this run's.
  void adopt(const std::string& path);

 private:
  std::string dir_, lock_path_;
  bool created_ = false;
  int lock_fd_ = -1;
  std::map<std::string, std::pair<dev_t, ino_t>> owned_;
};

}  // namespace sg
