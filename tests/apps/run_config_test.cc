// RunConfig's JSON round trip (checkpoints carry it; --resume compares it field by field): every
// float reads back bit for bit while being written as its shortest decimal (0.9, not
// 0.8999999761581421), and a configuration written by an older build (full double digits) reads
// back the same.
#include "apps/run_config.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

namespace sg {
namespace {

TEST(RunConfig, FloatsRoundTripAndReadAsTyped) {
  for (float f : {0.9f, 0.999f, 1e-8f, 4e-3f, 0.1f, 1.f / 3.f, 3.4028235e38f,
                  std::numeric_limits<float>::min(), 123456.79f}) {
    RunConfig c;
    c.lr = c.beta1 = c.eps = f;
    const RunConfig back = RunConfig::from_json(c.to_json());
    EXPECT_EQ(0, std::memcmp(&back.lr, &f, sizeof f)) << f;
    EXPECT_EQ(0, std::memcmp(&back.eps, &f, sizeof f)) << f;
    EXPECT_TRUE(back.incompatibilities(c).empty()) << f;
  }
  RunConfig c;
  EXPECT_EQ(c.to_json().at("beta1").dump(), "0.9");
  EXPECT_EQ(c.to_json().at("beta2").dump(), "0.999");
  nlohmann::json old = c.to_json();
  old["beta1"] = static_cast<double>(0.9f);  // 0.8999999761581421, as older builds wrote it
  EXPECT_EQ(RunConfig::from_json(old).beta1, 0.9f);
}

}  // namespace
}  // namespace sg
