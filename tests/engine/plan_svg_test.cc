// Plan SVG tests: one <rect class="step"> per non-empty step buffer, a self-contained document
// whose tags balance, escaped names, a legend with every category, and a bounded size for thousands
// of buffers.
#include "engine/plan_svg.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/check.h"
#include "engine/planner.h"

namespace sg {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

BufferRequest req(const std::string& name, size_t bytes, Arena arena, Category c, int first,
                  int last) {
  BufferRequest r;
  r.name = name;
  r.layer = "layer<1>";
  r.bytes = bytes;
  r.arena = arena;
  r.category = c;
  r.first = first;
  r.last = last;
  return r;
}

// Every '<' opens a tag that closes with '>' and no raw '<' / '&' appears inside text or attribute
// values (the text between tags never holds '<'); element open/close counts balance.
void expect_well_formed(const std::string& svg) {
  ASSERT_EQ(svg.rfind("<svg", 0), 0u);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  int depth = 0;
  for (size_t p = 0; p < svg.size();) {
    const size_t lt = svg.find('<', p);
    if (lt == std::string::npos) break;
    const size_t gt = svg.find('>', lt);
    ASSERT_NE(gt, std::string::npos);
    const std::string tag = svg.substr(lt, gt - lt + 1);
    EXPECT_EQ(tag.find('<', 1), std::string::npos) << tag;
    if (tag[1] == '/') {
      --depth;
    } else if (tag[tag.size() - 2] != '/') {
      ++depth;
    }
    EXPECT_GE(depth, 0);
    // Text up to the next tag must not contain a bare '&' that is not an entity.
    const size_t next = svg.find('<', gt);
    const std::string text =
        svg.substr(gt + 1, (next == std::string::npos ? svg.size() : next) - gt - 1);
    for (size_t a = text.find('&'); a != std::string::npos; a = text.find('&', a + 1))
      EXPECT_NE(text.find(';', a), std::string::npos) << text;
    p = gt + 1;
  }
  EXPECT_EQ(depth, 0);
}

TEST(PlanSvg, OneRectPerNonEmptyStepBuffer) {
  std::vector<BufferRequest> reqs = {
      req("W<embed>&\"x\"", 1 << 20, Arena::Persistent, Category::Parameter, 0, 0),
      req("m", 1 << 19, Arena::Persistent, Category::OptStateSketch, 0, 0),
      req("act<0>", 1 << 20, Arena::Step, Category::Activation, 0, 3),
      req("grad", 1 << 18, Arena::Step, Category::Gradient, 2, 5),
      req("empty", 0, Arena::Step, Category::Workspace, 1, 1),
      req("ws", 100, Arena::Step, Category::Workspace, 4, 4),
  };
  const Plan plan = plan_memory(reqs);
  const std::string svg = render_plan_svg(plan, reqs, 6);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<rect class=\"step\""), 3u);
  EXPECT_EQ(count(svg, "<rect class=\"persistent\""), 2u);  // one segment per persistent category
  EXPECT_EQ(svg.find("act<0>"), std::string::npos);
  EXPECT_NE(svg.find("act&lt;0&gt;"), std::string::npos);
  EXPECT_NE(svg.find("layer&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("W<embed>"), std::string::npos);
  for (int c = 0; c < kNumCategories; ++c)
    EXPECT_NE(svg.find(category_name(static_cast<Category>(c))), std::string::npos);
  for (const char* s : {"op index", "MiB", "peak live", "<title>"})
    EXPECT_NE(svg.find(s), std::string::npos) << s;
}

TEST(PlanSvg, EmptyPlanIsStillADocument) {
  const Plan plan = plan_memory({});
  const std::string svg = render_plan_svg(plan, {}, 0);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "class=\"step\""), 0u);
}

TEST(PlanSvg, ThousandsOfBuffersStayCompact) {
  std::mt19937 rng(3);
  std::vector<BufferRequest> reqs;
  for (int i = 0; i < 3000; ++i) {
    const int first = static_cast<int>(rng() % 500);
    reqs.push_back(req("buf" + std::to_string(i), 256 + rng() % 100000, Arena::Step,
                       static_cast<Category>(rng() % kNumCategories), first,
                       first + static_cast<int>(rng() % 20)));
  }
  reqs.push_back(req("huge", size_t{64} << 20, Arena::Step, Category::Activation, 0, 519));
  const Plan plan = plan_memory(reqs);
  const std::string svg = render_plan_svg(plan, reqs, 100);  // num_ops widened to cover lifetimes
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<rect class=\"step\""), reqs.size());
  // Labels only for boxes big enough to hold text: far fewer <text> elements than buffers.
  EXPECT_LT(count(svg, "<text"), 200u);
  EXPECT_NE(svg.find(">huge<"), std::string::npos);  // the big box is labelled
  EXPECT_LT(svg.size(), 3000u * 400u);
}

TEST(PlanSvg, MismatchedPlanThrows) {
  std::vector<BufferRequest> reqs = {req("a", 10, Arena::Step, Category::Data, 0, 0)};
  const Plan plan = plan_memory(reqs);
  reqs.push_back(reqs[0]);
  EXPECT_THROW(render_plan_svg(plan, reqs, 1), Error);
}

}  // namespace
}  // namespace sg
