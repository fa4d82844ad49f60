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
  back.restore(b.metadata());
  EXPECT_EQ(back.step, 40);
  EXPECT_EQ(back.perplexity, b.perplexity);  // 17 digits: the same double
  BestHeldout none;
  none.restore({{"step", "3"}});  // an older checkpoint: nothing known
  EXPECT_FALSE(none.known());
}

}  // namespace
}  // namespace sg
