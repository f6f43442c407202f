//===- SpaceCommand.cpp - `attnc space FILE` ------------------------------===//
//
// Prints the choices of an architecture (name, global or per layer,
// alternatives, site), the layers per value of the choices the `repeat`
// counts read, and the exact size of the space; with --sample K, K distinct
// valid configurations as a JSON array (docs/Search.md §1).
//
//===----------------------------------------------------------------------===//

#include "tools/attnc/SpaceCommand.h"
#include "tools/attnc/CommandLine.h"
#include "tools/attnc/TextTable.h"

#include "frontend/Frontend.h"
#include "frontend/Space.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

using namespace attn::frontend;

namespace attn::driver {

namespace {

const char *const kUsage =
    "usage: attnc space FILE [options]\n"
    "\n"
    "Prints the choices of an architecture (global or per layer, their\n"
    "alternatives and sites), the layers per value of the choices that set\n"
    "'repeat' counts, and the exact number of points of the space\n"
    "(docs/Search.md section 1).\n"
    "\n"
    "options:\n"
    "  --arch NAME   the architecture (needed when FILE declares several)\n"
    "  --dim N=V     set dim N to V (repeatable)\n"
    "  --sample K    print K distinct valid configurations as a JSON array\n"
    "                of {\"config\": --config text, \"choices\": {...}}\n"
    "  --seed S      the seed of --sample (default 0): the same seed gives\n"
    "                the same configurations\n"
    "  --json        print the space as JSON (--sample always prints JSON)\n";

/// Combinations of the count-relevant choices listed in the text output.
constexpr size_t kMaxLayerLines = 50;

int usageError(const std::string &msg) {
  llvm::errs() << "attnc space: error: " << msg << "\n"
               << "run 'attnc space --help' for usage\n";
  return 2;
}

int failure(const std::string &msg) {
  llvm::errs() << "attnc space: error: " << msg << "\n";
  return 1;
}

/// Prints rows as aligned columns (formatTable), indented by two spaces.
void printTable(llvm::raw_ostream &os,
                const std::vector<std::vector<std::string>> &rows) {
  for (const std::string &line : formatTable(rows))
    os << "  " << line << "\n";
}

/// `≈ 6.5e+09`.
std::string approximate(double log10Size) {
  double e = std::floor(log10Size);
  double m = std::pow(10.0, log10Size - e);
  if (m >= 9.95) {
    m /= 10.0;
    e += 1.0;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1fe+%02d", m, static_cast<int>(e));
  return buf;
}

/// Every combination of the count-relevant choices (first choice varying
/// slowest), as points with the other choices missing.
std::vector<SpacePoint> countCombinations(const ArchSpace &space) {
  std::vector<std::pair<std::string, int>> relevant;
  for (const std::string &name : space.countChoices())
    for (const SpaceChoice &c : space.choices())
      if (c.name == name)
        relevant.emplace_back(name, static_cast<int>(c.labels.size()));
  std::vector<SpacePoint> out;
  std::vector<int> digits(relevant.size(), 0);
  for (;;) {
    SpacePoint p;
    for (size_t n = 0; n < relevant.size(); ++n)
      p.values[relevant[n].first] = {digits[n]};
    out.push_back(std::move(p));
    size_t pos = relevant.size();
    while (pos > 0) {
      --pos;
      if (++digits[pos] < relevant[pos].second)
        break;
      digits[pos] = 0;
      if (pos == 0)
        return out;
    }
    if (relevant.empty())
      return out;
  }
}

/// `depth=12,scale=2`: the values of the count-relevant choices of `p`.
std::string countValues(const ArchSpace &space, const SpacePoint &p) {
  std::string out;
  for (const SpaceChoice &c : space.choices())
    if (auto it = p.values.find(c.name); !c.perLayer && it != p.values.end())
      out += (out.empty() ? "" : ",") + c.name + "=" +
             c.labels[it->second.front()];
  return out;
}

void printText(const ArchSpace &space, const std::string &file) {
  llvm::raw_ostream &os = llvm::outs();
  os << "architecture " << space.arch() << " (" << file << ")\n";
  bool anyPerLayer = false;
  if (space.choices().empty()) {
    os << "choices: none\n";
  } else {
    os << "choices:\n";
    std::vector<std::vector<std::string>> rows;
    for (const SpaceChoice &c : space.choices()) {
      std::string alts;
      for (const std::string &l : c.labels)
        alts += (alts.empty() ? "" : ", ") + l;
      rows.push_back({c.name, c.perLayer ? "per layer" : "global",
                      "{" + alts + "}", c.site});
      anyPerLayer |= c.perLayer;
    }
    printTable(os, rows);
  }
  if (anyPerLayer) {
    auto perLayerText = [&](const SpacePoint &p) {
      std::map<std::string, int64_t> layers = space.layers(p);
      std::string text;
      for (const SpaceChoice &c : space.choices())
        if (c.perLayer)
          text += (text.empty() ? "" : ", ") + c.name + " " +
                  std::to_string(layers[c.name]);
      return text;
    };
    std::vector<std::string> relevant = space.countChoices();
    if (relevant.empty()) {
      os << "layers: " << perLayerText(SpacePoint()) << "\n";
    } else {
      std::string by;
      for (const std::string &r : relevant)
        by += (by.empty() ? "" : ", ") + r;
      os << "layers (by " << by << "):\n";
      std::vector<SpacePoint> combos = countCombinations(space);
      std::vector<std::vector<std::string>> rows;
      for (size_t n = 0; n < combos.size() && n < kMaxLayerLines; ++n)
        rows.push_back(
            {countValues(space, combos[n]) + ":", perLayerText(combos[n])});
      printTable(os, rows);
      if (combos.size() > kMaxLayerLines)
        os << "  ... (" << combos.size() - kMaxLayerLines
           << " more combinations)\n";
    }
  }
  os << "size: " << space.sizeText();
  if (space.sizeText().size() > 6)
    os << " (\xE2\x89\x88 " << approximate(space.sizeLog10()) << ")";
  os << "\n";
}

void printJson(const ArchSpace &space) {
  llvm::json::OStream j(llvm::outs(), 2);
  j.object([&] {
    j.attribute("arch", space.arch());
    j.attributeArray("choices", [&] {
      for (const SpaceChoice &c : space.choices())
        j.object([&] {
          j.attribute("name", c.name);
          j.attribute("perLayer", c.perLayer);
          j.attribute("site", c.site);
          j.attributeArray("alternatives", [&] {
            for (const std::string &l : c.labels)
              j.value(l);
          });
        });
    });
    j.attributeArray("layers", [&] {
      for (const SpacePoint &p : countCombinations(space))
        j.object([&] {
          j.attributeObject("globals", [&] {
            for (const SpaceChoice &c : space.choices())
              if (auto it = p.values.find(c.name); it != p.values.end())
                j.attribute(c.name, c.labels[it->second.front()]);
          });
          j.attributeObject("layers", [&] {
            std::map<std::string, int64_t> layers = space.layers(p);
            for (const SpaceChoice &c : space.choices())
              if (c.perLayer)
                j.attribute(c.name, layers[c.name]);
          });
        });
    });
    j.attribute("size", space.sizeText());
    j.attribute("sizeLog10", space.sizeLog10());
  });
  llvm::outs() << "\n";
}

/// A JSON array with one sample object per line.
void printSamples(const ArchSpace &space,
                  const std::vector<SpacePoint> &points) {
  llvm::raw_ostream &os = llvm::outs();
  os << "[\n";
  for (size_t n = 0; n < points.size(); ++n) {
    const SpacePoint &p = points[n];
    os << "  ";
    llvm::json::OStream j(os);
    j.object([&] {
      j.attribute("config", space.toConfig(p));
      j.attributeObject("choices", [&] {
        for (const SpaceChoice &c : space.choices()) {
          const std::vector<int> &vals = p.values.at(c.name);
          if (!c.perLayer) {
            j.attribute(c.name, c.labels[vals.front()]);
            continue;
          }
          j.attributeArray(c.name, [&] {
            for (int v : vals)
              j.value(c.labels[v]);
          });
        }
      });
    });
    os << (n + 1 < points.size() ? ",\n" : "\n");
  }
  os << "]\n";
}

bool parseCount(llvm::StringRef text, uint64_t &out) {
  return !text.empty() && !text.getAsInteger(10, out);
}

} // namespace

int runSpaceCommand(const std::vector<std::string> &args) {
  std::vector<std::string> files;
  std::string archName;
  FrontendOptions options;
  std::optional<uint64_t> sampleCount, seed;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h" || a == "--help" || a == "-help") {
      llvm::outs() << kUsage;
      return 0;
    }
    if (a.size() < 2 || a[0] != '-') {
      files.push_back(a);
      continue;
    }
    // -opt and --opt, --opt VALUE and --opt=VALUE.
    std::string name = a[1] == '-' ? a.substr(2) : a.substr(1);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto takeValue = [&]() -> bool {
      if (value)
        return true;
      if (i + 1 >= args.size())
        return false;
      value = args[++i];
      return true;
    };
    if (name == "json" && !value) {
      json = true;
    } else if (name == "arch") {
      if (!takeValue() || value->empty())
        return usageError("--arch needs a NAME");
      archName = *value;
    } else if (name == "dim") {
      if (!takeValue())
        return usageError("--dim needs N=V");
      std::string dim;
      int64_t n;
      if (!parseNameInteger(*value, dim, n))
        return usageError("malformed --dim '" + *value +
                          "': expected NAME=INTEGER");
      options.dimOverrides[dim] = n;
    } else if (name == "sample") {
      uint64_t k;
      if (!takeValue())
        return usageError("--sample needs a count K");
      if (!parseCount(*value, k) || k == 0)
        return usageError("--sample needs a positive integer, got '" +
                          *value + "'");
      sampleCount = k;
    } else if (name == "seed") {
      uint64_t s;
      if (!takeValue())
        return usageError("--seed needs a value S");
      if (!parseCount(*value, s))
        return usageError("--seed needs a non-negative integer, got '" +
                          *value + "'");
      seed = s;
    } else {
      return usageError("unknown option '" + a + "'");
    }
  }
  if (files.empty())
    return usageError("no FILE given");
  if (files.size() > 1)
    return usageError("more than one FILE given ('" + files[0] + "', '" +
                      files[1] + "')");
  if (seed && !sampleCount)
    return usageError("--seed is only used with --sample K");

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(files[0]);
  if (!buffer)
    return failure("cannot read '" + files[0] +
                   "': " + buffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::unique_ptr<ModuleAST> ast = parseSource(sourceMgr, context);
  if (!ast)
    return 1;
  mlir::FailureOr<ArchSpace> space =
      ArchSpace::build(context, *ast, options, archName);
  if (mlir::failed(space))
    return 1;

  if (!sampleCount) {
    if (json)
      printJson(*space);
    else
      printText(*space, files[0]);
    return 0;
  }

  uint64_t k = *sampleCount;
  size_t maxTries = static_cast<size_t>(std::min<uint64_t>(k, 1u << 20)) * 20 +
                    200;
  std::mt19937_64 rng(seed.value_or(0));
  std::vector<SpacePoint> points = space->sampleValid(k, rng, maxTries);
  if (points.empty()) {
    // Say why with the first point drawn.
    std::mt19937_64 again(seed.value_or(0));
    SpacePoint p = space->sample(again);
    std::string why;
    space->validate(p, &why);
    return failure("no valid configuration found by sampling (the space "
                   "has " +
                   space->sizeText() + " point" +
                   (space->sizeText() == "1" ? "" : "s") + "); e.g. '" +
                   space->toConfig(p) + "': " + why);
  }
  printSamples(*space, points);
  if (points.size() < k) {
    llvm::errs() << "attnc space: warning: found " << points.size() << " of "
                 << k << " distinct valid configurations (the space has "
                 << space->sizeText() << " point"
                 << (space->sizeText() == "1" ? "" : "s") << ")\n";
  }
  return 0;
}

} // namespace attn::driver
