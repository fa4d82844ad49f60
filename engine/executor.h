// Executor: plans every buffer of a graph (values, op workspaces, and extra requests such as
// optimizer state), allocates the persistent and the step arena once on a backend, binds each value
// to its offset, and runs the op sequence. A training step allocates nothing.
//
// Lifetimes given to the planner (op indices; N = number of nodes):
//   persistent values (Parameter, State) and extra persistent requests: whole run;
//   inputs (Data): [0, last use]; other values: [producer, last use]; a value nobody reads:
//   [producer, producer]; kept values and parameter gradients: until N (the optimizer phase, which
//   runs after the last node); op workspaces: [i, i]; extra step requests with first = last =
//   kOptimizerPhase: [N, N]; the matrix products' workspace (options.gemm_scratch_bytes):
//   [0, N - 1].
// Values bound with `external` (e.g. an eval graph sharing the training graph's parameters) are not
// planned.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/graph.h"
#include "engine/planner.h"

namespace sg {

constexpr int kOptimizerPhase = -2;

class Executor;

struct ExecutorOptions {
  std::map<std::string, Tensor>
      external;  // value name -> existing memory (same shape/dtype/device)
  std::vector<BufferRequest>
      extra;  // e.g. optimizer state; first/last = kOptimizerPhase for step temps
  std::vector<ValueId> grads_to_keep;  // gradient values the optimizer reads after the last node
  // Workspace of the matrix products (CPU: sgemm packing scratch, engine/cpu/gemm_scratch.h; CUDA:
  // cuBLAS's workspace), planned in the step arena over the whole op sequence and bound to the
  // backend during run(). An Executor sets it to gemm_workspace_bytes(device, threads) itself;
  // `plan` sets it the same way.
  size_t gemm_scratch_bytes = 0;
  // Run on that executor's scratch instead of planning one (the evaluation graph beside the
  // training graph: the two never run at the same time). It must outlive this one.
  const Executor* share_gemm_scratch = nullptr;
};

// The buffer requests an Executor would plan for a graph (values, workspaces, then options.extra),
// without allocating anything: what `sketchgrad plan` reports. value_request[v] /
// workspace_request[node] index into requests (-1: external value / no workspace); options.extra[i]
// is requests[extra_begin + i].
struct GraphRequests {
  std::vector<BufferRequest> requests;
  std::vector<int> value_request;
  std::vector<int> workspace_request;
  int gemm_workspace_request = -1;  // options.gemm_scratch_bytes' request, -1 when none
  size_t extra_begin = 0;
};
GraphRequests collect_requests(const Graph& g, const ExecutorOptions& opts);

// Time spent per op type (forward and backward separately) while profiling is on.
struct OpProfile {
  std::string op;
  int64_t calls = 0;
  double seconds = 0;
};

class Executor {
 public:
  Executor(const Graph& g, Backend& be, ExecutorOptions opts = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs nodes [0, end) with end = all nodes by default; forward_only stops before the first
  // backward node.
  void run(int64_t step, uint64_t seed, bool training, bool forward_only = false);

  Tensor tensor(ValueId v) const;
  Tensor tensor(const std::string& name) const;  // throws if no such value
  void* extra(size_t i) const;                   // memory of options.extra[i]
  Tensor extra_tensor(size_t i, Shape shape, DType dtype = DType::F32) const;

  const Plan& plan() const { return plan_; }
  // Per-op wall time (synchronizing the device after each op; slows the run a little). Resets the
  // counters.
  void set_profiling(bool on);
  std::vector<OpProfile> profile() const;
  const std::vector<BufferRequest>& requests() const { return requests_; }
  Backend& backend() const { return be_; }
  const Graph& graph() const { return g_; }

  // Host <-> value helpers (batches, tests, initialisation, metrics). upload does not wait for the
  // device (Backend::upload); download does.
  void upload(ValueId v, const void* host, size_t bytes);
  void download(ValueId v, void* host, size_t bytes) const;
  std::vector<float> read_f32(ValueId v) const;

 private:
  const Graph& g_;
  Backend& be_;
  ExecutorOptions opts_;
  std::vector<BufferRequest> requests_;
  Plan plan_;
  std::vector<int> value_request_;      // value -> request index, -1 when external
  std::vector<int> workspace_request_;  // node -> request index, -1 when none
  std::vector<Tensor> bound_;           // value -> tensor
  std::vector<void*> extra_ptrs_;       // options.extra[i] -> memory
  void* gemm_scratch_ = nullptr;        // the products' scratch (planned here, or shared)
  size_t gemm_scratch_bytes_ = 0;
  std::vector<OpContext> contexts_;  // one per node, built once
  bool profiling_ = false;
  std::vector<double> op_seconds_;
  std::vector<int64_t> op_calls_;
  void* persistent_ = nullptr;
  void* step_ = nullptr;
};

}  // namespace sg
