//===- Manifest.cpp - The library manifest (docs/Manifest.md) -------------===//
//
// Parsing uses nlohmann::json; every exception it may throw is caught here
// and turned into a Status, so nothing escapes the runtime API.
//
//===----------------------------------------------------------------------===//

#include "runtime/Manifest.h"
#include "runtime/ManifestJson.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <set>

namespace attn::rt {

void Window2dSpec::bounds(int64_t t, int64_t &r0, int64_t &r1, int64_t &c0,
                          int64_t &c1) const {
  // Per axis, the windows are [k w - off, k w - off + w) clipped to the
  // image, off = (w - s) mod w.
  const int64_t off = (window - shift) % window;
  auto segment = [&](int64_t x, int64_t extent, int64_t &lo, int64_t &hi) {
    const int64_t start = (x + off) / window * window - off;
    lo = std::max<int64_t>(start, 0);
    hi = std::min<int64_t>(start + window, extent);
  };
  segment(t / cols, rows, r0, r1);
  segment(t % cols, cols, c0, c1);
}

using manifest::Json;

const ArgSpec *KernelSpec::findArg(const std::string &argName) const {
  for (const ArgSpec &a : args)
    if (a.name == argName)
      return &a;
  return nullptr;
}

bool KernelSpec::hasDim(const std::string &dimName) const {
  for (const auto &d : dims)
    if (d.first == dimName)
      return true;
  return false;
}

std::optional<int64_t> KernelSpec::fixedDim(const std::string &dimName) const {
  for (const auto &d : dims)
    if (d.first == dimName)
      return d.second;
  return std::nullopt;
}

std::string KernelSpec::argNames() const {
  std::string s;
  for (const ArgSpec &a : args)
    s += (s.empty() ? "" : ", ") + a.name;
  return s;
}

const KernelSpec *Manifest::findKernel(const std::string &kernelName) const {
  for (const KernelSpec &k : kernels)
    if (k.name == kernelName)
      return &k;
  return nullptr;
}

const ArchTensorSpec *
ArchSpec::findTensor(const std::string &tensorName) const {
  for (const std::vector<ArchTensorSpec> *list :
       {&inputs, &outputs, &weights, &values})
    for (const ArchTensorSpec &t : *list)
      if (t.name == tensorName)
        return &t;
  return nullptr;
}

const ArchSpec *Manifest::findArch(const std::string &archName) const {
  for (const ArchSpec &a : archs)
    if (a.name == archName)
      return &a;
  return nullptr;
}

namespace manifest {

const char *jsonTypeName(const Json &j) {
  if (j.is_null())
    return "null";
  if (j.is_boolean())
    return "a boolean";
  if (j.is_number())
    return "a number";
  if (j.is_string())
    return "a string";
  if (j.is_array())
    return "an array";
  return "an object";
}

/// True when `j` is an integer that fits in int64_t.
bool isInt64(const Json &j) {
  return j.is_number_integer() &&
         !(j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(INT64_MAX));
}

Status fieldError(const std::string &field, const std::string &msg) {
  return Status::error(field + ": " + msg);
}

Status expectType(const Json &j, const std::string &field, bool ok,
                  const char *want) {
  if (ok)
    return Status::success();
  return fieldError(field, std::string("expected ") + want + ", found " +
                               jsonTypeName(j));
}

/// Reads a required string member.
Status getString(const Json &obj, const std::string &key,
                 const std::string &field, std::string &out) {
  auto it = obj.find(key);
  if (it == obj.end())
    return fieldError(field, "missing");
  if (Status s = expectType(*it, field, it->is_string(), "a string"); !s)
    return s;
  out = it->get<std::string>();
  return Status::success();
}

/// Reads an optional string member (absent or null leaves `out` unchanged).
Status getOptionalString(const Json &obj, const std::string &key,
                         const std::string &field, std::string &out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return Status::success();
  return getString(obj, key, field, out);
}

/// Reads a number member: `required` makes absence (or null) an error;
/// otherwise absence leaves `out` unchanged.  NaN and infinities are errors.
Status getNumber(const Json &obj, const std::string &key,
                 const std::string &field, bool required, double &out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? fieldError(field, "missing") : Status::success();
  if (Status s = expectType(*it, field, it->is_number(), "a number"); !s)
    return s;
  double v = it->get<double>();
  if (!std::isfinite(v))
    return fieldError(field, "must be finite");
  out = v;
  return Status::success();
}

/// The fixed value of shape entry `e` (a literal, or a dim with a fixed
/// value); std::nullopt when symbolic.
std::optional<int64_t> fixedExtent(const KernelSpec &kernel,
                                   const ShapeEntry &e) {
  return e.isName() ? kernel.fixedDim(e.name) : std::optional(e.value);
}

} // namespace manifest

namespace {

using namespace manifest;

bool isIdentifier(const std::string &s) {
  if (s.empty() ||
      !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

/// Parses an expression; `vars` (when non-null) restricts its variables.
Status parseExprField(const std::string &text, const std::string &field,
                      Expr &out, const std::vector<ExprVar> *vars = nullptr) {
  Result<Expr> e = vars ? parseExpr(text, *vars) : parseExpr(text);
  if (!e)
    return fieldError(field, e.message());
  out = e.take();
  return Status::success();
}

Status parseExprList(const Json &ref, const std::string &key,
                     const std::string &field, std::vector<std::string> &texts,
                     std::vector<Expr> &exprs,
                     const std::vector<ExprVar> *vars = nullptr) {
  auto it = ref.find(key);
  if (it == ref.end() || it->is_null())
    return Status::success();
  if (Status s = expectType(*it, field, it->is_array(), "an array of strings");
      !s)
    return s;
  for (size_t i = 0; i < it->size(); ++i) {
    std::string sub = field + "[" + std::to_string(i) + "]";
    const Json &e = (*it)[i];
    if (Status s = expectType(e, sub, e.is_string(), "a string"); !s)
      return s;
    texts.push_back(e.get<std::string>());
    exprs.emplace_back();
    if (Status s = parseExprField(texts.back(), sub, exprs.back(), vars); !s)
      return s;
  }
  return Status::success();
}

Status parseArg(const Json &j, const std::string &field,
                const KernelSpec &kernel, ArgSpec &arg) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "name", field + ".name", arg.name); !s)
    return s;
  if (arg.name.empty())
    return fieldError(field + ".name", "must not be empty");
  std::string role;
  if (Status s = getString(j, "role", field + ".role", role); !s)
    return s;
  if (role == "input")
    arg.role = ArgRole::Input;
  else if (role == "output")
    arg.role = ArgRole::Output;
  else
    return fieldError(field + ".role",
                      "unknown role '" + role + "' (expected input or output)");
  std::string dtype;
  if (Status s = getString(j, "dtype", field + ".dtype", dtype); !s)
    return s;
  std::optional<DType> t = parseDType(dtype);
  if (!t)
    return fieldError(field + ".dtype",
                      "unknown dtype '" + dtype +
                          "' (expected f16, bf16, f32, f64 or i32)");
  arg.dtype = *t;
  auto shape = j.find("shape");
  if (shape == j.end())
    return fieldError(field + ".shape", "missing");
  if (Status s =
          expectType(*shape, field + ".shape", shape->is_array(), "an array");
      !s)
    return s;
  for (size_t i = 0; i < shape->size(); ++i) {
    const Json &e = (*shape)[i];
    std::string sub = field + ".shape[" + std::to_string(i) + "]";
    ShapeEntry entry;
    if (e.is_string()) {
      entry.name = e.get<std::string>();
      if (!kernel.hasDim(entry.name))
        return fieldError(sub,
                          "dim '" + entry.name + "' is not declared in dims");
    } else if (e.is_number_integer()) {
      if (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(INT64_MAX))
        return fieldError(sub, "extent does not fit in 64 bits");
      entry.value = e.get<int64_t>();
      if (entry.value <= 0)
        return fieldError(sub, "extent must be positive, found " +
                                   std::to_string(entry.value));
    } else {
      return fieldError(
          sub, std::string("expected a dim name or an integer, found ") +
                   jsonTypeName(e));
    }
    arg.shape.push_back(entry);
  }
  return Status::success();
}

/// Checks that `name` (the value of reference field `key`) names an argument
/// of the kernel with the given role and rank.
Status checkRefArg(const KernelSpec &kernel, const std::string &field,
                   const std::string &name, ArgRole role, size_t rank,
                   bool wantFloat) {
  const ArgSpec *arg = kernel.findArg(name);
  if (!arg)
    return fieldError(field, "'" + name +
                                 "' is not an argument of the kernel (" +
                                 kernel.argNames() + ")");
  if (arg->role != role)
    return fieldError(field, "argument '" + name + "' must be an " +
                                 (role == ArgRole::Input ? "input" : "output"));
  if (arg->shape.size() != rank)
    return fieldError(field, "argument '" + name + "' must have rank " +
                                 std::to_string(rank) + ", found " +
                                 std::to_string(arg->shape.size()));
  if (wantFloat != isFloat(arg->dtype))
    return fieldError(field, "argument '" + name + "' must have " +
                                 (wantFloat ? "a floating-point" : "an i32") +
                                 " dtype, found " + dtypeName(arg->dtype));
  return Status::success();
}

/// Reads the required reference field `key` of `j` (reported as
/// `field.key`) into `out`: the name of an argument of the kernel with the
/// given role and rank, checked as by checkRefArg.
Status getRefArg(const Json &j, const char *key, const std::string &field,
                 const KernelSpec &kernel, ArgRole role, size_t rank,
                 bool wantFloat, std::string &out) {
  std::string sub = field + "." + key;
  if (Status s = getString(j, key, sub, out); !s)
    return s;
  return checkRefArg(kernel, sub, out, role, rank, wantFloat);
}

/// Reads the optional reference field `key` as getRefArg does; absent or
/// null leaves `out` unchanged.
Status getOptionalRefArg(const Json &j, const char *key,
                         const std::string &field, const KernelSpec &kernel,
                         ArgRole role, size_t rank, bool wantFloat,
                         std::optional<std::string> &out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return Status::success();
  std::string name;
  if (Status s = getRefArg(j, key, field, kernel, role, rank, wantFloat, name);
      !s)
    return s;
  out = name;
  return Status::success();
}

/// Refuses the fields `keys`, which belong to other kinds and would silently
/// change nothing: one that is present, not null and not an empty array is
/// an error with message `why`.
Status refuseFields(const Json &j, const std::string &field,
                    std::initializer_list<const char *> keys, const char *why) {
  for (const char *key : keys) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null() && !(it->is_array() && it->empty()))
      return fieldError(field + "." + key, why);
  }
  return Status::success();
}

/// Refuses key_bounds_exact (other than null or false) for `kind`.
Status refuseKeyBoundsExact(const Json &j, const std::string &field,
                            const std::string &kind) {
  auto exact = j.find("key_bounds_exact");
  if (exact != j.end() && !exact->is_null() &&
      !(exact->is_boolean() && !exact->get<bool>()))
    return fieldError(field + ".key_bounds_exact",
                      "not allowed for kind " + kind);
  return Status::success();
}

/// Reads an optional boolean member (absent or null leaves `out` unchanged).
Status getOptionalBool(const Json &obj, const std::string &key,
                       const std::string &field, bool &out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return Status::success();
  if (Status s = expectType(*it, field, it->is_boolean(), "a boolean"); !s)
    return s;
  out = it->get<bool>();
  return Status::success();
}

/// `reference.feature` of kind "linear".
Status parseFeatureMap(const Json &j, const std::string &field,
                       FeatureMapSpec &feature) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  static const std::vector<ExprVar> vars = {ExprVar::X};
  auto pw = j.find("pointwise");
  bool hasPointwise = pw != j.end() && !pw->is_null();
  if (hasPointwise) {
    if (Status s = getString(j, "pointwise", field + ".pointwise",
                             feature.pointwiseText);
        !s)
      return s;
    if (Status s = parseExprField(feature.pointwiseText, field + ".pointwise",
                                  feature.pointwise, &vars);
        !s)
      return s;
  }
  auto rf = j.find("random_features");
  if (rf != j.end() && !rf->is_null()) {
    if (!isInt64(*rf))
      return fieldError(field + ".random_features",
                        std::string("expected a non-negative integer, found ") +
                            jsonTypeName(*rf));
    feature.randomFeatures = rf->get<int64_t>();
    if (feature.randomFeatures < 0)
      return fieldError(field + ".random_features",
                        "must not be negative, found " +
                            std::to_string(feature.randomFeatures));
  }
  auto seed = j.find("seed");
  if (seed != j.end() && !seed->is_null()) {
    if (!seed->is_number_integer())
      return fieldError(field + ".seed", std::string("expected an integer, "
                                                     "found ") +
                                             jsonTypeName(*seed));
    feature.seed = seed->is_number_unsigned()
                       ? seed->get<uint64_t>()
                       : uint64_t(seed->get<int64_t>());
  }
  if (hasPointwise && feature.isRandom())
    return fieldError(field, "has both a pointwise map and random_features = " +
                                 std::to_string(feature.randomFeatures) +
                                 " (give one)");
  if (!hasPointwise && !feature.isRandom()) {
    // Neither: the identity map (docs/LinearFamily.md §4).
    feature.pointwiseText = "x";
    if (Status s = parseExprField(feature.pointwiseText, field + ".pointwise",
                                  feature.pointwise, &vars);
        !s)
      return s;
  }
  return Status::success();
}

/// `reference.weight` of kind "linear" (null or absent: none).
Status parseLinearWeight(const Json &ref, const std::string &field,
                         const KernelSpec &kernel, bool causal,
                         LinearWeightSpec &weight) {
  auto it = ref.find("weight");
  if (it == ref.end() || it->is_null())
    return Status::success();
  const Json &j = *it;
  if (Status s = expectType(j, field, j.is_object(), "an object or null"); !s)
    return s;
  std::string kind;
  if (Status s = getString(j, "kind", field + ".kind", kind); !s)
    return s;
  if (kind == "momentum") {
    weight.kind = LinearWeightKind::Momentum;
    if (Status s = getNumber(j, "beta", field + ".beta", true, weight.beta); !s)
      return s;
    if (Status s = getNumber(j, "gamma", field + ".gamma", true, weight.gamma);
        !s)
      return s;
    if (!causal)
      return fieldError(field, "the momentum weight needs causal = true");
    return Status::success();
  }
  if (kind == "rpe") {
    weight.kind = LinearWeightKind::Rpe;
    if (Status s = getRefArg(j, "bias", field, kernel, ArgRole::Input, 2, true,
                             weight.bias);
        !s)
      return s;
    const ArgSpec *bias = kernel.findArg(weight.bias);
    std::optional<int64_t> r = fixedExtent(kernel, bias->shape[1]);
    if (r && *r % 2 == 0)
      return fieldError(field + ".bias",
                        "argument '" + weight.bias + "' is [H, R] with R = " +
                            std::to_string(*r) + ", expected R = 2W + 1 odd");
    return Status::success();
  }
  return fieldError(field + ".kind", "unknown weight kind '" + kind +
                                         "' (expected momentum or rpe)");
}

/// The fields of a "linear" reference after the common ones (query, key,
/// value, out, kv_lengths, causal): docs/LinearFamily.md §4.
Status parseLinearReference(const Json &j, const std::string &field,
                            const KernelSpec &kernel, ReferenceSpec &ref) {
  auto feature = j.find("feature");
  if (feature == j.end() || feature->is_null())
    return fieldError(field + ".feature", "missing");
  if (Status s = parseFeatureMap(*feature, field + ".feature", ref.feature); !s)
    return s;
  static const std::vector<ExprVar> expandVars = {ExprVar::I};
  if (Status s = parseExprList(j, "expand", field + ".expand", ref.expandTexts,
                               ref.expand, &expandVars);
      !s)
    return s;
  if (Status s =
          parseLinearWeight(j, field + ".weight", kernel, ref.causal, ref.weight);
      !s)
    return s;
  if (Status s = getString(j, "normalize", field + ".normalize", ref.normalize);
      !s)
    return s;
  if (ref.normalize != "sum" && ref.normalize != "none")
    return fieldError(field + ".normalize",
                      "unknown normalization '" + ref.normalize +
                          "' for kind linear (expected sum or none)");
  if (Status s = getNumber(j, "eps", field + ".eps", ref.normalize == "sum",
                           ref.eps);
      !s)
    return s;
  if (ref.eps < 0)
    return fieldError(field + ".eps", "must not be negative");
  if (Status s = getOptionalBool(j, "clamp", field + ".clamp", ref.clamp); !s)
    return s;
  return refuseFields(j, field, {"scale", "score_mods", "masks", "window2d"},
                      "not allowed for kind linear (its masks are causal and "
                      "kv_lengths; the feature map sees q and k unscaled)");
}

/// Reads `normalize` of a kind whose only normalization is the softmax
/// (luna, coupler, emha): absent or "softmax".
Status parseSoftmaxOnly(const Json &j, const std::string &field,
                        const std::string &kind, ReferenceSpec &ref) {
  ref.normalize = "softmax";
  if (Status s = getOptionalString(j, "normalize", field + ".normalize",
                                   ref.normalize);
      !s)
    return s;
  if (ref.normalize != "softmax")
    return fieldError(field + ".normalize",
                      "unknown normalization '" + ref.normalize +
                          "' for kind " + kind + " (expected softmax)");
  return Status::success();
}

/// `reference.scale` of kinds "attention" and "luna": a string (an
/// expression) or a number; absent or null: rsqrt(D).  `vars` (when
/// non-null) restricts the expression's variables.
Status parseScale(const Json &j, const std::string &field, ReferenceSpec &ref,
                  const std::vector<ExprVar> *vars = nullptr) {
  // The scale defaults to rsqrt(D), as in the DSL.
  ref.scaleText = "(rsqrt (float (dim D)))";
  auto scale = j.find("scale");
  if (scale != j.end() && !scale->is_null()) {
    if (scale->is_string())
      ref.scaleText = scale->get<std::string>();
    else if (scale->is_number())
      ref.scaleText = scale->dump();
    else
      return fieldError(field + ".scale",
                        std::string("expected a string, found ") +
                            jsonTypeName(*scale));
  }
  return parseExprField(ref.scaleText, field + ".scale", ref.scale, vars);
}

/// Extent `d` of argument `a` as written in the manifest, with its fixed
/// value when a named dim has one: "C", "C = 8" or "8".
std::string extentText(const KernelSpec &kernel, const ArgSpec &a, size_t d) {
  std::optional<int64_t> e = fixedExtent(kernel, a.shape[d]);
  return a.shape[d].str() +
         (a.shape[d].isName() && e ? " = " + std::to_string(*e) : "");
}

/// The shape of argument `a` as written, fixed values shown: "[B, L = 8, C]".
std::string shapeText(const KernelSpec &kernel, const ArgSpec &a) {
  std::string s = "[";
  for (size_t d = 0; d < a.shape.size(); ++d)
    s += (d ? ", " : "") + extentText(kernel, a, d);
  return s + "]";
}

/// True when shape entries `a` and `b` both have fixed extents and these
/// differ (a symbolic one is checked when the reference is evaluated).
bool fixedExtentsDiffer(const KernelSpec &kernel, const ShapeEntry &a,
                        const ShapeEntry &b) {
  std::optional<int64_t> x = fixedExtent(kernel, a), y = fixedExtent(kernel, b);
  return x && y && *x != *y;
}

/// The fields of a "luna" reference after the common ones (query, key,
/// value, out, kv_lengths, causal): docs/LinearFamily.md §6.
Status parseLunaReference(const Json &j, const std::string &field,
                          const KernelSpec &kernel, ReferenceSpec &ref) {
  if (Status s = getRefArg(j, "memory", field, kernel, ArgRole::Input, 3, true,
                           ref.memory);
      !s)
    return s;
  auto rows = j.find("rows");
  if (rows == j.end() || rows->is_null())
    return fieldError(field + ".rows", "missing");
  if (!isInt64(*rows))
    return fieldError(field + ".rows",
                      std::string("expected a positive integer, found ") +
                          jsonTypeName(*rows));
  ref.rows = rows->get<int64_t>();
  if (ref.rows <= 0)
    return fieldError(field + ".rows",
                      "must be positive, found " + std::to_string(ref.rows));

  // Extents that are fixed must agree: memory [H, rows, D] with q [B, H, N,
  // D], D == Dv, and N == M when causal.
  const ArgSpec &q = *kernel.findArg(ref.query), &k = *kernel.findArg(ref.key),
                &v = *kernel.findArg(ref.value),
                &mem = *kernel.findArg(ref.memory);
  if (std::optional<int64_t> p = fixedExtent(kernel, mem.shape[1]);
      p && *p != ref.rows)
    return fieldError(field + ".memory",
                      "argument '" + ref.memory + "' has " +
                          extentText(kernel, mem, 1) +
                          " rows but rows = " + std::to_string(ref.rows));
  if (fixedExtentsDiffer(kernel, mem.shape[0], q.shape[1]))
    return fieldError(
        field + ".memory",
        "argument '" + ref.memory + "' is [" + extentText(kernel, mem, 0) +
            ", ...] but the query has H = " + extentText(kernel, q, 1) +
            " heads (expected [H, rows, D])");
  if (fixedExtentsDiffer(kernel, mem.shape[2], q.shape[3]))
    return fieldError(
        field + ".memory",
        "argument '" + ref.memory + "' is [..., " + extentText(kernel, mem, 2) +
            "] but the query has D = " + extentText(kernel, q, 3) +
            " (expected [H, rows, D])");
  if (fixedExtentsDiffer(kernel, v.shape[3], q.shape[3]))
    return fieldError(field + ".value",
                      "luna needs Dv == D (the packed sequence is both keys "
                      "and values), but the value has Dv = " +
                          extentText(kernel, v, 3) +
                          " and the query D = " + extentText(kernel, q, 3));
  if (ref.causal && fixedExtentsDiffer(kernel, q.shape[2], k.shape[2]))
    return fieldError(field + ".causal",
                      "causal luna needs N == M, but the query has N = " +
                          extentText(kernel, q, 2) +
                          " and the key M = " + extentText(kernel, k, 2));

  static const std::vector<ExprVar> noVars = {};
  if (Status s = parseScale(j, field, ref, &noVars); !s)
    return s;
  if (Status s = parseSoftmaxOnly(j, field, "luna", ref); !s)
    return s;
  if (Status s = refuseFields(j, field,
                              {"score_mods", "masks", "key_lower", "key_upper",
                               "feature", "expand", "weight", "eps", "clamp",
                               "window2d"},
                              "not allowed for kind luna (its masks are causal "
                              "and kv_lengths; its scores are fixed by the "
                              "memory)");
      !s)
    return s;
  return refuseKeyBoundsExact(j, field, "luna");
}

/// A "ema" reference (docs/LinearFamily.md §7): x [B, L, C], delta, alpha,
/// beta, gamma [C, n], omega [C] (or null), out [B, L, C], compat.  It is
/// not an attention: none of the attention fields apply.
Status parseEmaReference(const Json &j, const std::string &field,
                         const KernelSpec &kernel, ReferenceSpec &ref) {
  if (Status s = refuseFields(
          j, field,
          {"query", "key", "value", "kv_lengths", "memory", "rows", "scale",
           "normalize", "score_mods", "masks", "key_lower", "key_upper",
           "feature", "expand", "weight", "eps", "clamp", "window2d"},
          "not allowed for kind ema (not an attention: its arguments are "
          "input, delta, alpha, beta, gamma, omega and out)");
      !s)
    return s;
  if (Status s = refuseKeyBoundsExact(j, field, "ema"); !s)
    return s;
  // The EMA is causal by construction: causal may be omitted, null or true.
  bool causal = true;
  if (Status s = getOptionalBool(j, "causal", field + ".causal", causal); !s)
    return s;
  if (!causal)
    return fieldError(field + ".causal",
                      "kind ema is causal by construction (omit causal or set "
                      "it to true)");

  struct Role {
    const char *key;
    std::string *out;
    ArgRole role;
    size_t rank;
  } roles[] = {{"input", &ref.input, ArgRole::Input, 3},
               {"delta", &ref.delta, ArgRole::Input, 2},
               {"alpha", &ref.alpha, ArgRole::Input, 2},
               {"beta", &ref.beta, ArgRole::Input, 2},
               {"gamma", &ref.gamma, ArgRole::Input, 2},
               {"out", &ref.out, ArgRole::Output, 3}};
  for (const Role &r : roles)
    if (Status s =
            getRefArg(j, r.key, field, kernel, r.role, r.rank, true, *r.out);
        !s)
      return s;
  if (Status s = getOptionalRefArg(j, "omega", field, kernel, ArgRole::Input, 1,
                                   true, ref.omega);
      !s)
    return s;
  ref.compat = "paper";
  if (Status s = getOptionalString(j, "compat", field + ".compat", ref.compat);
      !s)
    return s;
  if (ref.compat != "paper" && ref.compat != "code")
    return fieldError(field + ".compat", "unknown compat '" + ref.compat +
                                             "' (expected paper or code)");
  if (ref.emaCodeCompat() && !ref.omega)
    return fieldError(field + ".omega",
                      "missing (compat = code needs omega [C]: out = silu(y + "
                      "omega x))");

  // Extents that are fixed must agree: out [B, L, C] like x, delta, alpha,
  // beta, gamma [C, n] with one n, omega [C].
  const ArgSpec &x = *kernel.findArg(ref.input), &out = *kernel.findArg(ref.out),
                &delta = *kernel.findArg(ref.delta);
  for (size_t d = 0; d < 3; ++d)
    if (fixedExtentsDiffer(kernel, out.shape[d], x.shape[d]))
      return fieldError(field + ".out",
                        "argument '" + ref.out + "' is " +
                            shapeText(kernel, out) + " but the input '" +
                            ref.input + "' is " + shapeText(kernel, x) +
                            " (expected the input's shape [B, L, C])");
  for (const Role &r : roles) {
    if (r.rank != 2)
      continue;
    const ArgSpec &a = *kernel.findArg(*r.out);
    if (fixedExtentsDiffer(kernel, a.shape[0], x.shape[2]))
      return fieldError(field + "." + r.key,
                        "argument '" + a.name + "' is " + shapeText(kernel, a) +
                            " but the input '" + ref.input + "' has C = " +
                            extentText(kernel, x, 2) +
                            " channels (expected [C, n])");
    if (fixedExtentsDiffer(kernel, a.shape[1], delta.shape[1]))
      return fieldError(field + "." + r.key,
                        "argument '" + a.name + "' is " + shapeText(kernel, a) +
                            " but delta '" + ref.delta + "' is " +
                            shapeText(kernel, delta) +
                            " (expected one order n: [C, n])");
  }
  if (ref.omega) {
    const ArgSpec &w = *kernel.findArg(*ref.omega);
    if (fixedExtentsDiffer(kernel, w.shape[0], x.shape[2]))
      return fieldError(field + ".omega",
                        "argument '" + w.name + "' is " + shapeText(kernel, w) +
                            " but the input '" + ref.input + "' has C = " +
                            extentText(kernel, x, 2) +
                            " channels (expected [C])");
  }
  return Status::success();
}

/// The fields of a "coupler" reference after the common ones (query, key,
/// value, out, kv_lengths, causal): docs/Variants.md, coupler.
Status parseCouplerReference(const Json &j, const std::string &field,
                             const KernelSpec &kernel, ReferenceSpec &ref) {
  auto grid = j.find("grid");
  if (grid == j.end() || !grid->is_array() || grid->size() != 2 ||
      !isInt64((*grid)[0]) || !isInt64((*grid)[1]) ||
      (*grid)[0].get<int64_t>() <= 0 || (*grid)[1].get<int64_t>() <= 0)
    return fieldError(field + ".grid",
                      "expected two positive integers [rows, cols]");
  ref.grid = {(*grid)[0].get<int64_t>(), (*grid)[1].get<int64_t>()};
  const int64_t tokens = ref.grid[0] * ref.grid[1];
  for (const std::string *arg : {&ref.query, &ref.key, &ref.value}) {
    const ArgSpec &a = *kernel.findArg(*arg);
    std::optional<int64_t> n = fixedExtent(kernel, a.shape[2]);
    if (n && *n != tokens)
      return fieldError(field + ".grid",
                        "the " + std::to_string(ref.grid[0]) + " x " +
                            std::to_string(ref.grid[1]) + " grid has " +
                            std::to_string(tokens) + " tokens but argument '" +
                            a.name + "' has " + std::to_string(*n));
  }
  if (ref.causal)
    return fieldError(field + ".causal",
                      "coupler has no causal form (its maps span the grid)");
  if (ref.kvLengths)
    return fieldError(field + ".kv_lengths",
                      "coupler takes no kv_lengths (every token is a key)");
  static const std::vector<ExprVar> noVars = {};
  if (Status s = parseScale(j, field, ref, &noVars); !s)
    return s;
  if (j.find("scale") == j.end() || j.at("scale").is_null()) {
    // Couplformer's code scales by D^(-1/4).
    ref.scaleText = "(pow (float (dim D)) -0.25)";
    if (Status s = parseExprField(ref.scaleText, field + ".scale", ref.scale,
                                  &noVars);
        !s)
      return s;
  }
  if (Status s = parseSoftmaxOnly(j, field, "coupler", ref); !s)
    return s;
  if (Status s = refuseFields(j, field,
                              {"score_mods", "masks", "key_lower", "key_upper",
                               "feature", "expand", "weight", "eps", "clamp",
                               "window2d", "memory", "rows", "isi", "csi"},
                              "not allowed for kind coupler (its two maps are "
                              "fixed by the grid)");
      !s)
    return s;
  return refuseKeyBoundsExact(j, field, "coupler");
}

/// The fields of an "emha" reference after the common ones:
/// docs/Variants.md, emha.
Status parseEmhaReference(const Json &j, const std::string &field,
                          const KernelSpec &kernel, ReferenceSpec &ref) {
  for (auto [key, out] : {std::pair{"isi", &ref.isi}, std::pair{"csi", &ref.csi}})
    if (Status s = getRefArg(j, key, field, kernel, ArgRole::Input, 4, true,
                             *out);
        !s)
      return s;
  auto k = j.find("kernel");
  if (k == j.end() || !isInt64(*k) || k->get<int64_t>() <= 0 ||
      k->get<int64_t>() % 2 == 0)
    return fieldError(field + ".kernel", "expected a positive odd integer");
  ref.kernelSize = k->get<int64_t>();
  const ArgSpec &q = *kernel.findArg(ref.query), &key = *kernel.findArg(ref.key);
  if (fixedExtentsDiffer(kernel, q.shape[1], key.shape[1]))
    return fieldError(field + ".key",
                      "emha needs as many key heads as query heads, but the "
                      "key has G = " + extentText(kernel, key, 1) +
                          " and the query H = " + extentText(kernel, q, 1));
  for (const std::string *w : {&ref.isi, &ref.csi}) {
    const ArgSpec &a = *kernel.findArg(*w);
    bool bad = fixedExtentsDiffer(kernel, a.shape[0], q.shape[1]) ||
               fixedExtentsDiffer(kernel, a.shape[1], q.shape[1]);
    for (size_t d : {2, 3})
      if (std::optional<int64_t> e = fixedExtent(kernel, a.shape[d]);
          e && *e != ref.kernelSize)
        bad = true;
    if (bad)
      return fieldError(field + (w == &ref.isi ? ".isi" : ".csi"),
                        "argument '" + a.name + "' is " + shapeText(kernel, a) +
                            " but expected [H, H, k, k] with H = " +
                            extentText(kernel, q, 1) +
                            " and k = " + std::to_string(ref.kernelSize));
  }
  if (ref.causal)
    return fieldError(field + ".causal",
                      "emha has no causal form (its map convolutions mix "
                      "neighbouring keys)");
  if (ref.kvLengths)
    return fieldError(field + ".kv_lengths",
                      "emha takes no kv_lengths (every key is in its maps)");
  static const std::vector<ExprVar> noVars = {};
  if (Status s = parseScale(j, field, ref, &noVars); !s)
    return s;
  if (Status s = parseSoftmaxOnly(j, field, "emha", ref); !s)
    return s;
  if (Status s = refuseFields(j, field,
                              {"score_mods", "masks", "key_lower", "key_upper",
                               "feature", "expand", "weight", "eps", "clamp",
                               "window2d", "memory", "rows", "grid"},
                              "not allowed for kind emha (its maps are fixed "
                              "by the weights)");
      !s)
    return s;
  return refuseKeyBoundsExact(j, field, "emha");
}

/// `reference.window2d` of kind "attention" (absent or null: none):
/// {"grid": [rows, cols], "window": w, "shift": s} with rows * cols the
/// query (and key) length when fixed, 0 < w <= min(rows, cols) and
/// 0 <= s < w.
Status parseWindow2d(const Json &ref, const std::string &field,
                     const KernelSpec &kernel, const ReferenceSpec &spec,
                     std::optional<Window2dSpec> &out) {
  auto it = ref.find("window2d");
  if (it == ref.end() || it->is_null())
    return Status::success();
  const Json &j = *it;
  if (Status s = expectType(j, field, j.is_object(), "an object or null"); !s)
    return s;
  Window2dSpec w;
  auto grid = j.find("grid");
  if (grid == j.end() || !grid->is_array() || grid->size() != 2 ||
      !isInt64((*grid)[0]) || !isInt64((*grid)[1]) ||
      (*grid)[0].get<int64_t>() <= 0 || (*grid)[1].get<int64_t>() <= 0)
    return fieldError(field + ".grid",
                      "expected two positive integers [rows, cols]");
  w.rows = (*grid)[0].get<int64_t>();
  w.cols = (*grid)[1].get<int64_t>();
  for (auto [key, value] : {std::pair{"window", &w.window},
                            std::pair{"shift", &w.shift}}) {
    auto v = j.find(key);
    if (v == j.end() || !isInt64(*v))
      return fieldError(field + "." + key, "expected an integer");
    *value = v->get<int64_t>();
  }
  if (w.window <= 0 || w.window > std::min(w.rows, w.cols))
    return fieldError(field + ".window",
                      "must be in [1, min(rows, cols)] = [1, " +
                          std::to_string(std::min(w.rows, w.cols)) +
                          "], found " + std::to_string(w.window));
  if (w.shift < 0 || w.shift >= w.window)
    return fieldError(field + ".shift", "must be in [0, window), found " +
                                            std::to_string(w.shift));
  for (const std::string *arg : {&spec.query, &spec.key}) {
    const ArgSpec &a = *kernel.findArg(*arg);
    std::optional<int64_t> n = fixedExtent(kernel, a.shape[2]);
    if (n && *n != w.rows * w.cols)
      return fieldError(field + ".grid",
                        "the " + std::to_string(w.rows) + " x " +
                            std::to_string(w.cols) + " grid has " +
                            std::to_string(w.rows * w.cols) +
                            " tokens but argument '" + a.name + "' has " +
                            std::to_string(*n));
  }
  out = w;
  return Status::success();
}

Status parseReference(const Json &j, const std::string &field,
                      const KernelSpec &kernel, ReferenceSpec &ref) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "kind", field + ".kind", ref.kind); !s)
    return s;
  if (ref.kind != "attention" && ref.kind != "linear" && ref.kind != "luna" &&
      ref.kind != "ema" && ref.kind != "block" && ref.kind != "coupler" &&
      ref.kind != "emha")
    return fieldError(field + ".kind",
                      "unknown reference kind '" + ref.kind +
                          "' (expected attention, linear, luna, ema, block, "
                          "coupler or emha)");
  if (ref.isEma())
    return parseEmaReference(j, field, kernel, ref);
  if (ref.isBlock())
    return parseBlockReference(j, field, kernel, ref);
  struct Role {
    const char *key;
    std::string *out;
    ArgRole role;
  } roles[] = {{"query", &ref.query, ArgRole::Input},
               {"key", &ref.key, ArgRole::Input},
               {"value", &ref.value, ArgRole::Input},
               {"out", &ref.out, ArgRole::Output}};
  for (const Role &r : roles)
    if (Status s = getRefArg(j, r.key, field, kernel, r.role, 4, true, *r.out);
        !s)
      return s;
  if (Status s = getOptionalRefArg(j, "kv_lengths", field, kernel,
                                   ArgRole::Input, 1, false, ref.kvLengths);
      !s)
    return s;
  if (Status s = getOptionalBool(j, "causal", field + ".causal", ref.causal);
      !s)
    return s;
  if (ref.isLinear())
    return parseLinearReference(j, field, kernel, ref);
  if (ref.isLuna())
    return parseLunaReference(j, field, kernel, ref);
  if (ref.isCoupler())
    return parseCouplerReference(j, field, kernel, ref);
  if (ref.isEmha())
    return parseEmhaReference(j, field, kernel, ref);
  ref.normalize = "softmax";
  if (Status s = getOptionalString(j, "normalize", field + ".normalize",
                                   ref.normalize);
      !s)
    return s;
  if (ref.normalize.empty())
    return fieldError(field + ".normalize", "must not be empty");

  if (Status s = parseScale(j, field, ref); !s)
    return s;
  if (Status s = parseExprList(j, "score_mods", field + ".score_mods",
                               ref.scoreModTexts, ref.scoreMods);
      !s)
    return s;
  if (Status s = parseExprList(j, "masks", field + ".masks", ref.maskTexts,
                               ref.masks);
      !s)
    return s;
  if (Status s = parseExprList(j, "key_lower", field + ".key_lower",
                               ref.keyLowerTexts, ref.keyLower);
      !s)
    return s;
  if (Status s = parseExprList(j, "key_upper", field + ".key_upper",
                               ref.keyUpperTexts, ref.keyUpper);
      !s)
    return s;
  if (Status s = parseWindow2d(j, field + ".window2d", kernel, ref,
                               ref.window2d);
      !s)
    return s;
  return getOptionalBool(j, "key_bounds_exact", field + ".key_bounds_exact",
                         ref.keyBoundsExact);
}

Status parseKernel(const Json &j, const std::string &field,
                   KernelSpec &kernel) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "name", field + ".name", kernel.name); !s)
    return s;
  if (kernel.name.empty())
    return fieldError(field + ".name", "must not be empty");
  if (Status s = getString(j, "entry", field + ".entry", kernel.entry); !s)
    return s;
  if (!isIdentifier(kernel.entry))
    return fieldError(field + ".entry",
                      "'" + kernel.entry + "' is not a C identifier");
  kernel.scheduleJson = "{}";
  auto schedule = j.find("schedule");
  if (schedule != j.end() && !schedule->is_null()) {
    if (Status s = expectType(*schedule, field + ".schedule",
                              schedule->is_object(), "an object");
        !s)
      return s;
    kernel.scheduleJson = schedule->dump();
    for (auto it = schedule->begin(); it != schedule->end(); ++it)
      if (isInt64(*it))
        kernel.scheduleKnobs[it.key()] = it->get<int64_t>();
  }
  if (Status s = getOptionalString(j, "form", field + ".form", kernel.form);
      !s)
    return s;
  if (Status s = getOptionalString(j, "tuning_key", field + ".tuning_key",
                                   kernel.tuningKey);
      !s)
    return s;
  if (auto gpu = j.find("gpu"); gpu != j.end() && !gpu->is_null()) {
    if (Status s = expectType(*gpu, field + ".gpu", gpu->is_object(),
                              "an object");
        !s)
      return s;
    for (auto [key, out] : {std::pair{"threads", &kernel.gpuThreads},
                            std::pair{"shared_bytes", &kernel.gpuSharedBytes}}) {
      auto it = gpu->find(key);
      std::string where = field + ".gpu." + key;
      if (it == gpu->end())
        return fieldError(where, "missing");
      if (!isInt64(*it) || it->get<int64_t>() < 0)
        return fieldError(where, "expected a non-negative integer");
      *out = it->get<int64_t>();
    }
  }

  auto dims = j.find("dims");
  if (dims == j.end())
    return fieldError(field + ".dims", "missing");
  if (Status s =
          expectType(*dims, field + ".dims", dims->is_object(), "an object");
      !s)
    return s;
  for (auto it = dims->begin(); it != dims->end(); ++it) {
    std::string sub = field + ".dims." + it.key();
    if (!isIdentifier(it.key()))
      return fieldError(sub, "'" + it.key() + "' is not a valid dim name");
    if (it->is_null()) {
      kernel.dims.emplace_back(it.key(), std::nullopt);
      continue;
    }
    if (!isInt64(*it))
      return fieldError(
          sub, std::string("expected a positive integer or null, found ") +
                   jsonTypeName(*it));
    int64_t v = it->get<int64_t>();
    if (v <= 0)
      return fieldError(sub, "must be positive, found " + std::to_string(v));
    kernel.dims.emplace_back(it.key(), v);
  }

  auto args = j.find("args");
  if (args == j.end())
    return fieldError(field + ".args", "missing");
  if (Status s =
          expectType(*args, field + ".args", args->is_array(), "an array");
      !s)
    return s;
  std::set<std::string> seen;
  bool sawOutput = false;
  for (size_t i = 0; i < args->size(); ++i) {
    std::string sub = field + ".args[" + std::to_string(i) + "]";
    ArgSpec arg;
    if (Status s = parseArg((*args)[i], sub, kernel, arg); !s)
      return s;
    if (!seen.insert(arg.name).second)
      return fieldError(sub + ".name",
                        "duplicate argument name '" + arg.name + "'");
    if (arg.role == ArgRole::Output)
      sawOutput = true;
    else if (sawOutput)
      return fieldError(sub + ".role",
                        "input '" + arg.name +
                            "' follows an output (outputs come last)");
    kernel.args.push_back(std::move(arg));
  }
  if (!sawOutput)
    return fieldError(field + ".args", "the kernel has no output argument");

  auto ref = j.find("reference");
  if (ref != j.end() && !ref->is_null()) {
    ReferenceSpec spec;
    if (Status s = parseReference(*ref, field + ".reference", kernel, spec); !s)
      return s;
    kernel.reference = std::move(spec);
  }
  return Status::success();
}

Status parseTop(const Json &j, Manifest &m) {
  if (!j.is_object())
    return Status::error(
        std::string("expected a JSON object at the top level, found ") +
        jsonTypeName(j));
  if (Status s = getString(j, "format", "format", m.format); !s)
    return s;
  if (m.format != "attnc-manifest")
    return fieldError("format", "expected \"attnc-manifest\", found \"" +
                                    m.format + "\"");
  auto version = j.find("version");
  if (version == j.end())
    return fieldError("version", "missing");
  if (!version->is_number_integer())
    return fieldError("version", std::string("expected an integer, found ") +
                                     jsonTypeName(*version));
  if (version->is_number_unsigned() && version->get<uint64_t>() > 1000000)
    return fieldError("version",
                      "unsupported manifest version (this runtime reads 1)");
  m.version = version->get<int64_t>();
  if (m.version != 1)
    return fieldError("version", "unsupported manifest version " +
                                     std::to_string(m.version) +
                                     " (this runtime reads 1)");
  if (Status s = getString(j, "source_hash", "source_hash", m.sourceHash); !s)
    return s;
  bool hex = m.sourceHash.size() == 16;
  for (char c : m.sourceHash)
    hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex)
    return fieldError("source_hash",
                      "expected 16 hex digits, found \"" + m.sourceHash + "\"");
  for (auto [key, out] :
       {std::pair{"compiler", &m.compiler}, std::pair{"source", &m.source},
        std::pair{"target", &m.target}, std::pair{"library", &m.library},
        std::pair{"device", &m.device}})
    if (Status s = getOptionalString(j, key, key, *out); !s)
      return s;
  if (m.device != "cpu" && m.device != "cuda" && m.device != "opencl")
    return fieldError("device", "expected \"cpu\", \"cuda\" or \"opencl\", "
                                "found \"" + m.device + "\"");

  auto kernels = j.find("kernels");
  if (kernels == j.end())
    return fieldError("kernels", "missing");
  if (Status s =
          expectType(*kernels, "kernels", kernels->is_array(), "an array");
      !s)
    return s;
  if (kernels->empty())
    return fieldError("kernels", "the library has no kernels");
  std::set<std::string> names;
  for (size_t i = 0; i < kernels->size(); ++i) {
    std::string field = "kernels[" + std::to_string(i) + "]";
    KernelSpec k;
    if (Status s = parseKernel((*kernels)[i], field, k); !s)
      return s;
    if (!names.insert(k.name).second)
      return fieldError(field + ".name",
                        "duplicate kernel name '" + k.name + "'");
    m.kernels.push_back(std::move(k));
  }
  return parseArchs(j, m);
}

} // namespace

Result<Manifest> parseManifest(const std::string &text,
                               const std::string &fileName) {
  Manifest m;
  try {
    Json j = Json::parse(text);
    if (Status s = parseTop(j, m); !s)
      return Status::error(fileName + ": " + s.message());
  } catch (const Json::parse_error &e) {
    return Status::error(fileName + ": invalid JSON: " + e.what());
  } catch (const std::exception &e) {
    return Status::error(fileName + ": invalid manifest: " + e.what());
  }
  return m;
}

Result<Manifest> loadManifest(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path +
                         ": cannot open manifest: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  return parseManifest(text, path);
}

} // namespace attn::rt
