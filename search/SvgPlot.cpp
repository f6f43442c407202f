//===- SvgPlot.cpp - A Pareto front as a self-contained SVG ---------------===//

#include "search/SvgPlot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

using namespace attn::search;

namespace {

constexpr double width = 720, height = 480;
constexpr double left = 84, right = 24, top = 60, bottom = 64;
constexpr const char *frontColour = "#d6402b";
constexpr const char *pointColour = "#8c8c8c";

std::string fmt(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// A coordinate in the SVG.
std::string px(double v) { return fmt("%.2f", v); }

/// A data value in a tooltip.
std::string value(double v) { return fmt("%.6g", v); }

/// A tick label: as many decimals as the step needs.
std::string tickLabel(double v, double step) {
  if (std::fabs(v) < step * 1e-9)
    return "0";
  double a = std::fabs(v);
  if (a >= 1e6 || a < 1e-3)
    return fmt("%.3g", v);
  int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 9), v);
  return buf;
}

/// Length of the UTF-8 sequence starting at s[i] (0 when invalid).
size_t utf8Length(const std::string &s, size_t i) {
  unsigned char c = s[i];
  size_t n;
  unsigned min;
  unsigned cp;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = s[i + k];
    if ((d & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
      cp == 0xfffe || cp == 0xffff)
    return 0;
  return n;
}

/// One axis: the data range it shows, its ticks, linear or log.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
  double step = 1; // for the labels of a linear axis

  double t(double v) const { return log ? std::log10(v) : v; }
  /// Position of `v` in [0, 1].
  double frac(double v) const { return (t(v) - t(lo)) / (t(hi) - t(lo)); }
};

/// The 1-2-5 values times powers of ten in [lo, hi] (both > 0) of a log
/// axis, widened to one of them at each end.
Axis logAxis(double lo, double hi) {
  Axis axis;
  axis.log = true;
  if (!(hi > lo)) {
    lo /= 2;
    hi *= 2;
  }
  int first = int(std::floor(std::log10(lo))),
      last = int(std::ceil(std::log10(hi)));
  if (last == first)
    ++last;
  int decades = last - first;
  std::vector<double> candidates;
  if (decades <= 3) {
    for (int e = first; e <= last; ++e)
      for (double m : {1.0, 2.0, 5.0})
        candidates.push_back(m * std::pow(10.0, e));
  } else {
    int every = (decades + 5) / 6;
    for (int e = first; e < last + every; e += every)
      candidates.push_back(std::pow(10.0, e));
  }
  // The last candidate <= lo, and the first >= hi.
  size_t begin = 0, end = candidates.size() - 1;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i] <= lo * (1 + 1e-12))
      begin = i;
  for (size_t i = candidates.size(); i-- > 0;)
    if (candidates[i] >= hi * (1 - 1e-12))
      end = i;
  axis.ticks.assign(candidates.begin() + begin, candidates.begin() + end + 1);
  axis.lo = axis.ticks.front();
  axis.hi = axis.ticks.back();
  return axis;
}

Axis linearAxis(double lo, double hi) {
  Axis axis;
  axis.ticks = niceTicks(lo, hi);
  axis.lo = axis.ticks.front();
  axis.hi = axis.ticks.back();
  axis.step = axis.ticks.size() > 1 ? axis.ticks[1] - axis.ticks[0] : 1;
  return axis;
}

Axis makeAxis(const std::vector<double> &values, bool log) {
  if (values.empty())
    return log ? logAxis(1, 10) : linearAxis(0, 1);
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return log ? logAxis(*lo, *hi) : linearAxis(*lo, *hi);
}

std::string label(const Axis &axis, double v) {
  if (axis.log)
    return fmt("%g", v);
  return tickLabel(v, axis.step);
}

} // namespace

std::vector<double> attn::search::niceTicks(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    return {0, 1};
  if (hi < lo)
    std::swap(lo, hi);
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  count = std::max(count, 2);
  // The 1-2-5 step whose number of ticks is closest to `count` (the larger
  // step on a tie).
  double exponent = std::floor(std::log10((hi - lo) / count));
  double step = 0, first = 0, last = 0;
  double bestMiss = INFINITY;
  for (double e = exponent - 1; e <= exponent + 1; ++e)
    for (double m : {1.0, 2.0, 5.0}) {
      double s = m * std::pow(10.0, e);
      double f = std::floor(lo / s + 1e-9), l = std::ceil(hi / s - 1e-9);
      double miss = std::fabs(l - f + 1 - count);
      if (miss <= bestMiss) {
        bestMiss = miss;
        step = s;
        first = f;
        last = l;
      }
    }
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5; k += 1) {
    double t = k * step;
    ticks.push_back(t == 0 ? 0 : t); // never -0
  }
  if (ticks.size() < 2)
    ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string attn::search::xmlEscape(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    size_t n = utf8Length(text, i);
    if (n == 0) {
      out += '?';
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text, i, n);
      i += n;
      continue;
    }
    ++i;
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
        out += char(c);
    }
  }
  return out;
}

std::string attn::search::renderFrontSvg(const PlotData &data) {
  // The points that can be drawn.
  std::vector<const PlotPoint *> shown;
  size_t hidden = 0;
  std::vector<double> xs, ys;
  for (const PlotPoint &p : data.points) {
    bool ok = std::isfinite(p.x) && std::isfinite(p.y) &&
              (!data.logX || p.x > 0) && (!data.logY || p.y > 0);
    if (!ok) {
      ++hidden;
      continue;
    }
    shown.push_back(&p);
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  std::optional<double> budget;
  if (data.xBudget && std::isfinite(*data.xBudget) &&
      (!data.logX || *data.xBudget > 0)) {
    budget = *data.xBudget;
    xs.push_back(*budget);
  }
  Axis ax = makeAxis(xs, data.logX), ay = makeAxis(ys, data.logY);

  double plotW = width - left - right, plotH = height - top - bottom;
  auto X = [&](double v) { return left + ax.frac(v) * plotW; };
  auto Y = [&](double v) { return top + (1 - ay.frac(v)) * plotH; };

  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
    << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' ' << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<title>" << xmlEscape(data.title) << "</title>\n"
    << "<rect x=\"0\" y=\"0\" width=\"" << width << "\" height=\"" << height
    << "\" fill=\"white\"/>\n"
    << "<text x=\"" << px(width / 2) << "\" y=\"28\" text-anchor=\"middle\" "
    << "font-size=\"16\">" << xmlEscape(data.title) << "</text>\n";

  // Grid and tick labels.
  s << "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
  for (double t : ax.ticks)
    s << "<line x1=\"" << px(X(t)) << "\" y1=\"" << px(top) << "\" x2=\""
      << px(X(t)) << "\" y2=\"" << px(top + plotH) << "\"/>\n";
  for (double t : ay.ticks)
    s << "<line x1=\"" << px(left) << "\" y1=\"" << px(Y(t)) << "\" x2=\""
      << px(left + plotW) << "\" y2=\"" << px(Y(t)) << "\"/>\n";
  s << "</g>\n<g fill=\"#333\">\n";
  for (double t : ax.ticks)
    s << "<text x=\"" << px(X(t)) << "\" y=\"" << px(top + plotH + 18)
      << "\" text-anchor=\"middle\">" << xmlEscape(label(ax, t)) << "</text>\n";
  for (double t : ay.ticks)
    s << "<text x=\"" << px(left - 8) << "\" y=\"" << px(Y(t) + 4)
      << "\" text-anchor=\"end\">" << xmlEscape(label(ay, t)) << "</text>\n";
  s << "</g>\n";

  // Axes and their labels.
  s << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\""
    << px(plotW) << "\" height=\"" << px(plotH)
    << "\" fill=\"none\" stroke=\"#333\"/>\n"
    << "<text x=\"" << px(left + plotW / 2) << "\" y=\"" << px(height - 18)
    << "\" text-anchor=\"middle\">" << xmlEscape(data.xLabel) << "</text>\n"
    << "<text x=\"20\" y=\"" << px(top + plotH / 2)
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 20 "
    << px(top + plotH / 2) << ")\">" << xmlEscape(data.yLabel) << "</text>\n";

  if (budget)
    s << "<line x1=\"" << px(X(*budget)) << "\" y1=\"" << px(top) << "\" x2=\""
      << px(X(*budget)) << "\" y2=\"" << px(top + plotH)
      << "\" stroke=\"#2b6cd6\" stroke-width=\"1.5\" "
      << "stroke-dasharray=\"6,4\"/>\n"
      // Left of the line: the budget is often the right end of the axis.
      << "<text x=\"" << px(X(*budget) - 4) << "\" y=\"" << px(top + 14)
      << "\" text-anchor=\"end\" fill=\"#2b6cd6\">budget "
      << xmlEscape(value(*budget)) << "</text>\n";

  auto tooltip = [&](const PlotPoint &p) {
    std::string t = p.label.empty() ? "" : p.label + "\n";
    t += data.xLabel.empty() ? "x" : data.xLabel;
    t += ": " + value(p.x) + ", ";
    t += data.yLabel.empty() ? "y" : data.yLabel;
    t += ": " + value(p.y);
    if (!p.feasible)
      t += " (infeasible)";
    return "<title>" + xmlEscape(t) + "</title>";
  };

  // Every point off the front: small, grey; hollow when infeasible.
  for (const PlotPoint *p : shown) {
    if (p->onFront)
      continue;
    s << "<circle cx=\"" << px(X(p->x)) << "\" cy=\"" << px(Y(p->y))
      << "\" r=\"3\" "
      << (p->feasible
              ? std::string("fill=\"") + pointColour + "\""
              : std::string("fill=\"none\" stroke=\"") + pointColour + "\"")
      << ">" << tooltip(*p) << "</circle>\n";
  }

  // The front: a step line through its points in x order, then the points.
  std::vector<const PlotPoint *> front;
  for (const PlotPoint *p : shown)
    if (p->onFront)
      front.push_back(p);
  std::stable_sort(front.begin(), front.end(),
                   [](const PlotPoint *a, const PlotPoint *b) {
                     return a->x < b->x || (a->x == b->x && a->y < b->y);
                   });
  if (front.size() > 1) {
    s << "<path d=\"M" << px(X(front[0]->x)) << ' ' << px(Y(front[0]->y));
    for (size_t i = 1; i < front.size(); ++i)
      s << " H" << px(X(front[i]->x)) << " V" << px(Y(front[i]->y));
    s << "\" fill=\"none\" stroke=\"" << frontColour
      << "\" stroke-width=\"1.5\"/>\n";
  }
  for (const PlotPoint *p : front)
    s << "<circle cx=\"" << px(X(p->x)) << "\" cy=\"" << px(Y(p->y))
      << "\" r=\"5.5\" "
      << (p->feasible ? std::string("fill=\"") + frontColour + "\""
                      : std::string("fill=\"white\" stroke=\"") + frontColour +
                            "\" stroke-width=\"1.5\"")
      << ">" << tooltip(*p) << "</circle>\n";

  // Legend (glyphs, so that every circle is a point) and notes.
  s << "<text x=\"" << px(left + plotW) << "\" y=\"" << px(top - 10)
    << "\" text-anchor=\"end\"><tspan fill=\"" << frontColour
    << "\">&#9679; front</tspan> <tspan fill=\"" << pointColour
    << "\">&#9679; point &#9675; infeasible</tspan></text>\n";
  if (shown.empty())
    s << "<text x=\"" << px(left + plotW / 2) << "\" y=\""
      << px(top + plotH / 2) << "\" text-anchor=\"middle\" fill=\"#666\">"
      << "no points</text>\n";
  if (hidden)
    s << "<text x=\"" << px(left) << "\" y=\"" << px(height - 4)
      << "\" font-size=\"10\" fill=\"#666\">" << hidden
      << (hidden == 1 ? " point" : " points")
      << " not drawn (not finite, or not positive on a log axis)</text>\n";
  s << "</svg>\n";
  return s.str();
}
