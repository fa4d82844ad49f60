// lstm_cudnn() for builds without CUDA: a clear error (the CUDA build defines it in lstm_cudnn.cu).
#include "layers/lstm_cudnn.h"

#ifndef SG_WITH_CUDA
namespace sg {
ValueId lstm_cudnn(Graph&, ValueId, ValueId, ValueId, ValueId, ValueId, ValueId, int64_t, bool) {
  SG_FAIL("lstm_impl 'cudnn' needs a build with CUDA and cuDNN; use 'native'");
}
}  // namespace sg
#endif
