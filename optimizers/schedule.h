// Learning-rate schedules, as a factor of the base rate at global step t (t counts from 1):
//   constant         1
//   linear           max(0, 1 - (t - 1) / T)                 (1 at the first step, 0 after T steps)
//   warmup:N         min(1, t / N)
//   warmup:N+linear  t / N for t <= N, then max(0, 1 - (t - 1 - N) / (T - N))   (needs T > N)
// T = total_steps (required, > 0, by the linear forms).
#pragma once
#include <cstdint>
#include <string>

namespace sg {

class LrSchedule {
 public:
  static LrSchedule parse(const std::string& text, int64_t total_steps);  // throws sg::Error
  double factor(int64_t step) const;

 private:
  bool linear_ = false;
  int64_t warmup_ = 0, total_ = 0;
};

}  // namespace sg
