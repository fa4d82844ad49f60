// Progress line and JSON-lines log (see train_log.h).
#include "apps/train_log.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "apps/json_text.h"
#include "apps/process_stats.h"
#include "engine/check.h"
#include "engine/planner.h"

namespace sg {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  long t = std::lround(s);
  if (t < 60)
    std::snprintf(buf, sizeof buf, "%lds", t);
  else if (t < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  return buf;
}

TrainLog::TrainLog(const std::string& path) : path_(path), tty_(stderr_is_terminal()) {
  if (path.empty()) return;
  errno = 0;
  jsonl_.open(path, std::ios::app);
  SG_CHECK(jsonl_.good(), "cannot open log file ", path, " for writing",
           errno ? std::string(": ") + std::strerror(errno) : std::string());
}

TrainLog::~TrainLog() {
  if (open_line_) std::fputc('\n', stderr);
}

void TrainLog::progress(const ProgressInfo& p) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "step %lld/%lld  loss %.4f  %s %.6g  %.0f words/s  lr %.3g  epoch %.3f  mem %s "
                "(rss %s)  ETA %s",
                static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
                p.sampled ? "ppl(sampled)" : "ppl", std::exp(std::min(p.loss, 50.0)), p.words_per_s,
                p.lr, p.epochs, format_bytes(p.planned_bytes).c_str(),
                format_bytes(p.resident_bytes).c_str(), format_duration(p.eta_s).c_str());
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", buf);
    open_line_ = true;
  } else {
    std::fprintf(stderr, "%s\n", buf);
  }
  std::fflush(stderr);
}

void TrainLog::end_line() {
  if (open_line_) std::fputc('\n', stderr);
  open_line_ = false;
}

void TrainLog::status(const std::string& text) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_line_ = true;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void TrainLog::line(const std::string& text) {
  if (open_line_) std::fputc('\n', stderr);
  open_line_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void TrainLog::record(const nlohmann::json& j) {
  if (!jsonl_.is_open()) return;
  jsonl_ << json_text(j) << '\n';
  jsonl_.flush();
  SG_CHECK(jsonl_.good(), "cannot write to log file ", path_);
}

}  // namespace sg
