// SVG rendering of a memory plan (see plan_svg.h).
//
// Layout (pixels): step plot at [kPlotX, kPlotX + kPlotW) x [kPlotY, kPlotY + kPlotH), op index o
// maps to x = kPlotX + o * kPlotW / ops and byte b to y = kPlotY + kPlotH - b * kPlotH / step_bytes
// (offset 0 at the bottom); the persistent bar has its own byte scale. Boxes narrower or shorter
// than a line of text get no label (their <title> tooltip still names them), so plans with
// thousands of buffers stay readable.
#include "engine/plan_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>

#include "engine/check.h"

namespace sg {
namespace {

constexpr double kPlotX = 80, kPlotY = 50, kPlotW = 720, kPlotH = 480;
constexpr double kBarX = 890, kBarW = 48;
constexpr double kWidth = 1180, kHeight = 640;
constexpr double kMiB = 1024.0 * 1024.0;

const char* const kColors[kNumCategories] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                             "#edc948", "#b07aa1", "#ff9da7", "#9c755f"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A 1/2/5 x 10^k step giving about `target` ticks over [0, max].
double nice_step(double max, int target) {
  if (!(max > 0)) return 1;
  const double raw = max / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Vertical byte axis at x (ticks to the left), covering [0, max_bytes] over the plot height.
void byte_axis(std::ostringstream& os, double x, size_t max_bytes) {
  const double max_mib = static_cast<double>(max_bytes) / kMiB;
  os << "<line x1=\"" << num(x) << "\" y1=\"" << num(kPlotY) << "\" x2=\"" << num(x) << "\" y2=\""
     << num(kPlotY + kPlotH) << "\" stroke=\"#333\"/>\n";
  if (max_bytes == 0) return;
  const double step = nice_step(max_mib, 6);
  for (int k = 0; k * step <= max_mib * (1 + 1e-9); ++k) {
    const double y = kPlotY + kPlotH - k * step / max_mib * kPlotH;
    os << "<line x1=\"" << num(x - 4) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x) << "\" y2=\""
       << num(y) << "\" stroke=\"#333\"/><text x=\"" << num(x - 6) << "\" y=\"" << num(y + 3)
       << "\" text-anchor=\"end\">" << tick_label(k * step) << "</text>\n";
  }
}

}  // namespace

std::string render_plan_svg(const Plan& plan, const std::vector<BufferRequest>& requests,
                            int num_ops) {
  SG_CHECK(plan.offsets.size() == requests.size() && plan.sizes.size() == requests.size(),
           "plan has ", plan.offsets.size(), " offsets but ", requests.size(),
           " requests were given");
  int64_t ops = std::max(num_ops, 1);
  for (const BufferRequest& r : requests)
    if (r.arena == Arena::Step) ops = std::max<int64_t>(ops, static_cast<int64_t>(r.last) + 1);
  const double step_max = static_cast<double>(std::max<size_t>(plan.step_bytes, 1));
  const double xs = kPlotW / static_cast<double>(ops), ys = kPlotH / step_max;

  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
     << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
     << "<rect x=\"0\" y=\"0\" width=\"" << kWidth << "\" height=\"" << kHeight
     << "\" fill=\"white\"/>\n"
     << "<text x=\"" << num(kPlotX)
     << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">step arena "
     << escape(format_bytes(plan.step_bytes)) << " (peak live "
     << escape(format_bytes(plan.step_peak_live)) << " at op " << plan.step_peak_op
     << "), persistent arena " << escape(format_bytes(plan.persistent_bytes)) << ", total "
     << escape(format_bytes(plan.total_bytes())) << "</text>\n";

  // Step arena frame, axes and ticks.
  os << "<rect x=\"" << num(kPlotX) << "\" y=\"" << num(kPlotY) << "\" width=\"" << num(kPlotW)
     << "\" height=\"" << num(kPlotH) << "\" fill=\"#f7f7f7\" stroke=\"#999\"/>\n";
  byte_axis(os, kPlotX, plan.step_bytes);
  const double xstep = std::max(1.0, std::round(nice_step(static_cast<double>(ops), 10)));
  for (int64_t k = 0; k * xstep <= ops; ++k) {
    const double x = kPlotX + k * xstep * xs;
    os << "<line x1=\"" << num(x) << "\" y1=\"" << num(kPlotY + kPlotH) << "\" x2=\"" << num(x)
       << "\" y2=\"" << num(kPlotY + kPlotH + 4) << "\" stroke=\"#333\"/><text x=\"" << num(x)
       << "\" y=\"" << num(kPlotY + kPlotH + 16) << "\" text-anchor=\"middle\">"
       << tick_label(k * xstep) << "</text>\n";
  }
  os << "<text x=\"" << num(kPlotX + kPlotW / 2) << "\" y=\"" << num(kPlotY + kPlotH + 34)
     << "\" text-anchor=\"middle\">op index</text>\n"
     << "<text x=\"18\" y=\"" << num(kPlotY + kPlotH / 2)
     << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << num(kPlotY + kPlotH / 2)
     << ")\">step offset (MiB)</text>\n";

  // One rectangle per non-empty step buffer.
  os << "<g stroke=\"#222\" stroke-width=\"0.3\">\n";
  for (size_t i = 0; i < requests.size(); ++i) {
    const BufferRequest& r = requests[i];
    if (r.arena != Arena::Step || plan.sizes[i] == 0) continue;
    const double x = kPlotX + r.first * xs, w = std::max(0.5, (r.last + 1.0 - r.first) * xs);
    const double h = std::max(0.5, static_cast<double>(plan.sizes[i]) * ys);
    const double y = kPlotY + kPlotH - static_cast<double>(plan.offsets[i] + plan.sizes[i]) * ys;
    os << "<rect class=\"step\" x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
       << "\" height=\"" << num(h) << "\" fill=\"" << kColors[static_cast<int>(r.category)]
       << "\"><title>" << escape(r.name) << " [" << escape(r.layer) << ", "
       << category_name(r.category) << "] " << escape(format_bytes(plan.sizes[i])) << ", ops "
       << r.first << ".." << r.last << ", offset " << plan.offsets[i] << "</title></rect>\n";
    const int chars = static_cast<int>((w - 4) / 6.2);
    if (h >= 12 && chars >= 4) {
      std::string label =
          r.name.size() > static_cast<size_t>(chars) ? r.name.substr(0, chars - 1) + "~" : r.name;
      os << "<text x=\"" << num(x + 2) << "\" y=\"" << num(y + std::min(h, 20.0) / 2 + 4)
         << "\" font-size=\"10\" stroke=\"none\">" << escape(label) << "</text>\n";
    }
  }
  os << "</g>\n";

  // Peak live level and peak op.
  const double peak_y = kPlotY + kPlotH - static_cast<double>(plan.step_peak_live) * ys;
  const double peak_x = kPlotX + (plan.step_peak_op + 0.5) * xs;
  os << "<line x1=\"" << num(kPlotX) << "\" y1=\"" << num(peak_y) << "\" x2=\""
     << num(kPlotX + kPlotW) << "\" y2=\"" << num(peak_y)
     << "\" stroke=\"#c00\" stroke-dasharray=\"6 3\"/>\n"
     << "<line x1=\"" << num(peak_x) << "\" y1=\"" << num(kPlotY) << "\" x2=\"" << num(peak_x)
     << "\" y2=\"" << num(kPlotY + kPlotH) << "\" stroke=\"#c00\" stroke-dasharray=\"2 3\"/>\n"
     << "<text x=\"" << num(kPlotX + kPlotW + 4) << "\" y=\"" << num(peak_y + 4)
     << "\" fill=\"#c00\">peak<title>peak live " << escape(format_bytes(plan.step_peak_live))
     << " at op " << plan.step_peak_op << "</title></text>\n";

  // Persistent arena: stacked category segments, each with its own label when tall enough.
  size_t cat_bytes[kNumCategories] = {};
  size_t cat_count[kNumCategories] = {};
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].arena != Arena::Persistent) continue;
    cat_bytes[static_cast<int>(requests[i].category)] += plan.sizes[i];
    cat_count[static_cast<int>(requests[i].category)]++;
  }
  const double pmax = static_cast<double>(std::max<size_t>(plan.persistent_bytes, 1));
  os << "<text x=\"" << num(kBarX + kBarW / 2) << "\" y=\"" << num(kPlotY - 8)
     << "\" text-anchor=\"middle\">persistent (MiB)</text>\n";
  byte_axis(os, kBarX - 2, plan.persistent_bytes);
  double base = 0;
  for (int c = 0; c < kNumCategories; ++c) {
    if (cat_bytes[c] == 0) continue;
    const double h = static_cast<double>(cat_bytes[c]) / pmax * kPlotH;
    const double y = kPlotY + kPlotH - base - h;
    const char* name = category_name(static_cast<Category>(c));
    os << "<rect class=\"persistent\" x=\"" << num(kBarX) << "\" y=\"" << num(y) << "\" width=\""
       << num(kBarW) << "\" height=\"" << num(std::max(0.5, h)) << "\" fill=\"" << kColors[c]
       << "\" stroke=\"#222\" stroke-width=\"0.3\"><title>" << name << ": "
       << escape(format_bytes(cat_bytes[c])) << " in " << cat_count[c]
       << " buffers</title></rect>\n";
    if (h >= 12)
      os << "<text x=\"" << num(kBarX + kBarW + 6) << "\" y=\"" << num(y + h / 2 + 4) << "\">"
         << name << " " << escape(format_bytes(cat_bytes[c])) << "</text>\n";
    base += h;
  }

  // Legend: every category, in order.
  const double ly = kHeight - 36;
  for (int c = 0; c < kNumCategories; ++c) {
    const double lx = kPlotX + c * 120;
    os << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly) << "\" width=\"12\" height=\"12\" fill=\""
       << kColors[c] << "\" stroke=\"#222\" stroke-width=\"0.3\"/><text x=\"" << num(lx + 16)
       << "\" y=\"" << num(ly + 10) << "\">" << category_name(static_cast<Category>(c))
       << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace sg
