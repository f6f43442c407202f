//===- ArchDesc.h - an architecture as a program of kernel calls -*- C++ -*-===//
//
// What the manifest records of an `attn.arch` function after
// --attn-outline-blocks (docs/Architectures.md §4): its inputs, outputs and
// weights, the intermediate tensors, and the kernel calls in order.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_ARCHDESC_H
#define ATTN_LOWERING_ARCHDESC_H

#include "lowering/BlockDesc.h"

#include <map>
#include <string>
#include <vector>

namespace attn {

/// A weight of an architecture and how attn-run fills it without a file.
struct ArchWeightDesc {
  TensorArg tensor;
  /// "uniform" (U(-a, a)), "normal" (mean a, std b), "shift" ([a, b]) or
  /// "sign".
  std::string dist;
  double a = 0.0, b = 0.0;
};

/// One kernel call: the tensors bound to the kernel's arguments in ABI
/// order (outputs last).
struct ArchCallDesc {
  std::string kernel;
  std::vector<std::string> args;
};

struct ArchDesc {
  std::string name;
  std::vector<TensorArg> inputs, outputs;
  std::vector<ArchWeightDesc> weights;
  /// Intermediate tensors, named "%N".
  std::vector<TensorArg> values;
  std::vector<ArchCallDesc> calls;
  /// The configuration the architecture was elaborated with.
  std::map<std::string, std::string> config;
};

} // namespace attn

#endif // ATTN_LOWERING_ARCHDESC_H
