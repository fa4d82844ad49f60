// Plan reporting: the budget check, the text table, and byte-size formatting/parsing (see
// planner.h).
//
//   format_bytes: B below 1 KiB, else KiB / MiB / GiB / TiB (powers of 1024) with two decimals.
//   parse_bytes:  NUMBER [space] [UNIT], NUMBER = digits [. digits] [e [+|-] digits], units
//   case-insensitive:
//                 B; K, KB = 10^3; KiB = 2^10; M, MB = 10^6; MiB = 2^20; G, GB = 10^9; GiB = 2^30;
//                 T, TB = 10^12; TiB = 2^40. The value is computed exactly (128-bit integers) and
//                 rounded to the nearest byte; negative, empty, malformed or out-of-range text
//                 throws sg::Error.
#include <cctype>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <sstream>

#include "engine/check.h"
#include "engine/planner.h"

namespace sg {

std::string format_bytes(size_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  int u = 0;
  while (v >= 1024.0 && u < 3) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, kUnits[u]);
  return buf;
}

namespace {

using u128 = unsigned __int128;

[[noreturn]] void bad_bytes(const std::string& text, const char* why) {
  SG_FAIL("invalid byte size '", text, "': ", why,
          " (expected e.g. 123, 1e9, 512M, 512MiB, 8G, 8GB, 8GiB; K/M/G/T = 10^3.., "
          "KiB/MiB/GiB/TiB = 2^10..)");
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Multiplier for a (lower-cased) unit, or 0 when unknown.
u128 unit_multiplier(const std::string& u) {
  if (u.empty() || u == "b") return 1;
  const char prefixes[] = {'k', 'm', 'g', 't'};
  for (int p = 0; p < 4; ++p) {
    if (u[0] != prefixes[p]) continue;
    u128 si = 1, bin = 1;
    for (int k = 0; k <= p; ++k) {
      si *= 1000;
      bin *= 1024;
    }
    const std::string rest = u.substr(1);
    if (rest.empty() || rest == "b") return si;
    if (rest == "ib") return bin;
    return 0;
  }
  return 0;
}

}  // namespace

size_t parse_bytes(const std::string& text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  if (b == e) bad_bytes(text, "empty");
  const std::string s = text.substr(b, e - b);
  if (s[0] == '-') bad_bytes(text, "negative");

  // Mantissa as an integer with a decimal exponent: value = mant * 10^exp10.
  const u128 kMantLimit = static_cast<u128>(1)
                          << 80;  // ~24 significant digits; the rest are dropped
  u128 mant = 0;
  int64_t exp10 = 0;
  size_t i = 0, digits = 0;
  auto take_digit = [&](char c, bool fraction) {
    if (mant < kMantLimit) {
      mant = mant * 10 + static_cast<unsigned>(c - '0');
      if (fraction) --exp10;
    } else if (!fraction) {
      ++exp10;
    }
    ++digits;
  };
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i)
    take_digit(s[i], false);
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i)
      take_digit(s[i], true);
  }
  if (digits == 0) bad_bytes(text, "no number");
  // An exponent is 'e' followed by a digit or sign ("1e9", "2E+3"); "20EB" is 20 exabytes.
  if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '+' || s[i + 1] == '-')) {
    ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    int64_t ev = 0;
    size_t edigits = 0;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++edigits)
      if (ev < 100000) ev = ev * 10 + (s[i] - '0');
    if (edigits == 0) bad_bytes(text, "exponent without digits");
    exp10 += neg ? -ev : ev;
  }
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  const u128 mult = unit_multiplier(lower(s.substr(i)));
  if (mult == 0) bad_bytes(text, "unknown unit");

  const u128 kMax = std::numeric_limits<size_t>::max();
  if (mant == 0) return 0;
  u128 value = mant * mult;  // mant < 2^84 and mult < 2^41: no 128-bit overflow
  if (exp10 >= 0) {
    for (int64_t k = 0; k < exp10; ++k) {
      if (value > kMax) bad_bytes(text, "too large");
      value *= 10;
    }
  } else {
    // Divide by 10^-exp10 with rounding to the nearest byte.
    u128 div = 1;
    for (int64_t k = 0; k < -exp10; ++k) {
      if (div > value) return 0;  // far below half a byte
      div *= 10;
    }
    value = (value + div / 2) / div;
  }
  if (value > kMax) bad_bytes(text, "too large");
  return static_cast<size_t>(value);
}

void check_budget(const Plan& plan, size_t budget_bytes) {
  SG_CHECK(plan.total_bytes() <= budget_bytes, "plan needs ", format_bytes(plan.total_bytes()),
           " (persistent ", format_bytes(plan.persistent_bytes), " + step ",
           format_bytes(plan.step_bytes), ") but the budget is ", format_bytes(budget_bytes));
}

namespace {

std::string mib(size_t bytes) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string pct(size_t part, size_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", whole ? 100.0 * part / whole : 0.0);
  return buf;
}

}  // namespace

std::string format_plan(const Plan& plan, const std::vector<BufferRequest>& requests) {
  const size_t total = plan.total_bytes();
  const size_t frag =
      plan.step_bytes >= plan.step_peak_live ? plan.step_bytes - plan.step_peak_live : 0;
  size_t n_persistent = 0, n_step = 0;
  for (const BufferRequest& r : requests) (r.arena == Arena::Persistent ? n_persistent : n_step)++;

  size_t name_w = 24;
  for (const auto& [layer, bytes] : plan.by_layer) name_w = std::max(name_w, layer.size() + 2);
  std::ostringstream os;
  auto row = [&](const std::string& name, size_t bytes) {
    os << "  " << std::left << std::setw(static_cast<int>(name_w)) << name << std::right
       << std::setw(12) << mib(bytes) << std::setw(8) << pct(bytes, total) << "\n";
  };
  auto header = [&](const std::string& title) {
    os << std::left << std::setw(static_cast<int>(name_w) + 2) << title << std::right
       << std::setw(12) << "MiB" << std::setw(8) << "%"
       << "\n";
  };

  os << "memory plan: " << requests.size() << " buffers, alignment " << plan.alignment
     << " B; step buffers counted at the peak op " << plan.step_peak_op << "\n";
  header("by category");
  for (int c = 0; c < kNumCategories; ++c) {
    auto it = plan.by_category.find(static_cast<Category>(c));
    row(category_name(static_cast<Category>(c)), it == plan.by_category.end() ? 0 : it->second);
  }
  row("fragmentation", frag);
  row("total", total);
  os << "\n";
  header("by layer");
  for (const auto& [layer, bytes] : plan.by_layer) row(layer.empty() ? "(none)" : layer, bytes);
  row("fragmentation", frag);
  row("total", total);
  os << "\n";
  header("arenas");
  row("persistent (" + std::to_string(n_persistent) + " buffers)", plan.persistent_bytes);
  row("step (" + std::to_string(n_step) + " buffers)", plan.step_bytes);
  row("  peak live (op " + std::to_string(plan.step_peak_op) + ")", plan.step_peak_live);
  row("  fragmentation", frag);
  row("total", total);
  os << "total: " << format_bytes(total) << " (persistent " << format_bytes(plan.persistent_bytes)
     << " + step " << format_bytes(plan.step_bytes) << ")\n";
  return os.str();
}

}  // namespace sg
