// Learning-rate schedules (see schedule.h).
#include "optimizers/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/check.h"

namespace sg {

namespace {
constexpr const char* kForms =
    "constant, linear, cosine, warmup:N, warmup:N+linear, warmup:N+cosine";
}

LrSchedule LrSchedule::parse(const std::string& text, int64_t total_steps) {
  LrSchedule s;
  s.total_ = total_steps;
  std::string rest = text;
  auto decay_of = [&](const std::string& name) {
    if (name == "linear") return Decay::Linear;
    if (name == "cosine") return Decay::Cosine;
    SG_FAIL("unknown schedule '", text, "' (", kForms, ")");
  };
  if (rest.rfind("warmup:", 0) == 0) {
    rest = rest.substr(7);
    const size_t plus = rest.find('+');
    const std::string num = rest.substr(0, plus);
    // Digits only: strtoll alone would skip the space of "warmup: 5" and saturate a number past its
    // range. At most 12 digits: N stays below --steps' bound, 10^12, and never overflows.
    const bool digits = !num.empty() && num.size() <= 12 &&
                        num.find_first_not_of("0123456789") == std::string::npos;
    const long long n = digits ? std::strtoll(num.c_str(), nullptr, 10) : 0;
    SG_CHECK(n > 0, "schedule '", text,
             "': warmup needs a positive whole step count below 10^12 (digits only), e.g. "
             "warmup:1000");
    s.warmup_ = n;
    if (plus != std::string::npos) s.decay_ = decay_of(rest.substr(plus + 1));
  } else if (rest != "constant") {
    s.decay_ = decay_of(rest);
  }
  if (s.decay_ != Decay::None)
    SG_CHECK(total_steps > s.warmup_, "schedule '", text, "' needs total_steps > ", s.warmup_,
             ", got ", total_steps);
  return s;
}

double LrSchedule::factor(int64_t t) const {
  if (warmup_ > 0 && t <= warmup_) return static_cast<double>(t) / static_cast<double>(warmup_);
  if (decay_ == Decay::None) return 1.0;
  const double done =
      std::min(1.0, static_cast<double>(t - 1 - warmup_) / static_cast<double>(total_ - warmup_));
  if (decay_ == Decay::Linear) return std::max(0.0, 1.0 - done);
  return 0.5 * (1.0 + std::cos(3.14159265358979323846 * done));
}

}  // namespace sg
