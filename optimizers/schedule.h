// Learning-rate schedules, as a factor of the base rate at global step t (t counts from 1):
//   constant         1
//   linear           max(0, 1 - (t - 1) / T)                  (1 at the first step, 0 after T)
//   cosine           (1 + cos(pi * min(1, (t - 1) / T))) / 2  (1 at the first step, 0 after T)
//   warmup:N         min(1, t / N)
//   warmup:N+linear  t / N for t <= N, then the linear decay over the remaining T - N steps
//   warmup:N+cosine  t / N for t <= N, then the cosine decay over the remaining T - N steps
// T = total_steps (required, > N, by the decaying forms).
#pragma once
#include <cstdint>
#include <string>

namespace sg {

class LrSchedule {
 public:
  static LrSchedule parse(const std::string& text, int64_t total_steps);  // throws sg::Error
  double factor(int64_t step) const;

 private:
  enum class Decay { None, Linear, Cosine };
  Decay decay_ = Decay::None;
  int64_t warmup_ = 0, total_ = 0;
};

}  // namespace sg
