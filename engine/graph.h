// Graph and autograd. A model is built once per shape configuration as a list of nodes (ops) over
// symbolic values (shape and dtype known, no memory). Graph::backward(loss) appends the gradient
// ops to the same list, so one linear op sequence holds forward then backward; the planner sees
// every buffer's lifetime in op indices.
//
// Gradients are explicit values. A value used by several ops receives one gradient per use;
// backward sums them with explicit add ops. A gradient is either dense (one value of the same
// shape) or row-sparse:
//   ids   i32 [n]    unique row ids, ascending, the first count[0] entries valid
//   rows  f32 [n, d] the summed gradient rows for those ids (rows past count[0] are unspecified)
//   count i32 [1]    number of valid rows (lives in device memory: no host round trip)
// n is an upper bound known when the graph is built (e.g. B*T tokens for an embedding).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/planner.h"
#include "engine/tensor.h"

namespace sg {

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

struct Value {
  std::string name;
  std::string layer;
  Shape shape;
  DType dtype = DType::F32;
  Category category = Category::Activation;
  int producer = -1;           // node index, -1 for inputs/parameters/state
  bool requires_grad = false;  // a parameter, or computed from one
};

struct SparseRows {
  ValueId ids = kNoValue, rows = kNoValue, count = kNoValue;
};

struct Grad {
  ValueId dense = kNoValue;
  SparseRows sparse;
  bool is_sparse() const { return sparse.rows != kNoValue; }
  bool defined() const { return dense != kNoValue || is_sparse(); }
  // The values that hold this gradient: {dense}, or {ids, rows, count} of a row-sparse one.
  std::vector<ValueId> values() const {
    if (is_sparse()) return {sparse.ids, sparse.rows, sparse.count};
    return {dense};
  }
};

// Every value holding one of these gradients, in map order: what ExecutorOptions::grads_to_keep
// needs so the gradients survive the step for the caller (optimizer, tests, benchmarks).
inline std::vector<ValueId> grad_values(const std::map<ValueId, Grad>& grads) {
  std::vector<ValueId> out;
  for (const auto& kv : grads)
    for (ValueId v : kv.second.values()) out.push_back(v);
  return out;
}

class Graph;
class Backend;
struct Node;

// What an op sees when it runs: its input/output tensors bound to arena memory, its workspace, and
// the step.
struct OpContext {
  Backend& be;
  const Node& node;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  int64_t step = 0;   // global training step (RNG streams for dropout and sampling derive from it)
  uint64_t seed = 0;  // run seed
  bool training = true;
  const Tensor& in(int i) const { return inputs.at(i); }
  const Tensor& out(int i) const { return outputs.at(i); }
};

class Op {
 public:
  virtual ~Op() = default;
  virtual std::string type() const = 0;
  // Computes the outputs from the inputs. May also overwrite inputs of category State (carried LSTM
  // state).
  virtual void run(OpContext& ctx) const = 0;
  // Appends the ops computing gradients of the inputs from the gradients of the outputs.
  // out_grads[i] is undefined when no gradient flows into output i. Set in_grads[i] only for inputs
  // that require a gradient. The default throws "op X is not differentiable".
  virtual void backward(Graph& g, const Node& node, const std::vector<Grad>& out_grads,
                        std::vector<Grad>& in_grads) const;
  // Temporary bytes the op needs while it runs (planned as a Workspace buffer living for this op
  // only).
  virtual size_t workspace_bytes(const Graph& g, const Node& node) const { return 0; }
};

struct Node {
  std::shared_ptr<const Op> op;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::string layer;
  bool backward = false;  // appended by Graph::backward
};

struct ValueSpec {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
  Category category = Category::Activation;
};

class Graph {
 public:
  // Leaves.
  ValueId input(const std::string& name, Shape shape, DType dtype = DType::F32);  // Data
  ValueId parameter(const std::string& name, Shape shape);  // Parameter, requires grad
  ValueId state(const std::string& name, Shape shape);      // carried State
  // Appends a node; output categories default to Activation (Gradient while building backward).
  std::vector<ValueId> add(std::shared_ptr<const Op> op, std::vector<ValueId> inputs,
                           std::vector<ValueSpec> outputs);
  ValueId add1(std::shared_ptr<const Op> op, std::vector<ValueId> inputs, ValueSpec output);

  // Appends backward ops for the scalar loss (shape [1]); returns the gradient of every parameter
  // that the loss depends on. Call once.
  std::map<ValueId, Grad> backward(ValueId loss);

  // Values that must stay alive until the end of the step (loss, metrics): their lifetime ends
  // after the last op.
  void keep(ValueId v) { kept_.push_back(v); }
  const std::vector<ValueId>& kept() const { return kept_; }

  // Layer scope for names and the by-layer memory report: values and nodes created while a
  // LayerScope is alive get its name as their layer and "layer/" as a name prefix.
  class LayerScope {
   public:
    LayerScope(Graph& g, std::string layer) : g_(g), saved_(g.layer_) {
      g.layer_ = std::move(layer);
    }
    ~LayerScope() { g_.layer_ = saved_; }

   private:
    Graph& g_;
    std::string saved_;
  };

  const Value& value(ValueId v) const { return values_.at(check_id(v)); }
  Value& value(ValueId v) { return values_.at(check_id(v)); }
  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  int num_forward_nodes() const { return num_forward_; }
  bool building_backward() const { return building_backward_; }
  std::vector<ValueId> parameters() const;

 private:
  ValueId new_value(const std::string& name, Shape shape, DType dtype, Category cat);
  size_t check_id(ValueId v) const;
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> kept_;
  std::string layer_;
  int num_forward_ = -1;  // set by backward(); -1 means all nodes are forward
  bool building_backward_ = false;
};

}  // namespace sg
