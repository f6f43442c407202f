//===- ArchRunner.cpp - Running and checking whole architectures ----------===//

#include "runtime/ArchRunner.h"

#include "runtime/BlockReference.h"
#include "runtime/Random.h"
#include "runtime/Reference.h"
#include "runtime/SafeTensors.h"

#include <cmath>
#include <cstring>

namespace attn::rt {

uint64_t weightSeed(uint64_t seed, const std::string &name) {
  return argumentSeed(seed, name);
}

void fillWeight(Tensor &tensor, const WeightInitSpec &init,
                uint64_t streamSeed) {
  Rng rng(streamSeed);
  const double twoPi = 6.283185307179586476925;
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    double v = 0;
    switch (init.dist) {
    case WeightDist::Uniform:
      v = -init.bound + 2.0 * init.bound * rng.uniform01();
      break;
    case WeightDist::Normal: {
      // Box-Muller, one value per pair of uniforms; u1 in (0, 1].
      double u1 = 1.0 - rng.uniform01(), u2 = rng.uniform01();
      v = init.mean +
          init.std * std::sqrt(-2.0 * std::log(u1)) * std::cos(twoPi * u2);
      break;
    }
    case WeightDist::Shift:
      v = double(rng.uniformInt(init.min, init.max));
      break;
    case WeightDist::Sign:
      v = double(rng.uniformInt(-1, 1));
      break;
    }
    tensor.setDouble(i, v);
  }
}

std::string ArchCheckLine::format(const std::string &archName) const {
  if (call < 0)
    return formatCheckLine("end-to-end " + archName + " -> " + value, result);
  return formatCheckLine(
      "call " + std::to_string(call) + " " + kernel + " -> " + value, result);
}

bool ArchCheckReport::pass() const {
  for (const std::vector<ArchCheckLine> *lines : {&calls, &endToEnd})
    for (const ArchCheckLine &l : *lines)
      if (!l.result.pass)
        return false;
  return true;
}

namespace {

/// A view of `t` (no copy); `t` must outlive it.
Tensor viewOf(const Tensor &t) {
  return Tensor::view(t.dtype(), t.shape(), const_cast<void *>(t.data()));
}

/// `t` in f64 when it is a float tensor, else a copy.
Result<Tensor> toF64(const Tensor &t) {
  if (!isFloat(t.dtype()))
    return t.clone();
  Result<Tensor> out = Tensor::create(DType::F64, t.shape());
  if (!out)
    return out;
  for (int64_t i = 0; i < t.numElements(); ++i)
    out->dataAs<double>()[i] = t.getDouble(i);
  return out;
}

std::string describeSpec(const ArchTensorSpec &t) {
  return std::string(dtypeName(t.dtype)) + formatShape(t.shape);
}

} // namespace

Result<std::unique_ptr<ArchRunner>> ArchRunner::create(const Library &library,
                                                       const ArchSpec &arch) {
  std::unique_ptr<ArchRunner> r(new ArchRunner(library, arch));
  const std::string where = "arch '" + arch.name + "'";
  for (const std::vector<ArchTensorSpec> *list :
       {&arch.inputs, &arch.weights, &arch.values, &arch.outputs})
    for (const ArchTensorSpec &t : *list) {
      Result<Tensor> made = Tensor::create(t.dtype, t.shape);
      if (!made)
        return made.status().withContext(where + ": '" + t.name + "'");
      r->store.emplace(t.name, made.take());
    }
  for (size_t i = 0; i < arch.calls.size(); ++i) {
    const std::string callWhere = where + ": call " + std::to_string(i);
    const KernelSpec *k = library.manifest().findKernel(arch.calls[i].kernel);
    if (!k)
      return Status::error(callWhere + ": library " + library.path() +
                           " has no kernel named '" + arch.calls[i].kernel +
                           "'");
    if (arch.calls[i].args.size() != k->args.size())
      return Status::error(callWhere + ": kernel '" + k->name + "' takes " +
                           std::to_string(k->args.size()) + " arguments");
    for (const std::string &name : arch.calls[i].args)
      if (!r->store.count(name))
        return Status::error(callWhere + ": '" + name +
                             "' is not a tensor of the arch");
    r->kernels.push_back(k);
    TensorMap args = r->callArgs(i);
    Result<PreparedCall> p = library.prepare(*k, args);
    if (!p)
      return p.status().withContext(callWhere);
    r->prepared.push_back(p.take());
  }
  return Result<std::unique_ptr<ArchRunner>>(std::move(r));
}

TensorMap ArchRunner::callArgs(size_t index) const {
  TensorMap args;
  const KernelSpec &k = *kernels[index];
  for (size_t a = 0; a < k.args.size(); ++a)
    args.emplace(k.args[a].name, viewOf(store.at(spec.calls[index].args[a])));
  return args;
}

const Tensor *ArchRunner::tensor(const std::string &name) const {
  auto it = store.find(name);
  return it == store.end() ? nullptr : &it->second;
}

Status ArchRunner::setInput(const std::string &name, const Tensor &value) {
  const ArchTensorSpec *spec_ = nullptr;
  for (const ArchTensorSpec &t : spec.inputs)
    if (t.name == name)
      spec_ = &t;
  if (!spec_) {
    std::string names;
    for (const ArchTensorSpec &t : spec.inputs)
      names += (names.empty() ? "" : ", ") + t.name;
    return Status::error("arch '" + spec.name + "' has no input named '" +
                         name + "' (its inputs are " + names + ")");
  }
  if (value.dtype() != spec_->dtype || value.shape() != spec_->shape)
    return Status::error("input '" + name + "' of arch '" + spec.name +
                         "' is " + describeSpec(*spec_) + ", got " +
                         value.describe());
  std::memcpy(store.at(name).data(), value.data(), value.sizeInBytes());
  return Status::success();
}

void ArchRunner::randomInputs(uint64_t seed, double lo, double hi) {
  for (const ArchTensorSpec &t : spec.inputs)
    fillUniform(store.at(t.name), argumentSeed(seed, t.name), lo, hi);
}

void ArchRunner::randomWeights(uint64_t seed) {
  for (const ArchTensorSpec &t : spec.weights)
    fillWeight(store.at(t.name), *t.init, weightSeed(seed, t.name));
}

Status ArchRunner::setWeights(const TensorMap &weights) {
  std::vector<std::string> problems;
  for (const ArchTensorSpec &t : spec.weights) {
    auto it = weights.find(t.name);
    if (it == weights.end())
      problems.push_back("missing tensor '" + t.name + "' (" + describeSpec(t) +
                         ")");
    else if (it->second.dtype() != t.dtype)
      problems.push_back("tensor '" + t.name + "' has dtype " +
                         dtypeName(it->second.dtype()) + " but the arch " +
                         "expects " + describeSpec(t));
    else if (it->second.shape() != t.shape)
      problems.push_back("tensor '" + t.name + "' has shape " +
                         formatShape(it->second.shape()) + " but the arch " +
                         "expects " + describeSpec(t));
  }
  for (const auto &[name, t] : weights) {
    bool known = false;
    for (const ArchTensorSpec &w : spec.weights)
      known = known || w.name == name;
    if (!known)
      problems.push_back("unexpected tensor '" + name + "' " + t.describe() +
                         " (not a weight of the arch)");
  }
  if (!problems.empty()) {
    std::string msg = "the weights do not match arch '" + spec.name + "' (" +
                      std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem" : " problems") + "):";
    for (const std::string &p : problems)
      msg += "\n  " + p;
    return Status::error(msg);
  }
  for (const ArchTensorSpec &t : spec.weights) {
    const Tensor &src = weights.at(t.name);
    std::memcpy(store.at(t.name).data(), src.data(), src.sizeInBytes());
  }
  return Status::success();
}

Status ArchRunner::loadWeights(const std::string &path) {
  Result<SafeTensors> file = readSafeTensors(path);
  if (!file)
    return file.status();
  return setWeights(file->tensors).withContext(path);
}

Status ArchRunner::saveWeights(const std::string &path) const {
  TensorMap views;
  for (const ArchTensorSpec &t : spec.weights)
    views.emplace(t.name, viewOf(store.at(t.name)));
  return writeSafeTensors(path, views,
                          {{"format", "attnc-weights"}, {"arch", spec.name}});
}

Status ArchRunner::run() {
  for (size_t i = 0; i < prepared.size(); ++i)
    if (Status s = prepared[i].run(); !s)
      return s.withContext("arch '" + spec.name + "': call " +
                           std::to_string(i));
  return Status::success();
}

Status ArchRunner::checkCall(size_t index, int64_t maxRows,
                             std::vector<ArchCheckLine> &lines) const {
  const KernelSpec &k = *kernels[index];
  const std::string where = "arch '" + spec.name + "': call " +
                            std::to_string(index) + " (kernel '" + k.name +
                            "')";
  if (!k.reference)
    return Status::error(where + ": the kernel has no reference description, "
                                 "so it cannot be checked");
  TensorMap args = callArgs(index);
  Result<std::vector<NamedReferenceOutput>> outs =
      computeReferenceOutputs(k, args, maxRows);
  if (!outs)
    return outs.status().withContext(where);
  for (const NamedReferenceOutput &o : *outs) {
    std::string value;
    for (size_t a = 0; a < k.args.size(); ++a)
      if (k.args[a].name == o.name)
        value = spec.calls[index].args[a];
    Result<CheckResult> r = checkAgainstReference(args.at(o.name), o.output);
    if (!r)
      return r.status().withContext(where + ": output '" + o.name + "'");
    lines.push_back({int64_t(index), k.name, value, *r});
  }
  return Status::success();
}

Status ArchRunner::checkEndToEnd(std::vector<ArchCheckLine> &lines) const {
  // The chains by arch name: float64 references and float32 baselines.
  TensorMap v64, v32;
  for (const std::vector<ArchTensorSpec> *list : {&spec.inputs, &spec.weights})
    for (const ArchTensorSpec &t : *list) {
      Result<Tensor> t64 = toF64(store.at(t.name));
      if (!t64)
        return t64.status();
      v64.emplace(t.name, t64.take());
      v32.emplace(t.name, store.at(t.name).clone());
    }
  for (size_t i = 0; i < spec.calls.size(); ++i) {
    const KernelSpec &k = *kernels[i];
    const std::vector<std::string> &names = spec.calls[i].args;
    const std::string where = "arch '" + spec.name +
                              "': end-to-end reference: call " +
                              std::to_string(i) + " (kernel '" + k.name + "')";
    if (!k.reference)
      return Status::error(where + ": the kernel has no reference description");
    TensorMap a64, a32;
    for (size_t a = 0; a < k.args.size(); ++a)
      if (k.args[a].role == ArgRole::Input) {
        a64.emplace(k.args[a].name, viewOf(v64.at(names[a])));
        a32.emplace(k.args[a].name, viewOf(v32.at(names[a])));
      }
    Result<std::vector<NamedReferenceOutput>> r64 =
        computeReferenceOutputs(k, a64, 0, ReferencePrecision::Float64Only);
    if (!r64)
      return r64.status().withContext(where);
    Result<std::vector<NamedReferenceOutput>> r32 =
        computeReferenceOutputs(k, a32, 0, ReferencePrecision::Float32Only);
    if (!r32)
      return r32.status().withContext(where);
    for (size_t o = 0; o < r64->size(); ++o)
      for (size_t a = 0; a < k.args.size(); ++a)
        if (k.args[a].name == (*r64)[o].name) {
          v64.insert_or_assign(names[a], std::move((*r64)[o].output.ref64));
          v32.insert_or_assign(names[a], std::move((*r32)[o].output.baseline));
        }
  }
  for (const ArchTensorSpec &t : spec.outputs) {
    int64_t worst = -1;
    Result<double> err = maxAbsDiff(store.at(t.name), v64.at(t.name), &worst);
    if (!err)
      return err.status();
    Result<double> base = maxAbsDiff(v32.at(t.name), v64.at(t.name));
    if (!base)
      return base.status();
    CheckResult r = applyToleranceRule(*err, *base);
    r.worstIndex = worst;
    lines.push_back({-1, "", t.name, r});
  }
  return Status::success();
}

Result<ArchCheckReport> ArchRunner::runAndCheck(int64_t maxRows) {
  ArchCheckReport report;
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (Status s = prepared[i].run(); !s)
      return s.withContext("arch '" + spec.name + "': call " +
                           std::to_string(i));
    if (Status s = checkCall(i, maxRows, report.calls); !s)
      return s;
  }
  if (Status s = checkEndToEnd(report.endToEnd); !s)
    return s;
  return report;
}

Status ArchRunner::runCall(size_t index) {
  if (index >= prepared.size())
    return Status::error("arch '" + spec.name + "' has no call " +
                         std::to_string(index));
  if (Status s = prepared[index].run(); !s)
    return s.withContext("arch '" + spec.name + "': call " +
                         std::to_string(index));
  return Status::success();
}

Result<double> ArchRunner::callFlops(size_t index) const {
  return referenceFlops(*kernels[index], callArgs(index));
}

Result<double> ArchRunner::flops() const {
  double total = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    Result<double> f = referenceFlops(*kernels[i], callArgs(i));
    if (!f)
      return f.status().withContext("arch '" + spec.name + "': call " +
                                    std::to_string(i) + " (kernel '" +
                                    kernels[i]->name + "')");
    total += *f;
  }
  return total;
}

} // namespace attn::rt
