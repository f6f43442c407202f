//===- Binding.cpp - Binding symbolic dims from argument shapes -----------===//

#include "runtime/Binding.h"

#include <algorithm>
#include <climits>

namespace attn::rt {

static std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (const std::string &n : names)
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

Result<DimBindings> bindDims(const KernelSpec &kernel, const TensorMap &args,
                             const std::map<std::string, int64_t> &given,
                             const std::string &givenLabel) {
  DimBindings b;
  for (const auto &[name, value] : kernel.dims)
    if (value) {
      b.values[name] = *value;
      b.origins[name] = "the library fixes";
    }

  for (const auto &[name, value] : given) {
    if (!kernel.hasDim(name)) {
      std::vector<std::string> names;
      for (const auto &d : kernel.dims)
        names.push_back(d.first);
      return Status::error("kernel '" + kernel.name + "' has no dim named '" +
                           name + "' (its dims are " + joinNames(names) + ")");
    }
    if (value <= 0)
      return Status::error(givenLabel + " " + name + "=" +
                           std::to_string(value) + ": dims must be positive");
    if (value > INT32_MAX)
      return Status::error(
          givenLabel + " " + name + "=" + std::to_string(value) +
          ": extents above 2147483647 do not fit in a Halide buffer");
    if (auto fixed = b.lookup(name)) {
      if (*fixed != value)
        return Status::error(givenLabel + " " + name + "=" +
                             std::to_string(value) + ": the library fixes " +
                             name + " = " + std::to_string(*fixed));
      continue;
    }
    b.values[name] = value;
    b.origins[name] = givenLabel + " gave";
  }

  for (const auto &entry : args)
    if (!kernel.findArg(entry.first))
      return Status::error("kernel '" + kernel.name +
                           "' has no argument named '" + entry.first +
                           "' (its arguments are " + kernel.argNames() + ")");

  for (const ArgSpec &arg : kernel.args) {
    auto it = args.find(arg.name);
    if (it == args.end())
      continue;
    const Tensor &t = it->second;
    std::string where = "argument '" + arg.name + "'";
    if (t.dtype() != arg.dtype)
      return Status::error(where + ": expected dtype " + dtypeName(arg.dtype) +
                           " but got " + t.describe());
    if (t.rank() != int64_t(arg.shape.size())) {
      std::vector<std::string> entries;
      for (const ShapeEntry &e : arg.shape)
        entries.push_back(e.str());
      return Status::error(where + ": expected rank " +
                           std::to_string(arg.shape.size()) + " (shape [" +
                           joinNames(entries) + "]) but got " + t.describe());
    }
    for (size_t d = 0; d < arg.shape.size(); ++d) {
      const ShapeEntry &e = arg.shape[d];
      int64_t extent = t.shape()[d];
      std::string dimWhere = where + ": dim " + std::to_string(d);
      if (!e.isName()) {
        if (extent != e.value)
          return Status::error(dimWhere + " is " + std::to_string(extent) +
                               " but the kernel expects " +
                               std::to_string(e.value));
        continue;
      }
      dimWhere += " (" + e.name + ")";
      if (auto bound = b.lookup(e.name)) {
        if (*bound != extent)
          return Status::error(dimWhere + " is " + std::to_string(extent) +
                               " but " + b.origins[e.name] + " " + e.name +
                               " = " + std::to_string(*bound));
        continue;
      }
      if (extent <= 0)
        return Status::error(dimWhere + " is " + std::to_string(extent) +
                             "; dims must be positive");
      if (extent > INT32_MAX)
        return Status::error(
            dimWhere + " is " + std::to_string(extent) +
            "; extents above 2147483647 do not fit in a Halide buffer");
      b.values[e.name] = extent;
      b.origins[e.name] = "'" + arg.name + "' bound";
    }
  }
  return b;
}

std::vector<std::string> unboundDims(const KernelSpec &kernel,
                                     const DimBindings &bindings) {
  std::vector<std::string> out;
  for (const ArgSpec &arg : kernel.args)
    for (const ShapeEntry &e : arg.shape)
      if (e.isName() && !bindings.lookup(e.name) &&
          std::find(out.begin(), out.end(), e.name) == out.end())
        out.push_back(e.name);
  return out;
}

Result<std::vector<int64_t>> resolveShape(const ArgSpec &arg,
                                          const DimBindings &bindings) {
  std::vector<int64_t> shape;
  std::vector<std::string> missing;
  for (const ShapeEntry &e : arg.shape) {
    if (!e.isName()) {
      shape.push_back(e.value);
      continue;
    }
    if (auto v = bindings.lookup(e.name))
      shape.push_back(*v);
    else if (std::find(missing.begin(), missing.end(), e.name) == missing.end())
      missing.push_back(e.name);
  }
  if (!missing.empty())
    return Status::error("argument '" + arg.name + "': dim" +
                         (missing.size() > 1 ? "s " : " ") +
                         joinNames(missing) +
                         (missing.size() > 1 ? " are" : " is") + " not bound");
  return shape;
}

} // namespace attn::rt
