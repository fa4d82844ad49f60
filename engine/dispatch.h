// SG_DISPATCH(be, fn, args...): calls sg::cuda::fn(be, args...) on a CUDA backend and
// sg::cpu::fn(be, args...) otherwise. Kernel families declare their signatures once in a .inc file
// that the family header includes inside both namespaces, so the CPU and CUDA versions cannot drift
// apart.
#pragma once
#include "engine/backend.h"

#ifdef SG_WITH_CUDA
#define SG_DISPATCH(be, fn, ...)         \
  do {                                   \
    if ((be).is_cuda())                  \
      ::sg::cuda::fn((be), __VA_ARGS__); \
    else                                 \
      ::sg::cpu::fn((be), __VA_ARGS__);  \
  } while (0)
#else
#define SG_DISPATCH(be, fn, ...)        \
  do {                                  \
    if ((be).is_cuda())                 \
      ::sg::fail_no_cuda_build(#fn);    \
    else                                \
      ::sg::cpu::fn((be), __VA_ARGS__); \
  } while (0)
#endif
