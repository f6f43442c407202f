//===- ArchStats.h - what an architecture costs, unrun ------*- C++ -*-===//
//
// The cost figures of an architecture that follow from its manifest alone
// (docs/Search.md §5): parameters, FLOPs per call and in total, and memory.
// `attn-run --json` reports them next to the measured times, and the search
// knows them for a candidate before it is compiled.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_ARCHSTATS_H
#define ATTN_RUNTIME_ARCHSTATS_H

#include "runtime/Manifest.h"
#include "runtime/Status.h"

#include <cstdint>
#include <vector>

namespace attn::rt {

struct ArchStats {
  /// Elements of every weight.
  double params = 0;
  /// Bytes of the weights.
  double weightBytes = 0;
  /// FLOPs of each call (referenceFlops) and their sum.
  std::vector<double> callFlops;
  double flops = 0;
  /// Inputs, outputs and weights, plus the peak over the calls of the
  /// intermediate values alive during a call (from the call that writes a
  /// value to the last call that reads it): the memory of a runtime that
  /// frees each value after its last use.  Kernel scratch is not included.
  double memoryBytes = 0;
  /// The peak of live intermediates alone.
  double peakValueBytes = 0;
};

/// Computes the stats of `arch`, one of `manifest.archs`.
Result<ArchStats> archStats(const Manifest &manifest, const ArchSpec &arch);

} // namespace attn::rt

#endif // ATTN_RUNTIME_ARCHSTATS_H
