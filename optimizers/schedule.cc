// Learning-rate schedules (see schedule.h).
#include "optimizers/schedule.h"

#include <algorithm>
#include <cstdlib>

#include "engine/check.h"

namespace sg {

LrSchedule LrSchedule::parse(const std::string& text, int64_t total_steps) {
  LrSchedule s;
  s.total_ = total_steps;
  std::string rest = text;
  if (rest.rfind("warmup:", 0) == 0) {
    rest = rest.substr(7);
    const size_t plus = rest.find('+');
    const std::string num = rest.substr(0, plus);
    char* end = nullptr;
    const long long n = num.empty() ? 0 : std::strtoll(num.c_str(), &end, 10);
    SG_CHECK(!num.empty() && end && *end == '\0' && n > 0, "schedule '", text,
             "': warmup needs a positive step count, e.g. warmup:1000");
    s.warmup_ = n;
    rest = plus == std::string::npos ? "" : rest.substr(plus + 1);
    SG_CHECK(plus == std::string::npos || rest == "linear", "unknown schedule '", text,
             "' (constant, linear, warmup:N, warmup:N+linear)");
    s.linear_ = rest == "linear";
  } else if (rest == "linear") {
    s.linear_ = true;
  } else {
    SG_CHECK(rest == "constant", "unknown schedule '", text,
             "' (constant, linear, warmup:N, warmup:N+linear)");
  }
  if (s.linear_)
    SG_CHECK(total_steps > s.warmup_, "schedule '", text, "' needs total_steps > ", s.warmup_,
             ", got ", total_steps);
  return s;
}

double LrSchedule::factor(int64_t t) const {
  if (warmup_ > 0 && t <= warmup_) return static_cast<double>(t) / static_cast<double>(warmup_);
  if (!linear_) return 1.0;
  const double done = static_cast<double>(t - 1 - warmup_) / static_cast<double>(total_ - warmup_);
  return std::max(0.0, 1.0 - done);
}

}  // namespace sg
