// State policy parsing and resolution (grammar in policy.h).
#include "optimizers/policy.h"

#include <cstdlib>
#include <vector>

#include "engine/check.h"

namespace sg {

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

double parse_number(const std::string& s, const std::string& what) {
  char* end = nullptr;
  const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  SG_CHECK(!s.empty() && end && *end == '\0', "state policy: bad number '", s, "' in ", what);
  return v;
}

// "5x" -> 5; throws unless N > 0.
double parse_compression(const std::string& tok, const std::string& what) {
  SG_CHECK(tok.size() >= 2 && tok.back() == 'x',
           "state policy: expected a compression like '5x', got '", tok, "' in ", what);
  const double v = parse_number(tok.substr(0, tok.size() - 1), what);
  SG_CHECK(v > 0, "state policy: compression must be > 0 in ", what);
  return v;
}

StoreSpec parse_moment(const std::string& text, char* moment) {
  const std::vector<std::string> tok = split(text, ':');
  SG_CHECK(tok.size() >= 2 && (tok[0] == "m" || tok[0] == "v"),
           "state policy: expected 'm:<store>' or 'v:<store>', got '", text, "'");
  *moment = tok[0][0];
  StoreSpec s;
  if (tok[1] == "dense") {
    s.kind = StoreKind::Dense;
  } else if (tok[1] == "cs") {
    s.kind = StoreKind::CountSketch;
  } else if (tok[1] == "cm") {
    s.kind = StoreKind::CountMin;
  } else if (tok[1] == "bf16") {
    s.kind = StoreKind::Bf16;
  } else if (tok[1] == "none") {
    SG_CHECK(*moment == 'm', "state policy: only m can be 'none' (no first moment), got '", text,
             "'");
    s.kind = StoreKind::None;
  } else {
    SG_FAIL("state policy: unknown store '", tok[1], "' in '", text,
            "' (dense, bf16, cs, cm, none)");
  }
  SG_CHECK(!(*moment == 'm' && s.kind == StoreKind::CountMin),
           "state policy: m is signed and cannot live in a Count-Min sketch ('", text, "')");
  SG_CHECK(!(*moment == 'v' && s.kind == StoreKind::CountSketch),
           "state policy: v is non-negative and belongs in a Count-Min sketch, not 'cs' ('", text,
           "')");
  for (size_t i = 2; i < tok.size(); ++i) {
    const std::string& o = tok[i];
    SG_CHECK(s.kind != StoreKind::Dense && s.kind != StoreKind::None && s.kind != StoreKind::Bf16,
             "state policy: option '", o, "' on a ", store_kind_name(s.kind), " store in '", text,
             "'");
    if (!o.empty() && o.back() == 'x') {
      s.compression = parse_compression(o, text);
    } else if (o.size() >= 2 && o[0] == 'd') {
      const double d = parse_number(o.substr(1), text);
      SG_CHECK(d >= 1 && d <= kMaxSketchDepth && d == static_cast<int>(d),
               "state policy: depth must be an integer in [1, ", kMaxSketchDepth, "] in '", text,
               "'");
      s.depth = static_cast<int>(d);
    } else if (o == "lazy") {
      s.update = SketchUpdate::Lazy;
    } else if (o == "paper") {
      s.update = SketchUpdate::Paper;
    } else if (o == "cu") {
      SG_CHECK(s.kind == StoreKind::CountMin,
               "state policy: the conservative update (cu) applies to Count-Min only ('", text,
               "')");
      s.update = SketchUpdate::Conservative;
    } else if (o == "identity") {
      s.identity_hash = true;
    } else if (o == "unbounded") {
      s.unbounded = true;
    } else if (o.rfind("clean=", 0) == 0) {
      SG_CHECK(s.kind == StoreKind::CountMin, "state policy: cleaning applies to Count-Min only ('",
               text, "')");
      const std::vector<std::string> ac = split(o.substr(6), '/');
      SG_CHECK(ac.size() == 2, "state policy: expected clean=ALPHA/EVERY in '", text, "'");
      s.clean_alpha = static_cast<float>(parse_number(ac[0], text));
      const double every = parse_number(ac[1], text);
      SG_CHECK(
          s.clean_alpha >= 0 && s.clean_alpha <= 1 && every >= 0 &&
              every == static_cast<int64_t>(every),
          "state policy: clean=ALPHA/EVERY needs 0 <= ALPHA <= 1 and an integer EVERY >= 0 in '",
          text, "'");
      s.clean_every = static_cast<int64_t>(every);
    } else {
      SG_FAIL("state policy: unknown option '", o, "' in '", text,
              "' (Nx, dN, lazy, paper, cu, clean=A/C, identity, unbounded)");
    }
  }
  return s;
}
}  // namespace

StatePolicy StatePolicy::parse(const std::string& text) {
  StatePolicy p;
  p.text_ = text;
  SG_CHECK(!text.empty(),
           "state policy is empty (use 'dense', 'cs-mv', 'cs-v', or param=moment:store)");
  if (text == "dense") return p;
  if (text.find('=') == std::string::npos) {
    std::string preset = text;
    const std::string rest = "+bf16";  // e.g. cs-v-nom+bf16: what the preset leaves dense, in bf16
    if (preset.size() > rest.size() &&
        preset.compare(preset.size() - rest.size(), rest.size(), rest) == 0) {
      preset.resize(preset.size() - rest.size());
      p.rest_bf16_ = true;
      SG_CHECK(preset != "bf16" && preset != "dense", "state policy: '", text,
               "': use 'bf16' for every moment in bf16");
    }
    const std::vector<std::string> tok = split(preset, ':');
    SG_CHECK(tok.size() <= 2, "state policy: bad preset '", text, "'");
    if (tok[0] == "cs-mv") {
      p.preset_m_ = p.preset_v_ = true;
    } else if (tok[0] == "cs-v") {
      p.preset_v_ = true;
    } else if (tok[0] == "cs-m") {
      p.preset_m_ = true;
    } else if (tok[0] == "cs-v-nom") {
      p.preset_v_ = p.preset_no_m_ = true;
    } else if (tok[0] == "bf16") {
      SG_CHECK(tok.size() == 1, "state policy: 'bf16' takes no compression, got '", text, "'");
      p.preset_bf16_ = true;
    } else {
      SG_FAIL("unknown state policy '", text,
              "' (dense, bf16, cs-mv, cs-v, cs-m, cs-v-nom, an optional ':Nx' and/or '+bf16' "
              "suffix, or "
              "param=m:cs,v:cm;...)");
    }
    if (tok.size() == 2) p.preset_compression_ = parse_compression(tok[1], text);
    return p;
  }
  for (const std::string& entry : split(text, ';')) {
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    SG_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < entry.size(),
             "state policy: expected 'param=moment:store,...', got '", entry, "'");
    const std::string param = entry.substr(0, eq);
    SG_CHECK(!p.entries_.count(param), "state policy: parameter '", param, "' named twice");
    MomentStores ms;
    for (const std::string& mt : split(entry.substr(eq + 1), ',')) {
      char moment = 0;
      StoreSpec s = parse_moment(mt, &moment);
      bool& set = moment == 'm' ? ms.m_set : ms.v_set;
      SG_CHECK(!set, "state policy: moment ", moment, " of '", param, "' given twice");
      set = true;
      (moment == 'm' ? ms.m : ms.v) = s;
    }
    p.entries_[param] = ms;
  }
  SG_CHECK(!p.entries_.empty(), "state policy '", text, "' names no parameter");
  return p;
}

MomentStores StatePolicy::resolve(const std::string& param, const ParamShapeInfo& info, bool has_m,
                                  bool has_v, bool m_optional) const {
  auto it = entries_.find(param);
  if (it != entries_.end()) {
    const MomentStores& ms = it->second;
    SG_CHECK(!ms.m_set || has_m, "state policy sets m for '", param, "' but its rule keeps no m");
    SG_CHECK(!ms.v_set || has_v, "state policy sets v for '", param, "' but its rule keeps no v");
    SG_CHECK(ms.m.kind != StoreKind::None || m_optional, "state policy: m:none for '", param,
             "' needs adam or adamw (its rule cannot run without m)");
    return ms;
  }
  MomentStores ms;
  if (preset_bf16_) {  // every moment of every parameter
    if (has_m) ms.m.kind = StoreKind::Bf16;
    if (has_v) ms.v.kind = StoreKind::Bf16;
    return ms;
  }
  const bool large = info.rank >= 2 && (info.sparse_grad || info.rows >= 65536);
  if (large && preset_m_ && has_m) {
    ms.m.kind = StoreKind::CountSketch;
    ms.m.compression = preset_compression_;
  }
  if (large && preset_v_ && has_v) {
    ms.v.kind = StoreKind::CountMin;
    ms.v.compression = preset_compression_;
  }
  if (large && preset_no_m_ && has_m && m_optional) {
    ms.m.kind = StoreKind::None;
    ms.v.update = SketchUpdate::Conservative;
    ms.v.clean_alpha = 0.2f;  // the paper's cleaning for Adam (the authors' code: 0.25 every 1000)
    ms.v.clean_every = 125;
  }
  if (rest_bf16_) {
    if (has_m && ms.m.kind == StoreKind::Dense) ms.m.kind = StoreKind::Bf16;
    if (has_v && ms.v.kind == StoreKind::Dense) ms.v.kind = StoreKind::Bf16;
  }
  return ms;
}

}  // namespace sg
