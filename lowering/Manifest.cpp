//===- Manifest.cpp - the library manifest (docs/Manifest.md) -------------===//

#include "lowering/Manifest.h"
#include "lowering/KeyRange.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace attn;
namespace json = llvm::json;

std::string attn::sourceHash(const std::string &text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)h);
  return buf;
}

static json::Value describeArg(const TensorArg &a) {
  json::Array shape;
  for (const std::string &d : a.dims) {
    if (!d.empty() && (std::isdigit((unsigned char)d[0]) || d[0] == '-'))
      shape.push_back(int64_t(std::stoll(d)));
    else
      shape.push_back(d);
  }
  return json::Object{{"name", a.name},
                      {"role", a.isOutput ? "output" : "input"},
                      {"dtype", a.dtype},
                      {"shape", std::move(shape)}};
}

static std::string formatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

/// The `reference` of an attention kernel (kinds attention, linear and
/// luna): `fields`, the fields of `kind`, with the kind and the fields all
/// three share (the q, k, v, out and kv_lengths arguments and causal).
template <typename ArgNameFn>
static json::Object
attentionReference(llvm::StringRef kind, const AttentionKernelDesc &k,
                   ArgNameFn &&argName, json::Object fields) {
  fields["kind"] = kind;
  fields["query"] = argName(k.query);
  fields["key"] = argName(k.key);
  fields["value"] = argName(k.value);
  fields["out"] = argName(k.out);
  fields["kv_lengths"] = argName(k.kvLengths);
  fields["causal"] = k.isCausal();
  return fields;
}

/// The `reference` of a linear-family kernel (docs/LinearFamily.md §4).
template <typename ArgNameFn>
static json::Object linearReference(const AttentionKernelDesc &k,
                                    ArgNameFn &&argName) {
  json::Array expand;
  for (const ScalarExpr &e : k.expand)
    expand.push_back(e.toString());
  json::Value weight = nullptr;
  if (k.weightKind == "momentum")
    weight = json::Object{{"kind", "momentum"},
                          {"beta", k.momentumBeta},
                          {"gamma", k.momentumGamma}};
  else if (k.weightKind == "rpe")
    weight = json::Object{{"kind", "rpe"}, {"bias", argName(k.rpeBias)}};
  json::Object feature{
      {"pointwise", k.featureMap ? json::Value(k.featureMap->toString())
                                 : json::Value(nullptr)},
      {"random_features", k.randomFeatures},
      {"seed", k.featureSeed}};
  return attentionReference("linear", k, argName,
                            json::Object{{"feature", std::move(feature)},
                                         {"expand", std::move(expand)},
                                         {"weight", std::move(weight)},
                                         {"normalize", k.normalize},
                                         {"eps", k.eps},
                                         {"clamp", k.clampDenominator}});
}

std::string attn::renderManifest(
    const std::vector<AttentionKernelDesc> &kernels,
    const ManifestInfo &info) {
  json::Array list;
  for (size_t n = 0; n < kernels.size(); ++n) {
    const AttentionKernelDesc &k = kernels[n];
    json::Array args;
    for (const TensorArg &a : k.args)
      args.push_back(describeArg(a));
    json::Object dims;
    for (auto &[name, size] : k.dims)
      dims[name] = size < 0 ? json::Value(nullptr) : json::Value(size);
    json::Object schedule{{"source", n < info.scheduleSource.size()
                                         ? info.scheduleSource[n]
                                         : "heuristic"}};
    if (n < info.knobs.size())
      for (auto &[knob, value] : info.knobs[n])
        schedule[knob] = value;
    json::Array mods, masks, lower, upper;
    KeyBounds bounds = analyzeKeyBounds(k.masks);
    for (const KeyBound &b : bounds.lower)
      lower.push_back(boundExpr(b).toString());
    for (const KeyBound &b : bounds.upper)
      upper.push_back(boundExpr(b).toString());
    for (const ScalarExpr &e : k.scoreMods)
      mods.push_back(e.toString());
    for (const ScalarExpr &e : k.masks)
      masks.push_back(e.toString());
    auto argName = [&](int index) -> json::Value {
      if (index < 0)
        return nullptr;
      return k.args[index].name;
    };
    json::Object reference =
        attentionReference("attention", k, argName,
                           json::Object{{"normalize", k.normalize},
                                        {"scale", formatDouble(k.scale)},
                                        {"score_mods", std::move(mods)},
                                        {"masks", std::move(masks)},
                                        {"key_lower", std::move(lower)},
                                        {"key_upper", std::move(upper)},
                                        {"key_bounds_exact", bounds.exact}});
    if (k.isLinear())
      reference = linearReference(k, argName);
    if (k.isEma())
      reference = json::Object{{"kind", "ema"},
                               {"input", argName(k.emaInput)},
                               {"delta", argName(k.emaDelta)},
                               {"alpha", argName(k.emaAlpha)},
                               {"beta", argName(k.emaBeta)},
                               {"gamma", argName(k.emaGamma)},
                               {"omega", argName(k.emaOmega)},
                               {"out", argName(k.out)},
                               {"compat", k.emaCompat}};
    if (k.isLuna())
      reference =
          attentionReference("luna", k, argName,
                             json::Object{{"memory", argName(k.lunaMemory)},
                                          {"rows", k.lunaRows},
                                          {"scale", formatDouble(k.scale)}});
    list.push_back(json::Object{{"name", k.name},
                                {"entry", k.name},
                                {"form", k.form},
                                {"schedule", std::move(schedule)},
                                {"dims", std::move(dims)},
                                {"args", std::move(args)},
                                {"reference", std::move(reference)}});
  }
  json::Object root{{"format", "attnc-manifest"},
                    {"version", 1},
                    {"compiler", info.compiler},
                    {"source", info.source},
                    {"source_hash", info.sourceHash},
                    {"target", info.target},
                    {"library", info.library},
                    {"kernels", std::move(list)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return os.str();
}
