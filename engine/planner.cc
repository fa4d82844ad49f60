// Memory planner: buffer requests -> byte offsets in two arenas (see planner.h).
//
//   size_i   = round_up(bytes_i, alignment)
//   persistent: offset_i = sum of size_j over earlier persistent requests j (no reuse).
//   zero-byte requests (either arena) get size 0 and offset 0.
//   step:       buffers sorted by (size desc, first asc, request index asc); each goes to the
//   smallest gap
//               [a, b) with b - a >= size_i between already placed buffers whose lifetimes [first,
//               last] intersect its own (ties: lowest offset); with no such gap it goes right above
//               the highest of those buffers. step_bytes = max(offset + size).
//   live(t)   = sum of size_i over step buffers with first_i <= t <= last_i; step_peak_live = max_t
//   live(t),
//               step_peak_op = the smallest t reaching it.
// Cost: O(n^2) in the number of step buffers (each placement scans the placed ones), fine for the
// few thousand buffers a training graph has.
#include "engine/planner.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

#include "engine/check.h"

namespace sg {

const char* category_name(Category c) {
  switch (c) {
    case Category::Parameter:
      return "parameters";
    case Category::Gradient:
      return "gradients";
    case Category::OptStateDense:
      return "opt_state_dense";
    case Category::OptStateSketch:
      return "opt_state_sketch";
    case Category::OptStateCover:
      return "opt_state_cover";
    case Category::Activation:
      return "activations";
    case Category::Workspace:
      return "workspace";
    case Category::Data:
      return "data";
    case Category::State:
      return "state";
  }
  return "unknown";
}

bool category_is_persistent(Category c) {
  return c == Category::Parameter || c == Category::OptStateDense ||
         c == Category::OptStateSketch || c == Category::OptStateCover || c == Category::State;
}

namespace {

size_t checked_add(size_t a, size_t b, const char* what) {
  SG_CHECK(a <= std::numeric_limits<size_t>::max() - b,
           "memory plan overflows size_t while computing ", what);
  return a + b;
}

size_t align_up(size_t bytes, size_t alignment, const BufferRequest& r) {
  SG_CHECK(bytes <= std::numeric_limits<size_t>::max() - (alignment - 1), "buffer '", r.name,
           "' of ", bytes, " bytes is too large to align to ", alignment, " bytes");
  return (bytes + alignment - 1) & ~(alignment - 1);
}

// A placed step buffer: bytes [begin, end) over ops [first, last].
struct Placed {
  size_t begin, end;
  int first, last;
};

}  // namespace

Plan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment) {
  SG_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0,
           "plan alignment must be a power of two, got ", alignment);
  Plan plan;
  plan.alignment = alignment;
  const size_t n = requests.size();
  plan.offsets.assign(n, 0);
  plan.sizes.assign(n, 0);

  std::vector<size_t> step;  // indices of step requests
  for (size_t i = 0; i < n; ++i) {
    const BufferRequest& r = requests[i];
    if (r.arena == Arena::Step) {
      SG_CHECK(r.first >= 0, "buffer '", r.name, "' has a negative first op index ", r.first);
      SG_CHECK(r.first <= r.last, "buffer '", r.name, "' has first op ", r.first,
               " after its last op ", r.last);
      step.push_back(i);
    } else {
      SG_CHECK(r.arena == Arena::Persistent, "buffer '", r.name, "' has an unknown arena");
    }
    plan.sizes[i] = align_up(r.bytes, alignment, r);
  }

  // Persistent arena: one range per request, in request order.
  for (size_t i = 0; i < n; ++i) {
    if (requests[i].arena != Arena::Persistent || plan.sizes[i] == 0)
      continue;  // zero bytes: offset 0
    plan.offsets[i] = plan.persistent_bytes;
    plan.persistent_bytes =
        checked_add(plan.persistent_bytes, plan.sizes[i], "the persistent arena");
  }

  // Step arena: greedy by size, best-fit gap among lifetime-overlapping placed buffers.
  std::vector<size_t> order = step;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (plan.sizes[a] != plan.sizes[b]) return plan.sizes[a] > plan.sizes[b];
    if (requests[a].first != requests[b].first) return requests[a].first < requests[b].first;
    return a < b;
  });
  std::vector<Placed> placed;  // kept sorted by (begin, end) so conflicts come out in offset order
  placed.reserve(order.size());
  for (size_t i : order) {
    const size_t size = plan.sizes[i];
    const int first = requests[i].first, last = requests[i].last;
    if (size == 0) continue;  // zero-byte buffers sit at offset 0 and block nothing
    size_t cursor = 0;        // lowest byte above every conflicting buffer seen so far
    size_t best = 0, best_gap = std::numeric_limits<size_t>::max();
    bool found = false;
    for (const Placed& p : placed) {
      if (p.last < first || p.first > last) continue;
      if (p.begin > cursor) {
        const size_t gap = p.begin - cursor;
        if (gap >= size && gap < best_gap) {
          best_gap = gap;
          best = cursor;
          found = true;
        }
      }
      cursor = std::max(cursor, p.end);
    }
    const size_t offset = found ? best : cursor;
    const size_t end = checked_add(offset, size, "the step arena");
    plan.offsets[i] = offset;
    plan.step_bytes = std::max(plan.step_bytes, end);
    Placed np{offset, end, first, last};
    auto pos =
        std::upper_bound(placed.begin(), placed.end(), np, [](const Placed& a, const Placed& b) {
          return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
    placed.insert(pos, np);
  }

  // Peak live bytes: sweep over lifetime start/end events.
  struct Event {
    int64_t op;
    size_t add, sub;
  };
  std::vector<Event> events;
  events.reserve(2 * step.size());
  for (size_t i : step) {
    events.push_back({requests[i].first, plan.sizes[i], 0});
    events.push_back({static_cast<int64_t>(requests[i].last) + 1, 0, plan.sizes[i]});
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.op < b.op; });
  size_t live = 0;
  bool have_peak = false;
  for (size_t e = 0; e < events.size();) {
    const int64_t op = events[e].op;
    size_t group_end = e;
    while (group_end < events.size() && events[group_end].op == op) ++group_end;
    for (size_t k = e; k < group_end; ++k)
      live -= events[k].sub;  // each was added at an earlier op
    for (size_t k = e; k < group_end; ++k)
      live = checked_add(live, events[k].add, "live step bytes");
    e = group_end;
    if (e == events.size()) break;  // past the last lifetime: nothing is live
    if (!have_peak || live > plan.step_peak_live) {
      plan.step_peak_live = live;
      plan.step_peak_op = static_cast<int>(op);
      have_peak = true;
    }
  }

  // Report: persistent bytes, plus step bytes live at the peak op.
  for (size_t i = 0; i < n; ++i) {
    const BufferRequest& r = requests[i];
    size_t bytes = plan.sizes[i];
    if (r.arena == Arena::Step && !(r.first <= plan.step_peak_op && plan.step_peak_op <= r.last))
      bytes = 0;
    plan.by_category[r.category] += bytes;
    plan.by_layer[r.layer] += bytes;
  }
  return plan;
}

}  // namespace sg
