//===- SvgPlot.h - A Pareto front as a self-contained SVG -------*- C++ -*-===//
//
// DIR/front.svg (docs/Search.md §5): every evaluated point as a small grey
// circle (hollow when infeasible), the front as larger coloured circles
// joined by a step line, a dashed vertical line at the latency budget,
// axes with "nice" ticks and a grid.  Each point's label is its tooltip.
// No scripts, no external references.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_SVGPLOT_H
#define ATTN_SEARCH_SVGPLOT_H

#include <optional>
#include <string>
#include <vector>

namespace attn::search {

struct PlotPoint {
  double x = 0, y = 0;
  bool feasible = true;
  bool onFront = false;
  /// The tooltip (the point's config, say).
  std::string label;
};

struct PlotData {
  std::string title, xLabel, yLabel;
  std::vector<PlotPoint> points;
  /// Where to draw the budget line (an x value).
  std::optional<double> xBudget;
  bool logX = false, logY = false;
};

/// The SVG document.  Points with a non-finite coordinate, or one <= 0 on a
/// log axis, are left out (and counted in a note); every other point is one
/// <circle>.  0 or 1 point and equal ranges give a valid plot.
std::string renderFrontSvg(const PlotData &data);

/// About `count` round tick values (steps of 1, 2 or 5 times a power of
/// ten) covering [lo, hi]: the first <= lo, the last >= hi.
std::vector<double> niceTicks(double lo, double hi, int count = 5);

/// `text` with & < > " ' escaped, characters XML 1.0 forbids dropped and
/// invalid UTF-8 bytes replaced by '?'.
std::string xmlEscape(const std::string &text);

} // namespace attn::search

#endif // ATTN_SEARCH_SVGPLOT_H
