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
  return renderManifest(kernels, {}, {}, info);
}

/// The schedule object of kernel `n` of the manifest.
static json::Object scheduleObject(const ManifestInfo &info, size_t n) {
  json::Object schedule{{"source", n < info.scheduleSource.size()
                                       ? info.scheduleSource[n]
                                       : "heuristic"}};
  if (n < info.knobs.size())
    for (auto &[knob, value] : info.knobs[n])
      schedule[knob] = value;
  return schedule;
}

/// A static shape as a JSON array.
static json::Array shapeArray(const std::vector<int64_t> &shape) {
  json::Array out;
  for (int64_t d : shape)
    out.push_back(d);
  return out;
}

/// The tuning key of kernel `n` ("" when unknown).
static std::string tuningKeyOf(const ManifestInfo &info, size_t n) {
  return n < info.tuningKeys.size() ? info.tuningKeys[n] : "";
}

/// The entry symbol of kernel `n` (its name unless `info.entries` says).
static std::string entryName(const ManifestInfo &info, size_t n,
                             const std::string &name) {
  return n < info.entries.size() && !info.entries[n].empty() ? info.entries[n]
                                                              : name;
}

/// The manifest entry of a block kernel.
static json::Object describeBlock(const BlockKernelDesc &k,
                                  const std::string &entry,
                                  const std::string &tuningKey,
                                  json::Object schedule) {
  json::Array args, ops;
  for (const TensorArg &a : k.args)
    args.push_back(describeArg(a));
  auto valueName = [&](int id) -> std::string {
    return k.isArg(id) ? k.args[id].name : "%" + std::to_string(id);
  };
  for (const BlockOpDesc &op : k.ops) {
    json::Array inputs;
    for (int id : op.inputs)
      inputs.push_back(valueName(id));
    json::Object o{{"op", op.op},
                   {"inputs", std::move(inputs)},
                   {"out", valueName(op.result)},
                   {"shape", shapeArray(op.shape)}};
    if (!op.mode.empty())
      o["mode"] = op.mode;
    if (op.op == "layernorm" || op.op == "rmsnorm")
      o["eps"] = op.eps;
    if (op.op == "split_heads")
      o["heads"] = op.heads;
    if (op.op == "slice") {
      o["offset"] = op.offset;
      o["size"] = op.size;
    }
    if (op.op == "conv1d")
      o["padding"] = op.padding;
    if (op.op == "conv1d" || op.op == "conv2d" || op.op == "pool") {
      o["window"] = op.window;
      o["stride"] = op.stride;
    }
    if (!op.grid.empty())
      o["grid"] = shapeArray(op.grid);
    if (op.op == "scores")
      o["scale"] = op.scale;
    if (op.op == "blend")
      o["weight"] = op.scale;
    if (op.op == "map_conv") {
      o["act"] = op.act;
      o["window"] = op.window;
    }
    if (op.op == "softmax")
      o["causal"] = op.causal;
    ops.push_back(std::move(o));
  }
  json::Object described{
      {"name", k.name},
      {"entry", entry},
      {"form", "block"},
      {"schedule", std::move(schedule)},
      {"dims", json::Object{}},
      {"args", std::move(args)},
      {"reference", json::Object{{"kind", "block"}, {"ops", std::move(ops)}}}};
  if (!tuningKey.empty())
    described["tuning_key"] = tuningKey;
  return described;
}

/// The manifest entry of an architecture.
static json::Object describeArch(const ArchDesc &a) {
  auto tensor = [](const TensorArg &t) {
    return json::Object{{"name", t.name},
                        {"dtype", t.dtype},
                        {"shape", shapeArray(t.shape)}};
  };
  json::Array inputs, outputs, weights, values, calls;
  for (const TensorArg &t : a.inputs)
    inputs.push_back(tensor(t));
  for (const TensorArg &t : a.outputs)
    outputs.push_back(tensor(t));
  for (const TensorArg &t : a.values)
    values.push_back(tensor(t));
  for (const ArchWeightDesc &w : a.weights) {
    json::Object o = tensor(w.tensor);
    json::Object init{{"dist", w.dist}};
    if (w.dist == "uniform")
      init["bound"] = w.a;
    else if (w.dist == "normal") {
      init["mean"] = w.a;
      init["std"] = w.b;
    } else if (w.dist == "shift") {
      init["min"] = w.a;
      init["max"] = w.b;
    }
    o["init"] = std::move(init);
    weights.push_back(std::move(o));
  }
  for (const ArchCallDesc &c : a.calls) {
    json::Array args;
    for (const std::string &name : c.args)
      args.push_back(name);
    calls.push_back(
        json::Object{{"kernel", c.kernel}, {"args", std::move(args)}});
  }
  json::Object config;
  for (auto &[name, label] : a.config)
    config[name] = label;
  return json::Object{{"name", a.name},
                      {"config", std::move(config)},
                      {"inputs", std::move(inputs)},
                      {"outputs", std::move(outputs)},
                      {"weights", std::move(weights)},
                      {"values", std::move(values)},
                      {"calls", std::move(calls)}};
}

std::string attn::renderManifest(
    const std::vector<AttentionKernelDesc> &kernels,
    const std::vector<BlockKernelDesc> &blocks,
    const std::vector<ArchDesc> &archs, const ManifestInfo &info) {
  json::Array list;
  for (size_t n = 0; n < kernels.size(); ++n) {
    const AttentionKernelDesc &k = kernels[n];
    json::Array args;
    for (const TensorArg &a : k.args)
      args.push_back(describeArg(a));
    json::Object dims;
    for (auto &[name, size] : k.dims)
      dims[name] = size < 0 ? json::Value(nullptr) : json::Value(size);
    json::Object schedule = scheduleObject(info, n);
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
    // window2d: the partition the masks encode, so that the runtime counts
    // the visible pairs without visiting all N x M.
    if (k.isWindow())
      reference["window2d"] =
          json::Object{{"grid", json::Array{k.windowRows, k.windowCols}},
                       {"window", k.windowSize},
                       {"shift", k.windowShift}};
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
    // Couplformer: the explicit (A (x) B) quadratic form.
    if (k.isCoupler())
      reference = attentionReference(
          "coupler", k, argName,
          json::Object{{"grid", json::Array{k.couplerRows, k.couplerCols}},
                       {"scale", formatDouble(k.scale)},
                       {"normalize", "softmax"}});
    // EIT: every head pair's maps, the two map convolutions.
    if (k.isEmha())
      reference = attentionReference(
          "emha", k, argName,
          json::Object{{"isi", argName(k.emhaIsi)},
                       {"csi", argName(k.emhaCsi)},
                       {"kernel", k.emhaKernel},
                       {"scale", formatDouble(k.scale)},
                       {"normalize", "softmax"}});
    if (k.isLuna())
      reference =
          attentionReference("luna", k, argName,
                             json::Object{{"memory", argName(k.lunaMemory)},
                                          {"rows", k.lunaRows},
                                          {"scale", formatDouble(k.scale)}});
    json::Object kernel{{"name", k.name},
                        {"entry", entryName(info, n, k.name)},
                        {"form", k.form},
                        {"schedule", std::move(schedule)},
                        {"dims", std::move(dims)},
                        {"args", std::move(args)},
                        {"reference", std::move(reference)}};
    if (std::string key = tuningKeyOf(info, n); !key.empty())
      kernel["tuning_key"] = key;
    list.push_back(std::move(kernel));
  }
  for (size_t n = 0; n < blocks.size(); ++n)
    list.push_back(
        describeBlock(blocks[n],
                      entryName(info, kernels.size() + n, blocks[n].name),
                      tuningKeyOf(info, kernels.size() + n),
                      scheduleObject(info, kernels.size() + n)));
  for (size_t n = 0; n < list.size() && n < info.gpuFootprints.size(); ++n)
    (*list[n].getAsObject())["gpu"] =
        json::Object{{"threads", info.gpuFootprints[n].first},
                     {"shared_bytes", info.gpuFootprints[n].second}};
  json::Array archList;
  for (const ArchDesc &a : archs)
    archList.push_back(describeArch(a));
  json::Object root{{"format", "attnc-manifest"},
                    {"version", 1},
                    {"compiler", info.compiler},
                    {"source", info.source},
                    {"source_hash", info.sourceHash},
                    {"target", info.target},
                    {"device", info.device},
                    {"library", info.library},
                    {"kernels", std::move(list)}};
  if (!archs.empty())
    root["archs"] = std::move(archList);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return os.str();
}
