// LossWindow: the training loss of each step summed on the device (sum += loss, one 1-element add
// queued after the step), read by the host once per progress window instead of once per step, so
// the host can queue the next steps while the device works. The sum is one planned float (a
// persistent extra buffer of the training executor). A non-finite sum means some step of the window
// diverged (a sum of finite losses stays finite).
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/executor.h"
#include "engine/planner.h"

namespace sg {

class LossWindow {
 public:
  // The planner request for the sum; append it to ExecutorOptions::extra and pass its index to
  // bind.
  static BufferRequest request();

  void bind(Executor& ex, size_t extra_index, ValueId loss);
  // sum += this step's loss, queued on the device.
  void add_step();
  // Steps added since the last take().
  int64_t steps() const { return steps_; }
  // The sum so far (waits for the device); the window stays open.
  float sum() const;
  // The sum and its step count; the window starts again empty.
  float take(int64_t* steps);

 private:
  Executor* ex_ = nullptr;
  ValueId loss_ = kNoValue;
  float* sum_ = nullptr;
  int64_t steps_ = 0;
};

}  // namespace sg
