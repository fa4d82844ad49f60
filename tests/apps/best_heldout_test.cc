// BestHeldout (train --keep-best): only a finite, strictly lower perplexity is a new best, and the
// best survives its trip through checkpoint metadata exactly.
#include "apps/best_heldout.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(BestHeldout, OnlyAFiniteStrictlyLowerPerplexityIsANewBest) {
  BestHeldout b;
  EXPECT_FALSE(b.known());
  EXPECT_TRUE(b.metadata().empty());
  EXPECT_FALSE(b.offer(NAN, 5));
  EXPECT_FALSE(b.offer(INFINITY, 5));
  EXPECT_TRUE(b.offer(812.25, 10));
  EXPECT_FALSE(b.offer(812.25, 20));  // a tie keeps the earlier step
  EXPECT_FALSE(b.offer(900, 30));
  EXPECT_TRUE(b.offer(700.0 + 1.0 / 3.0, 40));
  EXPECT_EQ(b.step, 40);

  BestHeldout back;
  EXPECT_TRUE(back.restore(b.metadata(), ""));
  EXPECT_EQ(back.step, 40);
  EXPECT_EQ(back.perplexity, b.perplexity);  // 17 digits: the same double
  BestHeldout none;
  EXPECT_TRUE(none.restore({{"step", "3"}}, "x"));  // an older checkpoint: nothing known
  EXPECT_FALSE(none.known());
}

// A best measured on other held-out text (or another token cap) is not comparable: a resumed run
// with another --heldout forgets it instead of keeping a best that its own evaluations cannot beat
// (or replacing the best model with one that only scored lower on easier text).
TEST(BestHeldout, ABestMeasuredOnOtherTextIsForgotten) {
  const std::string on_a = measured_on_text("/tmp/a.txt", 0);
  EXPECT_EQ(on_a, measured_on_text("/tmp/./a.txt", 0));  // the same file, spelled differently
  EXPECT_NE(on_a, measured_on_text("/tmp/b.txt", 0));
  EXPECT_NE(on_a, measured_on_text("/tmp/a.txt", 3000));
  BestHeldout b;
  b.measured_on = on_a;
  ASSERT_TRUE(b.offer(150.5, 100));
  BestHeldout same, other;
  EXPECT_TRUE(same.restore(b.metadata(), on_a));
  EXPECT_EQ(same.step, 100);
  EXPECT_EQ(same.measured_on, on_a);
  EXPECT_FALSE(other.restore(b.metadata(), measured_on_text("/tmp/b.txt", 0)));
  EXPECT_FALSE(other.known());
  EXPECT_TRUE(other.offer(400.0, 120));  // its own first evaluation is its best
}

}  // namespace
}  // namespace sg
