// SVG picture of a memory plan: the step arena as one rectangle per buffer (x = op indices [first,
// last + 1), y = bytes [offset, offset + size), coloured by category, tooltip with name / size /
// lifetime), the peak-live level, and the persistent arena as a bar of stacked category segments
// beside it, with a legend.
#pragma once
#include <string>
#include <vector>

#include "engine/planner.h"

namespace sg {

// A self-contained SVG document (starts with "<svg", ends with "</svg>\n"). num_ops is the number
// of op indices to draw; it is widened to cover every step buffer's lifetime. Step buffers of zero
// bytes are not drawn; each other step buffer is one <rect class="step">. Throws sg::Error when
// plan and requests differ in length.
std::string render_plan_svg(const Plan& plan, const std::vector<BufferRequest>& requests,
                            int num_ops);

}  // namespace sg
