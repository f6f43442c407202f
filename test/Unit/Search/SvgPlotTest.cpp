//===- SvgPlotTest.cpp - The front plot -----------------------------------===//
//
// The SVG must be well-formed XML (checked by a small parser here), escape
// every text, draw one circle per drawable point, and stay finite for 0 or
// 1 point, equal ranges and log axes.
//
//===----------------------------------------------------------------------===//

#include "search/SvgPlot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>

using namespace attn::search;

namespace {

struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text; // its direct text, entities kept
};

/// Checks that `text` (no markup) uses only the five XML entities and
/// numeric character references.
::testing::AssertionResult checkText(const std::string &text) {
  if (text.find('<') != std::string::npos)
    return ::testing::AssertionFailure() << "raw '<' in: " << text;
  static const std::regex entity("^&(amp|lt|gt|quot|apos|#[0-9]+);");
  for (size_t i = text.find('&'); i != std::string::npos;
       i = text.find('&', i + 1))
    if (!std::regex_search(text.substr(i, 12), entity))
      return ::testing::AssertionFailure() << "bad '&' in: " << text;
  return ::testing::AssertionSuccess();
}

/// A minimal XML checker: one root, matching tags, quoted attributes,
/// escaped text.  Fills `elements` in document order.
::testing::AssertionResult parseXml(const std::string &doc,
                                    std::vector<Element> &elements) {
  size_t i = 0;
  if (doc.rfind("<?xml", 0) == 0)
    i = doc.find("?>") + 2;
  std::vector<size_t> open; // indices into elements
  int roots = 0;
  while (i < doc.size()) {
    size_t lt = doc.find('<', i);
    std::string text =
        doc.substr(i, lt == std::string::npos ? doc.npos : lt - i);
    if (auto r = checkText(text); !r)
      return r;
    if (open.empty() && text.find_first_not_of(" \n\r\t") != std::string::npos)
      return ::testing::AssertionFailure() << "text outside the root";
    if (!open.empty())
      elements[open.back()].text += text;
    if (lt == std::string::npos)
      break;
    size_t gt = doc.find('>', lt);
    if (gt == std::string::npos)
      return ::testing::AssertionFailure() << "unterminated tag";
    std::string tag = doc.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      std::string name = tag.substr(1);
      if (open.empty() || elements[open.back()].name != name)
        return ::testing::AssertionFailure() << "unmatched </" << name << ">";
      open.pop_back();
      continue;
    }
    bool selfClosing = !tag.empty() && tag.back() == '/';
    if (selfClosing)
      tag.pop_back();
    static const std::regex nameRe("^([A-Za-z_][\\w.-]*)");
    std::smatch m;
    if (!std::regex_search(tag, m, nameRe))
      return ::testing::AssertionFailure() << "bad tag <" << tag << ">";
    Element e;
    e.name = m[1];
    std::string rest = tag.substr(m.length(0));
    static const std::regex attrRe("^\\s+([A-Za-z_:][\\w:.-]*)=\"([^\"]*)\"");
    while (std::regex_search(rest, m, attrRe)) {
      if (auto r = checkText(m[2]); !r)
        return r;
      if (!e.attributes.emplace(m[1], m[2]).second)
        return ::testing::AssertionFailure() << "repeated attribute " << m[1];
      rest = rest.substr(m.length(0));
    }
    if (rest.find_first_not_of(" \n\t") != std::string::npos)
      return ::testing::AssertionFailure() << "bad attributes: " << rest;
    if (open.empty() && ++roots > 1)
      return ::testing::AssertionFailure() << "more than one root";
    elements.push_back(e);
    if (!selfClosing)
      open.push_back(elements.size() - 1);
  }
  if (!open.empty())
    return ::testing::AssertionFailure()
           << "unclosed <" << elements[open.back()].name << ">";
  if (roots != 1 || elements.empty() || elements[0].name != "svg")
    return ::testing::AssertionFailure() << "the root is not <svg>";
  return ::testing::AssertionSuccess();
}

/// Parses `svg`, checks that every geometric attribute is a finite number,
/// and returns the elements.
std::vector<Element> checkSvg(const std::string &svg) {
  std::vector<Element> elements;
  EXPECT_TRUE(parseXml(svg, elements)) << svg;
  for (const Element &e : elements)
    for (const auto &[name, v] : e.attributes)
      if (name == "x" || name == "y" || name == "x1" || name == "x2" ||
          name == "y1" || name == "y2" || name == "cx" || name == "cy" ||
          name == "r" || name == "width" || name == "height") {
        char *end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        EXPECT_TRUE(end && *end == '\0' && std::isfinite(d))
            << e.name << " " << name << "=\"" << v << "\"";
      }
  return elements;
}

std::vector<const Element *> named(const std::vector<Element> &elements,
                                   const std::string &name) {
  std::vector<const Element *> out;
  for (const Element &e : elements)
    if (e.name == name)
      out.push_back(&e);
  return out;
}

PlotData samplePlot() {
  PlotData d;
  d.title = "hybrid_vit: latency against params";
  d.xLabel = "latency (ms)";
  d.yLabel = "params";
  d.xBudget = 5;
  d.points = {{1.2, 9e6, true, true, "depth=6"},
              {2.5, 5e6, true, true, "depth=9"},
              {3.0, 8e6, true, false, "depth=9,heads=3"},
              {4.4, 2e6, true, true, "depth=12"},
              {6.1, 1e6, false, false, "depth=12,heads=12"},
              {7.5, 3e6, false, false, "depth=12,heads=6"}};
  return d;
}

TEST(SvgPlotTest, OneCirclePerPointAndAStepFront) {
  PlotData d = samplePlot();
  std::string svg = renderFrontSvg(d);
  std::vector<Element> elements = checkSvg(svg);
  std::vector<const Element *> circles = named(elements, "circle");
  ASSERT_EQ(circles.size(), d.points.size());
  int large = 0, hollow = 0;
  for (const Element *c : circles) {
    large += c->attributes.at("r") == "5.5";
    hollow += c->attributes.count("fill") && c->attributes.at("fill") == "none";
  }
  EXPECT_EQ(large, 3);  // the front
  EXPECT_EQ(hollow, 2); // the infeasible points
  // Every label is a tooltip.
  std::vector<const Element *> titles = named(elements, "title");
  EXPECT_EQ(titles.size(), d.points.size() + 1); // + the document's
  EXPECT_NE(svg.find("<title>depth=12,heads=6\n"), std::string::npos);
  // The step line: a move and one H and one V per further front point.
  std::vector<const Element *> paths = named(elements, "path");
  ASSERT_EQ(paths.size(), 1u);
  const std::string &path = paths[0]->attributes.at("d");
  EXPECT_EQ(std::count(path.begin(), path.end(), 'H'), 2);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'V'), 2);
  // The budget line is dashed and between the points at 4.4 and 6.1 ms.
  const Element *budget = nullptr;
  for (const Element *l : named(elements, "line"))
    if (l->attributes.count("stroke-dasharray"))
      budget = l;
  ASSERT_NE(budget, nullptr);
  double bx = std::stod(budget->attributes.at("x1"));
  // A circle's tooltip is the <title> element right after it.
  auto centre = [&](const std::string &label, const char *coordinate) {
    for (size_t k = 0; k + 1 < elements.size(); ++k)
      if (elements[k].name == "circle" && elements[k + 1].name == "title" &&
          elements[k + 1].text.rfind(label + "\n", 0) == 0)
        return std::stod(elements[k].attributes.at(coordinate));
    ADD_FAILURE() << "no circle for " << label;
    return 0.0;
  };
  EXPECT_LT(centre("depth=12", "cx"), bx);
  EXPECT_LT(bx, centre("depth=12,heads=12", "cx"));
  // Smaller x is further left; larger y is higher up (smaller SVG y).
  EXPECT_LT(centre("depth=6", "cx"), centre("depth=9", "cx"));
  EXPECT_LT(centre("depth=6", "cy"), centre("depth=12", "cy"));
  EXPECT_LT(centre("depth=9,heads=3", "cy"), centre("depth=9", "cy"));
}

TEST(SvgPlotTest, EscapesEveryText) {
  PlotData d;
  d.title = "a<b & \"c\" > 'd'";
  d.xLabel = "x & y";
  d.yLabel = "<score>";
  d.points = {{1, 2, true, true, "mixer=[a,b]<&>\x01"}};
  std::string svg = renderFrontSvg(d);
  checkSvg(svg);
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;"),
            std::string::npos);
  EXPECT_NE(svg.find("x &amp; y"), std::string::npos);
  EXPECT_NE(svg.find("&lt;score&gt;"), std::string::npos);
  EXPECT_NE(svg.find("mixer=[a,b]&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
}

TEST(SvgPlotTest, XmlEscape) {
  EXPECT_EQ(xmlEscape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
  EXPECT_EQ(xmlEscape("tab\tline\nok"), "tab\tline\nok");
  EXPECT_EQ(xmlEscape(std::string("a\x00"
                                  "b\x1f"
                                  "c",
                                  5)),
            "abc");
  EXPECT_EQ(xmlEscape("\xc3\xa9t\xc3\xa9 \xe2\x89\xa4 5"),
            "\xc3\xa9t\xc3\xa9 \xe2\x89\xa4 5"); // été ≤ 5
  EXPECT_EQ(xmlEscape("bad \xff\xc3 end"), "bad ?? end");
  EXPECT_EQ(xmlEscape("\xed\xa0\x80"), "???"); // a UTF-16 surrogate
}

TEST(SvgPlotTest, NoPointsOnePointAndEqualRanges) {
  PlotData d;
  d.title = "empty";
  std::string svg = renderFrontSvg(d);
  std::vector<Element> elements = checkSvg(svg);
  EXPECT_TRUE(named(elements, "circle").empty());
  EXPECT_NE(svg.find("no points"), std::string::npos);

  d.points = {{3, 3, true, true, "only"}};
  elements = checkSvg(renderFrontSvg(d));
  EXPECT_EQ(named(elements, "circle").size(), 1u);
  EXPECT_TRUE(named(elements, "path").empty());

  d.points = {{3, 1, true, true, "a"},
              {3, 2, true, false, "b"},
              {3, 5, false, false, "c"}};
  d.xBudget = 3;
  elements = checkSvg(renderFrontSvg(d));
  EXPECT_EQ(named(elements, "circle").size(), 3u);

  d.points = {{0, 0, true, true, "a"}, {0, 0, true, false, "b"}};
  d.logX = false;
  elements = checkSvg(renderFrontSvg(d));
  EXPECT_EQ(named(elements, "circle").size(), 2u);

  d.logX = d.logY = true;
  d.points = {{2, 2, true, true, "a"}, {2, 2, true, false, "b"}};
  elements = checkSvg(renderFrontSvg(d));
  EXPECT_EQ(named(elements, "circle").size(), 2u);
}

TEST(SvgPlotTest, LogAxesAndUndrawablePoints) {
  PlotData d = samplePlot();
  d.logX = d.logY = true;
  d.points.push_back({0, 5, true, false, "zero latency"});
  d.points.push_back({NAN, 5, true, false, "nan"});
  d.points.push_back({2, INFINITY, true, false, "inf"});
  std::string svg = renderFrontSvg(d);
  std::vector<Element> elements = checkSvg(svg);
  EXPECT_EQ(named(elements, "circle").size(), 6u);
  EXPECT_NE(svg.find("3 points not drawn"), std::string::npos);
  // Tick labels of the log y axis are 1-2-5 values or powers of ten.
  int powersOfTen = 0;
  for (const Element *t : named(elements, "text"))
    powersOfTen += t->text == "1e+06" || t->text == "1e+07";
  EXPECT_EQ(powersOfTen, 2);
}

TEST(SvgPlotTest, NiceTicks) {
  EXPECT_EQ(niceTicks(0, 9.3), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  std::vector<double> t = niceTicks(0.013, 0.047);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_NEAR(t.front(), 0.01, 1e-12);
  EXPECT_NEAR(t.back(), 0.05, 1e-12);
  t = niceTicks(5, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_LT(t.front(), 5);
  EXPECT_GT(t.back(), 5);
  t = niceTicks(0, 0);
  EXPECT_LT(t.front(), 0);
  EXPECT_GT(t.back(), 0);
  // Any range: about five ticks, evenly spaced, covering it.
  for (double lo : {-7.3, 0.0, 0.002, 13.0, 1234.5})
    for (double span : {0.001, 0.9, 3.0, 47.0, 1e6}) {
      t = niceTicks(lo, lo + span);
      EXPECT_GE(t.size(), 3u) << lo << " " << span;
      EXPECT_LE(t.size(), 7u) << lo << " " << span;
      EXPECT_LE(t.front(), lo + span * 1e-9);
      EXPECT_GE(t.back(), lo + span - span * 1e-9);
      for (size_t i = 2; i < t.size(); ++i)
        EXPECT_NEAR(t[i] - t[i - 1], t[1] - t[0], span * 1e-9);
    }
}

} // namespace
