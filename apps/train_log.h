// Run reporting for `train`: a human progress line on stderr (rewritten in place on a terminal, one
// line per report otherwise) and machine-readable JSON lines (--log FILE), flushed after every
// record so a crash loses nothing that was reported.
#pragma once
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace sg {

struct ProgressInfo {
  int64_t step = 0, total_steps = 0;
  double loss = 0;         // mean training loss over the reporting window
  double words_per_s = 0;  // predicted tokens per second over the window
  double lr = 0;
  double epochs = 0;
  size_t planned_bytes = 0;
  size_t resident_bytes = 0;
  double eta_s = 0;
  bool sampled = false;  // training loss of a sampled softmax (not a true perplexity)
};

class TrainLog {
 public:
  explicit TrainLog(const std::string& jsonl_path);  // empty: no JSON lines
  void progress(const ProgressInfo& p);
  void line(const std::string& text);    // a full line (ends any in-place progress line)
  void status(const std::string& text);  // a progress line of setup work, like progress()
  void end_line();                       // ends an in-place line (before other output)
  void record(const nlohmann::json& j);  // one JSON line
  ~TrainLog();

 private:
  std::ofstream jsonl_;
  std::string path_;
  bool tty_;
  bool open_line_ = false;
};

std::string format_duration(double seconds);  // "3m12s", "1h05m"

}  // namespace sg
