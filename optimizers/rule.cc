// Rule names (see rule.h).
#include "optimizers/rule.h"

#include "engine/check.h"

namespace sg {

namespace {
struct Named {
  const char* name;
  RuleKind kind;
};
constexpr Named kRules[] = {{"sgd", RuleKind::Sgd},
                            {"momentum", RuleKind::Momentum},
                            {"nesterov", RuleKind::Nesterov},
                            {"adagrad", RuleKind::Adagrad},
                            {"rmsprop", RuleKind::RmsProp},
                            {"adam", RuleKind::Adam},
                            {"adamw", RuleKind::AdamW},
                            {"sm3", RuleKind::Sm3},
                            {"sm3-momentum", RuleKind::Sm3Momentum},
                            {"topk-sgd", RuleKind::TopK},
                            {"randk-sgd", RuleKind::RandK},
                            {"topk-sgd-nofeedback", RuleKind::TopKNoFeedback}};
}  // namespace

RuleKind parse_rule(const std::string& name) {
  for (const Named& r : kRules)
    if (name == r.name) return r.kind;
  SG_FAIL("unknown optimizer rule '", name,
          "' (known: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, sm3, sm3-momentum, "
          "topk-sgd, "
          "randk-sgd, topk-sgd-nofeedback)");
}

const char* rule_name(RuleKind r) {
  for (const Named& n : kRules)
    if (n.kind == r) return n.name;
  return "?";
}

bool rule_has_m(RuleKind r) {
  return r == RuleKind::Momentum || r == RuleKind::Nesterov || r == RuleKind::Adam ||
         r == RuleKind::AdamW || r == RuleKind::Sm3Momentum;
}

bool rule_has_v(RuleKind r) {
  return r == RuleKind::Adagrad || r == RuleKind::RmsProp || r == RuleKind::Adam ||
         r == RuleKind::AdamW;
}

}  // namespace sg
