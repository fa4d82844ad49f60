// Device-side sum of the step losses (see loss_window.h).
#include "apps/loss_window.h"

#include "engine/check.h"
#include "engine/dispatch.h"
#include "engine/kernels/elementwise_kernels.h"

namespace sg {

BufferRequest LossWindow::request() {
  return BufferRequest{
      "train/loss_sum", "train", sizeof(float), Category::Workspace, Arena::Persistent, 0, 0};
}

void LossWindow::bind(Executor& ex, size_t extra_index, ValueId loss) {
  ex_ = &ex;
  loss_ = loss;
  sum_ = ex.extra_tensor(extra_index, Shape{1}).f32();
  SG_CHECK(ex.tensor(loss).numel() == 1, "LossWindow: the loss must be a scalar");
  ex.backend().fill_zero(sum_, sizeof(float));
  steps_ = 0;
}

void LossWindow::add_step() {
  SG_CHECK(ex_, "LossWindow::add_step before bind");
  SG_DISPATCH(ex_->backend(), add, sum_, ex_->tensor(loss_).f32(), sum_, 1);
  ++steps_;
}

float LossWindow::sum() const {
  SG_CHECK(ex_, "LossWindow::sum before bind");
  float s = 0.f;
  ex_->backend().copy_to_host(&s, sum_, sizeof(float));
  return s;
}

float LossWindow::take(int64_t* steps) {
  const float s = sum();
  if (steps) *steps = steps_;
  ex_->backend().fill_zero(sum_, sizeof(float));
  steps_ = 0;
  return s;
}

}  // namespace sg
