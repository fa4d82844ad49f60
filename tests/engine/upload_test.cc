// Backend::upload: the source may be reused as soon as it returns, and copies land in stream order
// (each buffer holds what was uploaded last). On CUDA the bytes go through a ring of pinned
// staging buffers that are refilled many times here (more uploads than slots, sizes growing, and
// one upload above the staging cap that takes the synchronous path).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/backend.h"

namespace sg {
namespace {

void upload_then_overwrite(Backend& be) {
  const size_t big = (size_t(64) << 20) / sizeof(int32_t) + 7;  // above CUDA's staging cap
  for (size_t n : {size_t(1), size_t(1000), size_t(300000), big}) {
    constexpr int kBuffers = 3, kRounds = 7;  // 21 uploads per size: the ring wraps around
    std::vector<void*> dev(kBuffers);
    for (auto& p : dev) p = be.allocate(n * sizeof(int32_t));
    std::vector<int32_t> host(n);
    for (int round = 0; round < kRounds; ++round)
      for (int b = 0; b < kBuffers; ++b) {
        for (size_t i = 0; i < n; ++i) host[i] = static_cast<int32_t>(round * 1000003 + b * 7 + i);
        be.upload(dev[b], host.data(), n * sizeof(int32_t));
        std::memset(host.data(), 0xff, n * sizeof(int32_t));  // reused at once
      }
    for (int b = 0; b < kBuffers; ++b) {
      std::vector<int32_t> back(n);
      be.copy_to_host(back.data(), dev[b], n * sizeof(int32_t));
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(back[i], static_cast<int32_t>((kRounds - 1) * 1000003 + b * 7 + i))
            << "n " << n << " buffer " << b << " element " << i;
    }
    for (auto& p : dev) be.deallocate(p, n * sizeof(int32_t));
  }
}

TEST(Upload, CpuSourceReusableAndLastWriteWins) {
  auto be = Backend::create("cpu", 1);
  upload_then_overwrite(*be);
}

TEST(Upload, CudaSourceReusableAndLastWriteWins) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  auto be = Backend::create("cuda", 1);
  upload_then_overwrite(*be);
}

}  // namespace
}  // namespace sg
