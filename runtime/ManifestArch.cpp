//===- ManifestArch.cpp - Block references and architectures --------------===//
//
// The manifest additions of whole architectures (docs/Architectures.md §4):
// the "block" reference kind (a list of ops over the kernel's arguments and
// temporaries) and the top-level `archs` array (programs of kernel calls).
// Errors name the kernel or architecture, then the field:
// "kernel 'blk_0': kernels[3].reference.ops[1].mode: missing".
//
//===----------------------------------------------------------------------===//

#include "runtime/ManifestJson.h"

#include <algorithm>
#include <climits>
#include <map>
#include <set>

namespace attn::rt::manifest {

namespace {

/// Reads an integer member into `out`: `required` makes absence (or null) an
/// error, otherwise absence leaves `out` unchanged; values below `minValue`
/// are errors.
Status getInt(const Json &obj, const std::string &key, const std::string &field,
              bool required, int64_t minValue, int64_t &out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? fieldError(field, "missing") : Status::success();
  if (!isInt64(*it))
    return fieldError(field,
                      std::string("expected an integer, found ") +
                          (it->is_number() ? it->dump() : jsonTypeName(*it)));
  int64_t v = it->get<int64_t>();
  if (v < minValue)
    return fieldError(field, "must be at least " + std::to_string(minValue) +
                                 ", found " + std::to_string(v));
  out = v;
  return Status::success();
}

/// Reads a required array of integers >= `minValue` (at least `minRank`).
Status getIntList(const Json &obj, const std::string &key,
                  const std::string &field, int64_t minValue,
                  std::vector<int64_t> &out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return fieldError(field, "missing");
  if (Status s = expectType(*it, field, it->is_array(), "an array of integers");
      !s)
    return s;
  out.clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json &e = (*it)[i];
    std::string sub = field + "[" + std::to_string(i) + "]";
    if (!isInt64(e))
      return fieldError(sub, std::string("expected an integer, found ") +
                                 jsonTypeName(e));
    int64_t v = e.get<int64_t>();
    if (v < minValue)
      return fieldError(sub, "must be at least " + std::to_string(minValue) +
                                 ", found " + std::to_string(v));
    out.push_back(v);
  }
  return Status::success();
}

/// Reads a required string member that must be one of `allowed`.
Status getChoice(const Json &obj, const std::string &key,
                 const std::string &field,
                 std::initializer_list<const char *> allowed,
                 std::string &out) {
  if (Status s = getString(obj, key, field, out); !s)
    return s;
  std::vector<const char *> choices(allowed);
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (out == choices[i])
      return Status::success();
    list += std::string(i == 0                    ? ""
                        : i + 1 == choices.size() ? " or "
                                                  : ", ") +
            choices[i];
  }
  return fieldError(field, "unknown " + key + " '" + out + "' (expected " +
                               list + ")");
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// The "block" reference kind
//===----------------------------------------------------------------------===//

/// How many inputs an op takes and which of them are i32.
struct OpInputs {
  size_t min = 0, max = 0;
  std::vector<size_t> intSlots;
};

/// Reads the attributes of `op` (its `op` and `mode` decide which) and
/// returns the inputs it takes.
Status parseOpAttributes(const Json &j, const std::string &field,
                         BlockOpSpec &op, OpInputs &in) {
  const std::string &o = op.op;
  auto sub = [&](const char *key) { return field + "." + key; };
  if (o == "linear") {
    if (Status s = getChoice(j, "mode", sub("mode"), {"mul", "adder", "shift"},
                             op.mode);
        !s)
      return s;
    in = op.mode == "shift" ? OpInputs{3, 4, {1, 2}} : OpInputs{2, 3, {}};
    return Status::success();
  }
  if (o == "layernorm" || o == "rmsnorm") {
    in = o == "layernorm" ? OpInputs{3, 3, {}} : OpInputs{2, 2, {}};
    if (Status s = getNumber(j, "eps", sub("eps"), true, op.eps); !s)
      return s;
    if (op.eps < 0)
      return fieldError(sub("eps"), "must not be negative");
    return Status::success();
  }
  if (o == "gelu" || o == "relu" || o == "silu" || o == "merge_heads") {
    in = {1, 1, {}};
    return Status::success();
  }
  if (o == "add" || o == "concat") {
    in = {2, 2, {}};
    return Status::success();
  }
  if (o == "split_heads") {
    in = {1, 1, {}};
    return getInt(j, "heads", sub("heads"), true, 1, op.heads);
  }
  if (o == "slice") {
    in = {1, 1, {}};
    if (Status s = getInt(j, "offset", sub("offset"), true, 0, op.offset); !s)
      return s;
    return getInt(j, "size", sub("size"), true, 1, op.size);
  }
  if (o == "conv1d") {
    in = {2, 3, {}};
    if (Status s = getChoice(j, "mode", sub("mode"), {"mul", "adder"}, op.mode);
        !s)
      return s;
    return getChoice(j, "padding", sub("padding"), {"same", "causal"},
                     op.padding);
  }
  if (o == "conv2d" || o == "pool") {
    in = o == "conv2d" ? OpInputs{2, 3, {}} : OpInputs{1, 1, {}};
    if (o == "conv2d") {
      // Optional for conv2d: absent, null or "" is "mul".
      op.mode = "mul";
      if (j.contains("mode") && !j["mode"].is_null() && j["mode"] != "")
        if (Status s =
                getChoice(j, "mode", sub("mode"), {"mul", "adder"}, op.mode);
            !s)
          return s;
    } else if (Status s =
                   getChoice(j, "mode", sub("mode"), {"avg", "max"}, op.mode);
               !s) {
      return s;
    }
    if (Status s = getIntList(j, "grid", sub("grid"), 1, op.grid); !s)
      return s;
    if (op.grid.size() != 2)
      return fieldError(sub("grid"),
                        "expected [Hh, Ww], found " + shapeString(op.grid));
    // conv2d: the window is optional (0 = unspecified, the weight's k).
    if (Status s = getInt(j, "window", sub("window"), o == "pool",
                          o == "pool" ? 1 : 0, op.window);
        !s)
      return s;
    return getInt(j, "stride", sub("stride"), false, 1, op.stride);
  }
  // The materialized-map ops (evolving attention).
  if (o == "scores" || o == "blend") {
    in = {2, 2, {}};
    const char *key = o == "scores" ? "scale" : "weight";
    return getNumber(j, key, sub(key), true, op.scale);
  }
  if (o == "map_conv") {
    in = {3, 3, {}};
    if (Status s = getChoice(j, "act", sub("act"), {"none", "leaky_relu"},
                             op.act);
        !s)
      return s;
    return getInt(j, "window", sub("window"), false, 0, op.window);
  }
  if (o == "softmax") {
    in = {1, 1, {}};
    auto it = j.find("causal");
    if (it != j.end() && !it->is_null()) {
      if (!it->is_boolean())
        return fieldError(sub("causal"),
                          std::string("expected a boolean, found ") +
                              jsonTypeName(*it));
      op.causal = it->get<bool>();
    }
    return Status::success();
  }
  if (o == "attend") {
    in = {2, 2, {}};
    return Status::success();
  }
  return fieldError(sub("op"),
                    "unknown op '" + o +
                        "' (expected linear, layernorm, rmsnorm, gelu, relu, "
                        "silu, add, split_heads, merge_heads, slice, concat, "
                        "conv1d, conv2d, pool, scores, blend, map_conv, "
                        "softmax or attend)");
}

/// Where a value of a block reference comes from.
struct BlockValue {
  bool isInt = false;
  bool isArg = false;
};

Status parseBlockOp(const Json &j, const std::string &field,
                    const KernelSpec &kernel,
                    std::map<std::string, BlockValue> &defined,
                    BlockOpSpec &op) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "op", field + ".op", op.op); !s)
    return s;
  OpInputs arity;
  if (Status s = parseOpAttributes(j, field, op, arity); !s)
    return s;

  auto inputs = j.find("inputs");
  if (inputs == j.end() || inputs->is_null())
    return fieldError(field + ".inputs", "missing");
  if (Status s = expectType(*inputs, field + ".inputs", inputs->is_array(),
                            "an array of strings");
      !s)
    return s;
  std::string what = op.op + (op.mode.empty() ? "" : " (mode " + op.mode + ")");
  if (inputs->size() < arity.min || inputs->size() > arity.max)
    return fieldError(field + ".inputs",
                      what + " takes " + std::to_string(arity.min) +
                          (arity.max > arity.min
                               ? " or " + std::to_string(arity.max)
                               : std::string()) +
                          " inputs, found " + std::to_string(inputs->size()));
  for (size_t i = 0; i < inputs->size(); ++i) {
    std::string sub = field + ".inputs[" + std::to_string(i) + "]";
    const Json &e = (*inputs)[i];
    if (Status s = expectType(e, sub, e.is_string(), "a string"); !s)
      return s;
    std::string name = e.get<std::string>();
    auto it = defined.find(name);
    if (it == defined.end()) {
      const ArgSpec *a = kernel.findArg(name);
      if (a && a->role == ArgRole::Output)
        return fieldError(sub, "reads the output '" + name +
                                   "' before an op writes it");
      return fieldError(sub, "'" + name +
                                 "' is neither an input of the kernel (" +
                                 kernel.argNames() +
                                 ") nor a temporary written by an earlier op");
    }
    bool wantInt = std::find(arity.intSlots.begin(), arity.intSlots.end(), i) !=
                   arity.intSlots.end();
    if (wantInt && !it->second.isArg)
      return fieldError(sub, what +
                                 " reads its integer weights from i32 "
                                 "arguments, but '" +
                                 name + "' is a temporary");
    if (wantInt != it->second.isInt)
      return fieldError(sub, "'" + name + "' must have " +
                                 (wantInt ? "dtype i32"
                                          : "a floating-point "
                                            "dtype") +
                                 " here");
    op.inputs.push_back(std::move(name));
  }

  if (Status s = getString(j, "out", field + ".out", op.out); !s)
    return s;
  if (Status s = getIntList(j, "shape", field + ".shape", 1, op.shape); !s)
    return s;
  const ArgSpec *outArg = kernel.findArg(op.out);
  if (outArg && outArg->role == ArgRole::Input)
    return fieldError(field + ".out",
                      "writes the input argument '" + op.out + "'");
  if (defined.count(op.out))
    return fieldError(field + ".out", "'" + op.out + "' is written twice");
  if (!outArg && (op.out.size() < 2 || op.out[0] != '%'))
    return fieldError(field + ".out",
                      "'" + op.out + "' is neither an output of the kernel (" +
                          kernel.argNames() + ") nor a temporary '%N'");
  if (outArg) {
    if (!isFloat(outArg->dtype))
      return fieldError(field + ".out", "the output '" + op.out +
                                            "' must have a floating-point "
                                            "dtype, found " +
                                            dtypeName(outArg->dtype));
    bool differ = outArg->shape.size() != op.shape.size();
    for (size_t d = 0; !differ && d < op.shape.size(); ++d) {
      std::optional<int64_t> e = fixedExtent(kernel, outArg->shape[d]);
      differ = e && *e != op.shape[d];
    }
    if (differ) {
      std::string declared = "[";
      for (size_t d = 0; d < outArg->shape.size(); ++d)
        declared += (d ? ", " : "") + outArg->shape[d].str();
      return fieldError(field + ".shape", shapeString(op.shape) +
                                              " disagrees with the output '" +
                                              op.out + "' " + declared + "]");
    }
  }
  defined[op.out] = BlockValue{false, false};
  return Status::success();
}

} // namespace

Status parseBlockReference(const Json &j, const std::string &field,
                           const KernelSpec &kernel, ReferenceSpec &ref) {
  auto run = [&]() -> Status {
    std::map<std::string, BlockValue> defined;
    for (const ArgSpec &a : kernel.args)
      if (a.role == ArgRole::Input)
        defined[a.name] = BlockValue{a.dtype == DType::I32, true};
    for (const ArgSpec &a : kernel.args)
      if (a.role == ArgRole::Output) {
        ref.out = a.name;
        break;
      }
    auto ops = j.find("ops");
    if (ops == j.end() || ops->is_null())
      return fieldError(field + ".ops", "missing");
    if (Status s = expectType(*ops, field + ".ops", ops->is_array(),
                              "an array of ops");
        !s)
      return s;
    if (ops->empty())
      return fieldError(field + ".ops", "a block kernel needs at least one op");
    for (size_t i = 0; i < ops->size(); ++i) {
      BlockOpSpec op;
      if (Status s =
              parseBlockOp((*ops)[i], field + ".ops[" + std::to_string(i) + "]",
                           kernel, defined, op);
          !s)
        return s;
      ref.ops.push_back(std::move(op));
    }
    for (const ArgSpec &a : kernel.args)
      if (a.role == ArgRole::Output && !defined.count(a.name))
        return fieldError(field + ".ops",
                          "no op writes the output '" + a.name + "'");
    return Status::success();
  };
  return run().withContext("kernel '" + kernel.name + "'");
}

//===----------------------------------------------------------------------===//
// Architectures
//===----------------------------------------------------------------------===//

namespace {

Status parseInit(const Json &j, const std::string &field,
                 const ArchTensorSpec &weight, WeightInitSpec &init) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  std::string dist;
  if (Status s = getChoice(j, "dist", field + ".dist",
                           {"uniform", "normal", "shift", "sign"}, dist);
      !s)
    return s;
  if ((dist == "uniform" || dist == "normal") && !isFloat(weight.dtype))
    return fieldError(field + ".dist", "a " + dist +
                                           " init needs a floating-point "
                                           "weight, found dtype " +
                                           dtypeName(weight.dtype));
  if (dist == "uniform") {
    init.dist = WeightDist::Uniform;
    if (Status s = getNumber(j, "bound", field + ".bound", true, init.bound);
        !s)
      return s;
    if (init.bound < 0)
      return fieldError(field + ".bound", "must not be negative");
  } else if (dist == "normal") {
    init.dist = WeightDist::Normal;
    if (Status s = getNumber(j, "mean", field + ".mean", true, init.mean); !s)
      return s;
    if (Status s = getNumber(j, "std", field + ".std", true, init.std); !s)
      return s;
    if (init.std < 0)
      return fieldError(field + ".std", "must not be negative");
  } else if (dist == "shift") {
    init.dist = WeightDist::Shift;
    if (Status s = getInt(j, "min", field + ".min", true, INT32_MIN, init.min);
        !s)
      return s;
    if (Status s = getInt(j, "max", field + ".max", true, INT32_MIN, init.max);
        !s)
      return s;
    if (init.max > INT32_MAX)
      return fieldError(field + ".max", "does not fit in an i32");
    if (init.min > init.max)
      return fieldError(field, "min " + std::to_string(init.min) +
                                   " is greater than max " +
                                   std::to_string(init.max));
  } else {
    init.dist = WeightDist::Sign;
  }
  return Status::success();
}

Status parseArchTensor(const Json &j, const std::string &field, bool isWeight,
                       ArchTensorSpec &t) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "name", field + ".name", t.name); !s)
    return s;
  if (t.name.empty())
    return fieldError(field + ".name", "must not be empty");
  std::string dtype;
  if (Status s = getString(j, "dtype", field + ".dtype", dtype); !s)
    return s;
  std::optional<DType> d = parseDType(dtype);
  if (!d)
    return fieldError(field + ".dtype",
                      "unknown dtype '" + dtype +
                          "' (expected f16, bf16, f32, f64 or i32)");
  t.dtype = *d;
  if (Status s = getIntList(j, "shape", field + ".shape", 1, t.shape); !s)
    return s;
  auto init = j.find("init");
  if (!isWeight) {
    if (init != j.end() && !init->is_null())
      return fieldError(field + ".init", "only weights have an init");
    return Status::success();
  }
  if (init == j.end() || init->is_null())
    return fieldError(field + ".init", "missing (weights need one for "
                                       "seeded random values)");
  WeightInitSpec spec;
  if (Status s = parseInit(*init, field + ".init", t, spec); !s)
    return s;
  t.init = spec;
  return Status::success();
}

/// Reads the tensor list `key` of an arch (`required`: absence is an error).
Status parseArchTensors(const Json &j, const char *key,
                        const std::string &field, bool required,
                        std::set<std::string> &names,
                        std::vector<ArchTensorSpec> &out) {
  auto it = j.find(key);
  std::string sub = field + "." + key;
  if (it == j.end() || it->is_null())
    return required ? fieldError(sub, "missing") : Status::success();
  if (Status s = expectType(*it, sub, it->is_array(), "an array"); !s)
    return s;
  for (size_t i = 0; i < it->size(); ++i) {
    std::string at = sub + "[" + std::to_string(i) + "]";
    ArchTensorSpec t;
    if (Status s =
            parseArchTensor((*it)[i], at, std::string(key) == "weights", t);
        !s)
      return s;
    if (!names.insert(t.name).second)
      return fieldError(at + ".name", "duplicate tensor name '" + t.name +
                                          "' (names are unique across "
                                          "inputs, outputs, weights and "
                                          "values)");
    out.push_back(std::move(t));
  }
  return Status::success();
}

/// Checks call `c` of `arch` against its kernel: argument count, dtypes,
/// ranks, literal and fixed extents, consistent symbolic dims; and the
/// dataflow: inputs read only once written, outputs written only into
/// values and outputs.
Status checkCall(const ArchSpec &arch, const ArchCallSpec &c,
                 const KernelSpec &k, const std::string &field,
                 std::set<std::string> &written) {
  if (c.args.size() != k.args.size())
    return fieldError(field + ".args", "kernel '" + k.name + "' takes " +
                                           std::to_string(k.args.size()) +
                                           " arguments (" + k.argNames() +
                                           "), found " +
                                           std::to_string(c.args.size()));
  std::map<std::string, std::pair<int64_t, std::string>> bound;
  std::set<std::string> readHere, writtenHere;
  for (size_t i = 0; i < c.args.size(); ++i) {
    std::string sub = field + ".args[" + std::to_string(i) + "]";
    const ArgSpec &a = k.args[i];
    const std::string &name = c.args[i];
    const ArchTensorSpec *t = arch.findTensor(name);
    if (!t)
      return fieldError(sub, "'" + name +
                                 "' is not an input, output, weight or value "
                                 "of the arch");
    std::string where =
        "'" + name + "' (for " + k.name + "'s argument '" + a.name + "')";
    if (t->dtype != a.dtype)
      return fieldError(sub, where + " has dtype " + dtypeName(t->dtype) +
                                 " but the kernel expects " +
                                 dtypeName(a.dtype));
    if (t->shape.size() != a.shape.size())
      return fieldError(sub, where + " is " + shapeString(t->shape) +
                                 " but the kernel expects rank " +
                                 std::to_string(a.shape.size()));
    for (size_t d = 0; d < a.shape.size(); ++d) {
      const ShapeEntry &e = a.shape[d];
      int64_t extent = t->shape[d];
      std::optional<int64_t> fixed = fixedExtent(k, e);
      if (fixed && *fixed != extent)
        return fieldError(sub, where + " is " + shapeString(t->shape) +
                                   " but the kernel fixes dim " +
                                   std::to_string(d) +
                                   (e.isName() ? " (" + e.name + ")" : "") +
                                   " = " + std::to_string(*fixed));
      if (fixed)
        continue;
      auto [it, fresh] = bound.emplace(e.name, std::pair{extent, name});
      if (!fresh && it->second.first != extent)
        return fieldError(sub, where + " has " + e.name + " = " +
                                   std::to_string(extent) + " but '" +
                                   it->second.second + "' has " + e.name +
                                   " = " + std::to_string(it->second.first));
    }
    bool isIn = false, isWeight = false;
    for (const ArchTensorSpec &x : arch.inputs)
      isIn = isIn || x.name == name;
    for (const ArchTensorSpec &x : arch.weights)
      isWeight = isWeight || x.name == name;
    if (a.role == ArgRole::Input) {
      if (!isIn && !isWeight && !written.count(name))
        return fieldError(sub,
                          "reads '" + name + "' before any call writes it");
      readHere.insert(name);
      continue;
    }
    if (isIn || isWeight)
      return fieldError(sub, "writes the " +
                                 std::string(isIn ? "input" : "weight") + " '" +
                                 name + "'");
    if (readHere.count(name))
      return fieldError(sub,
                        "'" + name + "' is both read and written by the call");
    if (!writtenHere.insert(name).second)
      return fieldError(sub, "'" + name + "' is written twice by the call");
  }
  for (size_t i = 0; i < c.args.size(); ++i)
    if (k.args[i].role == ArgRole::Output)
      written.insert(c.args[i]);
  return Status::success();
}

Status parseArch(const Json &j, const std::string &field, const Manifest &m,
                 ArchSpec &arch) {
  if (Status s = expectType(j, field, j.is_object(), "an object"); !s)
    return s;
  if (Status s = getString(j, "name", field + ".name", arch.name); !s)
    return s;
  if (arch.name.empty())
    return fieldError(field + ".name", "must not be empty");
  auto run = [&]() -> Status {
    std::set<std::string> names;
    if (Status s =
            parseArchTensors(j, "inputs", field, true, names, arch.inputs);
        !s)
      return s;
    if (Status s =
            parseArchTensors(j, "outputs", field, true, names, arch.outputs);
        !s)
      return s;
    if (arch.outputs.empty())
      return fieldError(field + ".outputs", "the arch has no outputs");
    if (Status s =
            parseArchTensors(j, "weights", field, false, names, arch.weights);
        !s)
      return s;
    if (Status s =
            parseArchTensors(j, "values", field, false, names, arch.values);
        !s)
      return s;
    auto calls = j.find("calls");
    if (calls == j.end() || calls->is_null())
      return fieldError(field + ".calls", "missing");
    if (Status s =
            expectType(*calls, field + ".calls", calls->is_array(), "an array");
        !s)
      return s;
    if (calls->empty())
      return fieldError(field + ".calls", "the arch has no calls");
    std::set<std::string> written;
    for (size_t i = 0; i < calls->size(); ++i) {
      std::string sub = field + ".calls[" + std::to_string(i) + "]";
      const Json &cj = (*calls)[i];
      if (Status s = expectType(cj, sub, cj.is_object(), "an object"); !s)
        return s;
      ArchCallSpec c;
      if (Status s = getString(cj, "kernel", sub + ".kernel", c.kernel); !s)
        return s;
      const KernelSpec *k = m.findKernel(c.kernel);
      if (!k)
        return fieldError(sub + ".kernel",
                          "the manifest has no kernel named '" + c.kernel +
                              "'");
      auto args = cj.find("args");
      if (args == cj.end() || args->is_null())
        return fieldError(sub + ".args", "missing");
      if (Status s = expectType(*args, sub + ".args", args->is_array(),
                                "an array of strings");
          !s)
        return s;
      for (size_t a = 0; a < args->size(); ++a) {
        const Json &e = (*args)[a];
        std::string at = sub + ".args[" + std::to_string(a) + "]";
        if (Status s = expectType(e, at, e.is_string(), "a string"); !s)
          return s;
        c.args.push_back(e.get<std::string>());
      }
      if (Status s = checkCall(arch, c, *k, sub, written); !s)
        return s;
      arch.calls.push_back(std::move(c));
    }
    for (const ArchTensorSpec &t : arch.outputs)
      if (!written.count(t.name))
        return fieldError(field + ".outputs",
                          "no call writes the output '" + t.name + "'");
    for (const ArchTensorSpec &t : arch.values)
      if (!written.count(t.name))
        return fieldError(field + ".values",
                          "no call writes the value '" + t.name + "'");
    return Status::success();
  };
  return run().withContext("arch '" + arch.name + "'");
}

} // namespace

Status parseArchs(const Json &top, Manifest &m) {
  auto archs = top.find("archs");
  if (archs == top.end() || archs->is_null())
    return Status::success();
  if (Status s = expectType(*archs, "archs", archs->is_array(), "an array"); !s)
    return s;
  std::set<std::string> names;
  for (size_t i = 0; i < archs->size(); ++i) {
    std::string field = "archs[" + std::to_string(i) + "]";
    ArchSpec a;
    if (Status s = parseArch((*archs)[i], field, m, a); !s)
      return s;
    if (!names.insert(a.name).second)
      return fieldError(field + ".name",
                        "duplicate arch name '" + a.name + "'");
    m.archs.push_back(std::move(a));
  }
  return Status::success();
}

} // namespace attn::rt::manifest
