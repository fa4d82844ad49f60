// Memory planner: a pure function from buffer requests (byte size, category, arena, lifetime) to
// byte offsets in two arenas, plus a report. Needs no device, so a laptop can plan a GPU run.
//
//   persistent arena: parameters, optimizer state, carried LSTM state; every buffer lives for the
//                     whole run and gets its own range (no reuse).
//   step arena:       activations, gradients, data, workspaces; a buffer lives over op indices
//                     [first, last] (inclusive). Two buffers may share bytes only when their
//                     lifetimes do not overlap. Offsets are assigned greedily, largest buffer
//                     first (ties: earlier first, then request order), each at the best-fitting
//                     (smallest sufficient) gap among already placed buffers whose lifetimes
//                     overlap it. Deterministic for the same requests.
// Every offset and size is rounded up to `alignment` bytes (256 by default: the CUDA allocation
// granularity).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sg {

enum class Category : uint8_t {
  Parameter,
  Gradient,
  OptStateDense,   // optimizer state in dense stores (and error-feedback residuals)
  OptStateSketch,  // optimizer state in Count-Sketch / Count-Min stores
  OptStateCover,   // optimizer state in SM3 row/column covers
  Activation,
  Workspace,  // temporaries and library (cuBLAS/cuDNN/Thrust) workspaces
  Data,       // input batch (ids, targets)
  State,      // carried recurrent state (truncated BPTT)
};
constexpr int kNumCategories = 9;
const char* category_name(Category c);
bool category_is_persistent(Category c);  // Parameter, OptState*, State

enum class Arena : uint8_t { Persistent, Step };

struct BufferRequest {
  std::string name;   // e.g. "lstm0/W", "softmax/logits.grad"
  std::string layer;  // for the by-layer report, e.g. "embedding", "lstm0", "softmax", "optimizer"
  size_t bytes = 0;
  Category category = Category::Activation;
  Arena arena = Arena::Step;
  int first = 0;  // first op index that touches it (step arena only)
  int last = 0;   // last op index that touches it, inclusive (step arena only)
};

struct Plan {
  size_t alignment = 256;
  std::vector<size_t> offsets;  // one per request, within its arena
  std::vector<size_t> sizes;    // aligned sizes, one per request
  size_t persistent_bytes = 0;  // persistent arena size
  size_t step_bytes = 0;        // step arena size (max offset + size)
  size_t step_peak_live = 0;    // max over op indices of the sum of aligned sizes live at that op
  int step_peak_op = 0;         // op index where step_peak_live is reached
  size_t total_bytes() const { return persistent_bytes + step_bytes; }
  std::map<Category, size_t>
      by_category;  // aligned bytes requested per category (step: at peak op)
  std::map<std::string, size_t> by_layer;  // aligned bytes requested per layer (same convention)
};

// Plans the requests. Throws sg::Error on malformed input (first > last, negative first).
Plan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment = 256);

// Throws sg::Error with one line ("plan needs X but the budget is Y") when plan.total_bytes() >
// budget.
void check_budget(const Plan& plan, size_t budget_bytes);

// Human-readable table of a plan: by category, then by layer, then arena sizes.
std::string format_plan(const Plan& plan, const std::vector<BufferRequest>& requests);

// "1.50 GiB" style sizes, and parsing of "8G", "512MiB", "1e9", "10813MB" (MB = 10^6, MiB = 2^20).
std::string format_bytes(size_t bytes);
size_t parse_bytes(const std::string& text);  // throws sg::Error on malformed text

}  // namespace sg
