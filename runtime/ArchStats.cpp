//===- ArchStats.cpp - what an architecture costs, without running it -----===//

#include "runtime/ArchStats.h"

#include "runtime/Reference.h"

#include <algorithm>
#include <map>

using namespace attn::rt;

namespace {

double tensorBytes(const ArchTensorSpec &t) {
  double n = 1;
  for (int64_t d : t.shape)
    n *= double(d);
  return n * double(dtypeSize(t.dtype));
}

/// The arguments of call `call` for referenceFlops, which reads shapes (and
/// the values of small integer tensors such as lengths): large tensors are
/// views without storage, small ones zero-filled.
Result<TensorMap> shapeArgs(const KernelSpec &kernel, const ArchSpec &arch,
                            const ArchCallSpec &call) {
  TensorMap args;
  for (size_t i = 0; i < call.args.size() && i < kernel.args.size(); ++i) {
    const ArchTensorSpec *t = arch.findTensor(call.args[i]);
    if (!t)
      return Status::error("arch '" + arch.name + "': call of kernel '" +
                           call.kernel + "' names unknown tensor '" +
                           call.args[i] + "'");
    int64_t elements = 1;
    for (int64_t d : t->shape)
      elements *= d;
    if (elements <= 4096) {
      Result<Tensor> small = Tensor::create(t->dtype, t->shape);
      if (!small)
        return small.status();
      args.emplace(kernel.args[i].name, std::move(*small));
    } else {
      args.emplace(kernel.args[i].name,
                   Tensor::view(t->dtype, t->shape, nullptr));
    }
  }
  return args;
}

} // namespace

Result<ArchStats> attn::rt::archStats(const Manifest &manifest,
                                      const ArchSpec &arch) {
  ArchStats stats;
  for (const ArchTensorSpec &w : arch.weights) {
    stats.weightBytes += tensorBytes(w);
    double n = 1;
    for (int64_t d : w.shape)
      n *= double(d);
    stats.params += n;
  }
  // Liveness of the intermediate values over the program of calls.
  std::map<std::string, std::pair<size_t, size_t>> live; // first, last call
  std::map<std::string, double> valueBytes;
  for (const ArchTensorSpec &v : arch.values)
    valueBytes[v.name] = tensorBytes(v);
  for (size_t c = 0; c < arch.calls.size(); ++c) {
    const ArchCallSpec &call = arch.calls[c];
    const KernelSpec *kernel = manifest.findKernel(call.kernel);
    if (!kernel)
      return Status::error("arch '" + arch.name + "': call " +
                           std::to_string(c) + " names unknown kernel '" +
                           call.kernel + "'");
    Result<TensorMap> args = shapeArgs(*kernel, arch, call);
    if (!args)
      return args.status();
    Result<double> flops = referenceFlops(*kernel, *args);
    if (!flops)
      return flops.status().withContext("arch '" + arch.name + "': call " +
                                        std::to_string(c) + " (kernel '" +
                                        call.kernel + "')");
    stats.callFlops.push_back(*flops);
    stats.flops += *flops;
    for (const std::string &name : call.args) {
      if (!valueBytes.count(name))
        continue;
      auto [it, inserted] = live.try_emplace(name, c, c);
      it->second.second = c;
    }
  }
  for (size_t c = 0; c < arch.calls.size(); ++c) {
    double bytes = 0;
    for (const auto &[name, span] : live)
      if (span.first <= c && c <= span.second)
        bytes += valueBytes[name];
    stats.peakValueBytes = std::max(stats.peakValueBytes, bytes);
  }
  double io = 0;
  for (const auto *list : {&arch.inputs, &arch.outputs})
    for (const ArchTensorSpec &t : *list)
      io += tensorBytes(t);
  stats.memoryBytes = stats.weightBytes + io + stats.peakValueBytes;
  return stats;
}
