// Graph construction and reverse-mode autograd (see graph.h). Backward walks the forward nodes in
// reverse, sums each value's gradient contributions with explicit add ops, and asks each op to
// append its gradient ops.
#include "engine/graph.h"

#include <algorithm>

namespace sg {

// Defined in engine/ops/: the two ops autograd itself needs.
std::shared_ptr<const Op> make_fill_op(float value);
std::shared_ptr<const Op> make_add_op();

void Op::backward(Graph&, const Node&, const std::vector<Grad>&, std::vector<Grad>&) const {
  SG_FAIL("op ", type(), " is not differentiable");
}

size_t Graph::check_id(ValueId v) const {
  SG_CHECK(v >= 0 && static_cast<size_t>(v) < values_.size(), "invalid value id ", v);
  return static_cast<size_t>(v);
}

ValueId Graph::new_value(const std::string& name, Shape shape, DType dtype, Category cat) {
  for (int64_t d : shape.dims)
    SG_CHECK(d >= 0, "value '", name, "' has a negative dimension: ", shape.str());
  Value v;
  v.name = layer_.empty() ? name : layer_ + "/" + name;
  v.layer = layer_;
  v.shape = std::move(shape);
  v.dtype = dtype;
  v.category = cat;
  values_.push_back(std::move(v));
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId Graph::input(const std::string& name, Shape shape, DType dtype) {
  return new_value(name, std::move(shape), dtype, Category::Data);
}

ValueId Graph::parameter(const std::string& name, Shape shape) {
  ValueId id = new_value(name, std::move(shape), DType::F32, Category::Parameter);
  values_[id].requires_grad = true;
  return id;
}

ValueId Graph::state(const std::string& name, Shape shape) {
  return new_value(name, std::move(shape), DType::F32, Category::State);
}

std::vector<ValueId> Graph::add(std::shared_ptr<const Op> op, std::vector<ValueId> inputs,
                                std::vector<ValueSpec> outputs) {
  SG_CHECK(op, "null op");
  SG_CHECK(num_forward_ < 0 || building_backward_,
           "graph is closed: backward() was already called");
  bool needs_grad = false;
  for (ValueId v : inputs) needs_grad |= value(v).requires_grad;
  Node n;
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  n.layer = layer_;
  n.backward = building_backward_;
  int index = static_cast<int>(nodes_.size());
  for (auto& spec : outputs) {
    Category cat = spec.category;
    if (building_backward_ && cat == Category::Activation) cat = Category::Gradient;
    ValueId id = new_value(spec.name, std::move(spec.shape), spec.dtype, cat);
    values_[id].producer = index;
    values_[id].requires_grad = needs_grad && !building_backward_ && spec.dtype == DType::F32;
    n.outputs.push_back(id);
  }
  nodes_.push_back(std::move(n));
  return nodes_.back().outputs;
}

ValueId Graph::add1(std::shared_ptr<const Op> op, std::vector<ValueId> inputs, ValueSpec output) {
  std::vector<ValueSpec> outs;
  outs.push_back(std::move(output));
  return add(std::move(op), std::move(inputs), std::move(outs))[0];
}

std::vector<ValueId> Graph::parameters() const {
  std::vector<ValueId> ps;
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i].category == Category::Parameter) ps.push_back(static_cast<ValueId>(i));
  return ps;
}

namespace {

// Sums the gradient contributions of one value with explicit add ops. Row-sparse contributions
// cannot be summed with anything yet (no model here shares a sparse parameter), so that is a clear
// error.
Grad sum_contributions(Graph& g, const Value& v, const std::vector<Grad>& parts) {
  if (parts.empty()) return Grad{};
  if (parts.size() == 1) return parts[0];
  Grad acc = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    SG_CHECK(!acc.is_sparse() && !parts[i].is_sparse(), "value '", v.name,
             "' receives several gradients and one is row-sparse: summing those is not supported");
    acc.dense = g.add1(make_add_op(), {acc.dense, parts[i].dense},
                       ValueSpec{v.name + ".grad_sum", v.shape, DType::F32, Category::Gradient});
  }
  return acc;
}

}  // namespace

std::map<ValueId, Grad> Graph::backward(ValueId loss) {
  SG_CHECK(num_forward_ < 0, "backward() was already called on this graph");
  const Value& lv = value(loss);
  SG_CHECK(lv.shape.numel() == 1 && lv.dtype == DType::F32, "loss must be a single f32 value, got ",
           lv.shape.str());
  SG_CHECK(lv.requires_grad, "loss '", lv.name, "' does not depend on any parameter");
  num_forward_ = static_cast<int>(nodes_.size());
  building_backward_ = true;
  keep(loss);

  std::vector<std::vector<Grad>> contrib(values_.size());
  {
    LayerScope scope(*this, lv.layer);
    Grad seed;
    seed.dense = add1(make_fill_op(1.0f), {},
                      ValueSpec{"loss.grad", lv.shape, DType::F32, Category::Gradient});
    contrib[loss].push_back(seed);
  }

  for (int i = num_forward_ - 1; i >= 0; --i) {
    const Node node = nodes_[i];  // copy: backward() appends nodes and may reallocate the vector
    std::vector<Grad> out_grads(node.outputs.size());
    bool any = false;
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      ValueId o = node.outputs[k];
      if (static_cast<size_t>(o) < contrib.size() && !contrib[o].empty()) {
        LayerScope scope(*this, node.layer);
        out_grads[k] = sum_contributions(*this, values_[o], contrib[o]);
        any = true;
      }
    }
    if (!any) continue;
    bool wants = false;
    for (ValueId in : node.inputs) wants |= values_[in].requires_grad;
    if (!wants) continue;
    std::vector<Grad> in_grads(node.inputs.size());
    {
      LayerScope scope(*this, node.layer);
      node.op->backward(*this, node, out_grads, in_grads);
    }
    contrib.resize(values_.size());
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (!in_grads[k].defined()) continue;
      ValueId in = node.inputs[k];
      if (!values_[in].requires_grad) continue;
      contrib[in].push_back(in_grads[k]);
    }
  }

  std::map<ValueId, Grad> result;
  for (ValueId p : parameters()) {
    if (contrib[p].empty()) continue;
    LayerScope scope(*this, values_[p].layer);
    result[p] = sum_contributions(*this, values_[p], contrib[p]);
  }
  building_backward_ = false;
  return result;
}

}  // namespace sg
