// Next-word sampling (apps/next_word_sampler.h): the draw inverts the cumulative distribution at u,
// so a fine grid of u values reproduces the probabilities exactly; top-k and top-p cut the tail,
// <S> is never drawn, and bad options are one clear error.
#include "apps/next_word_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "engine/check.h"

namespace sg {
namespace {

// Share of each word over u = (i + 0.5) / n.
std::map<int32_t, double> shares(const std::vector<float>& logits, const SamplingOptions& o,
                                 const std::vector<int32_t>& never = {}, int n = 10000) {
  NextWordSampler s(static_cast<int64_t>(logits.size()));
  std::map<int32_t, double> out;
  for (int i = 0; i < n; ++i) out[s.sample(logits.data(), o, never, (i + 0.5) / n)] += 1.0 / n;
  return out;
}

// The single word drawn for every u, or -1.
int32_t only(const std::map<int32_t, double>& p) { return p.size() == 1 ? p.begin()->first : -1; }

const std::vector<float> kThree = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};

TEST(NextWordSampler, FollowsTheSoftmax) {
  auto p = shares(kThree, SamplingOptions{});
  EXPECT_NEAR(p[0], 0.2, 1e-3);
  EXPECT_NEAR(p[1], 0.5, 1e-3);
  EXPECT_NEAR(p[2], 0.3, 1e-3);
  SamplingOptions hot;
  hot.temperature = 100;  // nearly uniform
  EXPECT_NEAR(shares(kThree, hot)[0], 1.0 / 3, 0.01);
}

TEST(NextWordSampler, TopKAndTopPCutTheTail) {
  SamplingOptions o;
  o.top_k = 2;  // 0.5 and 0.3, renormalised
  auto p = shares(kThree, o);
  EXPECT_EQ(p.count(0), 0u);
  EXPECT_NEAR(p[1], 0.625, 1e-3);
  o.top_k = 0;
  o.top_p = 0.7;  // 0.5 < 0.7 <= 0.5 + 0.3: the same two words
  p = shares(kThree, o);
  EXPECT_EQ(p.count(0), 0u);
  EXPECT_NEAR(p[2], 0.375, 1e-3);
  o.top_p = 0.5;  // the top word alone holds it
  EXPECT_EQ(only(shares(kThree, o)), 1);
  o.top_p = 1e-6;
  o.top_k = 3;
  EXPECT_EQ(only(shares(kThree, o)), 1);
  o = SamplingOptions{};
  o.top_k = 1;
  EXPECT_EQ(only(shares(kThree, o)), 1);
}

TEST(NextWordSampler, NeverDrawsTheExcludedWordAndBreaksTiesBySmallerId) {
  const std::vector<float> logits = {5.f, 0.f, 0.f, 0.f};
  auto p = shares(logits, SamplingOptions{}, /*never=*/{0});
  EXPECT_EQ(p.count(0), 0u);
  EXPECT_NEAR(p[1], 1.0 / 3, 1e-3);
  SamplingOptions o;
  o.top_k = 1;  // the excluded argmax is removed before the cut: ties between 1, 2, 3 go to 1
  EXPECT_EQ(only(shares(logits, o, {0})), 1);
  o.top_k = 2;  // 1 and 2, evenly
  auto two = shares(logits, o, {0});
  EXPECT_EQ(two.count(0) + two.count(3), 0u);
  EXPECT_NEAR(two[1], 0.5, 1e-3);
  EXPECT_NEAR(two[2], 0.5, 1e-3);
}

TEST(NextWordSampler, ASecondExcludedWordForTheFirstPosition) {
  // generate excludes <S> always and </S> as a sentence's first word, also under top-k 1.
  const std::vector<float> logits = {5.f, 4.f, 1.f, 0.f};
  NextWordSampler s(4);
  SamplingOptions o;
  o.top_k = 1;
  EXPECT_EQ(s.sample(logits.data(), o, /*never=*/{0, 1}, 0.5), 2);
  EXPECT_EQ(s.sample(logits.data(), o, {0}, 0.5), 1);
  EXPECT_EQ(s.sample(logits.data(), o, {1, 0, 2}, 0.5), 3);  // any number, in any order
  o = SamplingOptions{};
  for (double u : {0.0, 0.3, 0.9999}) {
    const int32_t w = s.sample(logits.data(), o, {0, 1}, u);
    EXPECT_TRUE(w == 2 || w == 3) << u;
  }
  NextWordSampler two(2);
  EXPECT_THROW(two.sample(logits.data(), o, {0, 1}, 0.5), Error);
}

TEST(NextWordSampler, BadOptionsAreOneLine) {
  NextWordSampler s(3);
  SamplingOptions o;
  o.top_p = 0;
  EXPECT_THROW(s.sample(kThree.data(), o, {}, 0.5), Error);
  o.top_p = 1.5;
  EXPECT_THROW(s.sample(kThree.data(), o, {}, 0.5), Error);
  o = SamplingOptions{};
  o.temperature = 0;
  EXPECT_THROW(s.sample(kThree.data(), o, {}, 0.5), Error);
  EXPECT_THROW(NextWordSampler(0), Error);
}

}  // namespace
}  // namespace sg
