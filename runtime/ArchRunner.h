//===- ArchRunner.h - Running and checking whole architectures --*- C++ -*-===//
//
// An ArchRunner runs one `archs` entry of a library's manifest
// (docs/Architectures.md §4-5): it allocates every input, weight, value and
// output once, prepares each call's kernel with the library (buffers built
// once, so repeated runs cost only the kernels), and runs the calls in order.
//
// Weights come from a safetensors file (setWeights/loadWeights: a missing,
// extra, wrong-dtype or wrong-shape tensor is an error naming it, every
// problem listed) or from seeded random values per the weight's `init`
// (randomWeights), the stream of each weight seeded by a hash of its name
// and the user's seed, so the values do not depend on the weights' order.
//
// Checks (runAndCheck), each under the tolerance rule of Check.h:
//  * per call: right after the call runs, its kernel's reference
//    (computeReferenceOutputs: block, attention, linear, luna or ema) on the
//    call's actual inputs against its actual outputs;
//  * end to end: the whole program in float64 (each call's ref64 computed
//    from the previous ones', starting from the inputs and weights in f64)
//    against the program's output, the baseline being the chain of naive
//    float32 evaluations.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_ARCHRUNNER_H
#define ATTN_RUNTIME_ARCHRUNNER_H

#include "runtime/Check.h"
#include "runtime/Library.h"
#include "runtime/Manifest.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attn::rt {

/// The seed of weight `name`'s stream for user seed `seed` (order
/// independent: a hash of the name mixed with the seed).
uint64_t weightSeed(uint64_t seed, const std::string &name);

/// Fills `tensor` from `init` with the stream seeded by `streamSeed`:
/// uniform U(−bound, bound), normal N(mean, std²) (Box–Muller), shift
/// integers uniform in [min, max], sign integers uniform in {−1, 0, 1}.
void fillWeight(Tensor &tensor, const WeightInitSpec &init,
                uint64_t streamSeed);

/// One line of a check: a call's output (per call) or an arch output (end
/// to end).
struct ArchCheckLine {
  int64_t call = -1;  ///< The call's index; -1 for an end-to-end line.
  std::string kernel; ///< The called kernel (empty end to end).
  std::string value;  ///< The arch tensor checked.
  CheckResult result;

  /// "call 2 blk_1 -> %3: max_abs_err=... PASS" or
  /// "end-to-end vit -> out: ...".
  std::string format(const std::string &archName) const;
};

/// Every line of runAndCheck().
struct ArchCheckReport {
  std::vector<ArchCheckLine> calls;    ///< Per call output.
  std::vector<ArchCheckLine> endToEnd; ///< Per arch output.
  /// True when every line passes.
  bool pass() const;
};

class ArchRunner {
public:
  /// Allocates the tensors of `arch` (one of `library.manifest().archs`, or
  /// a copy of one) and prepares every call; inputs and weights start as
  /// zeros.  `library` must outlive the runner.
  static Result<std::unique_ptr<ArchRunner>> create(const Library &library,
                                                    const ArchSpec &arch);

  const ArchSpec &arch() const { return spec; }

  /// The input, weight, value or output named `name`; null when unknown.
  const Tensor *tensor(const std::string &name) const;

  /// Copies `value` into input `name` (dtype and shape must match).
  Status setInput(const std::string &name, const Tensor &value);
  /// Fills every input by the runtime's random policy (Random.h): floats
  /// uniform in [lo, hi], i32 in [0, 16), each seeded by its name.
  void randomInputs(uint64_t seed, double lo = -1.0, double hi = 1.0);

  /// Fills every weight from its `init`, seeded by weightSeed(seed, name).
  void randomWeights(uint64_t seed);
  /// Copies the weights from `weights`, which must hold exactly the arch's
  /// weights with their dtypes and shapes; the error lists every problem.
  Status setWeights(const TensorMap &weights);
  /// setWeights() from a safetensors file.
  Status loadWeights(const std::string &path);
  /// Writes the weights to a safetensors file (`__metadata__`: the arch).
  Status saveWeights(const std::string &path) const;

  /// Runs the calls in order.
  Status run();

  /// Runs the calls in order, checking each right after it runs, then
  /// checks the outputs end to end.  `maxRows` > 0 samples the rows of the
  /// per-call checks of attention kinds (computeReference()); the end-to-end
  /// chain evaluates every row.
  Result<ArchCheckReport> runAndCheck(int64_t maxRows = 0);

  /// The sum of every call's FLOPs (referenceFlops()).
  Result<double> flops() const;

  /// Runs call `index` alone (its inputs are whatever the tensors hold).
  Status runCall(size_t index);
  /// The FLOPs of call `index`.
  Result<double> callFlops(size_t index) const;
  /// The number of calls.
  size_t numCalls() const { return prepared.size(); }
  /// The kernel of call `index`.
  const std::string &callKernel(size_t index) const {
    return kernels[index]->name;
  }

private:
  ArchRunner(const Library &library, const ArchSpec &arch)
      : library(library), spec(arch) {}
  /// The kernel's arguments of call `index` by kernel argument name, as
  /// views of the arch's tensors.
  TensorMap callArgs(size_t index) const;
  /// Checks call `index` (which has just run) against its reference.
  Status checkCall(size_t index, int64_t maxRows,
                   std::vector<ArchCheckLine> &lines) const;
  /// Checks the outputs against the float64 chain of references.
  Status checkEndToEnd(std::vector<ArchCheckLine> &lines) const;

  const Library &library;
  ArchSpec spec;
  std::vector<const KernelSpec *> kernels; ///< Per call.
  TensorMap store;                         ///< Every arch tensor by name.
  std::vector<PreparedCall> prepared;      ///< Per call.
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_ARCHRUNNER_H
