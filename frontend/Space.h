//===- Space.h - the search space of an architecture ------------*- C++ -*-===//
//
// The choices of one `arch` as a search space (docs/Search.md §1): global
// choices take one value, choices inside `repeat` one value per layer, and
// the number of layers can depend on global choices (`repeat depth {...}`).
// ArchSpace counts the points exactly, converts points to and from the
// `--config` text, samples them, validates them with the frontend, and gives
// the search its genetic operators (mutation, crossover, repair).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_SPACE_H
#define ATTN_FRONTEND_SPACE_H

#include "frontend/AST.h"
#include "frontend/Frontend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace attn::frontend {

/// One `choose` of an architecture.
struct SpaceChoice {
  std::string name;
  /// The alternatives, as the configuration names them (source text
  /// without spaces).
  std::vector<std::string> labels;
  /// Inside a `repeat`: one value per layer.
  bool perLayer = false;
  /// "file:line:col" of the choice's name.
  std::string site;
};

/// A point: per choice, the index of the chosen label (1 entry for a global
/// choice, one per layer for a per-layer choice, in layer order; empty for
/// a per-layer choice that has no layer under the point's global values).
struct SpacePoint {
  std::map<std::string, std::vector<int>> values;
  bool operator==(const SpacePoint &o) const { return values == o.values; }
  bool operator!=(const SpacePoint &o) const { return values != o.values; }
  bool operator<(const SpacePoint &o) const { return values < o.values; }
};

/// The space of one architecture of a module.  Not thread-safe: validate()
/// generates MLIR in the space's context.
class ArchSpace {
public:
  /// The space of architecture `archName` ("" = the module's only arch;
  /// an error when there are several and none is named) of `module`, whose
  /// dims are set by `options.dimOverrides`.  `context` and `module` must
  /// outlive the space.  Errors are reported as MLIR diagnostics: an unknown
  /// architecture, a `repeat` count that is not an integer computed from
  /// literals, dims, assignments and global choices (or that is out of
  /// [0, 4096] for some value of the globals), too many combinations of the
  /// globals the counts read.
  static mlir::FailureOr<ArchSpace> build(mlir::MLIRContext &context,
                                          const ModuleAST &module,
                                          const FrontendOptions &options,
                                          const std::string &archName);

  /// The architecture's name.
  const std::string &arch() const { return archName; }
  /// The choices, in source order.
  const std::vector<SpaceChoice> &choices() const { return choiceList; }
  /// The exact number of points, in decimal.
  std::string sizeText() const { return size; }
  /// log10 of the number of points.
  double sizeLog10() const;

  /// The global choices that the `repeat` counts read (directly or through
  /// assignments and other choices), in source order: the "depth-like"
  /// choices.
  std::vector<std::string> countChoices() const;

  /// The `--config` text of `p`: every global choice as `name=label`; a
  /// per-layer choice as `name=[a,b,...]` when its layers are the
  /// architecture's first layers (layer indices run on over every
  /// `repeat`, and a list is indexed by them), else as `name.L=label` per
  /// layer L; a per-layer choice without layers is left out (the frontend
  /// rejects naming it).
  std::string toConfig(const SpacePoint &p) const;
  /// Parses a `--config` text (as toConfig writes it, or any text the
  /// frontend accepts; missing choices take their first alternative);
  /// failure with `error` set when malformed or when it names something
  /// that is not a choice of this architecture.
  mlir::FailureOr<SpacePoint> fromConfig(const std::string &text,
                                         std::string &error) const;

  /// Number of layers per per-layer choice under p's global values (a
  /// missing or out-of-range global value counts as its first alternative).
  std::map<std::string, int64_t> layers(const SpacePoint &p) const;

  /// Uniform per choice, then per layer; repaired; possibly invalid.
  SpacePoint sample(std::mt19937_64 &rng) const;
  /// Re-draws each gene (a global value or one layer's value) uniformly with
  /// probability `rate` (at least one gene changes when the space has more
  /// than one point); repaired.
  SpacePoint mutate(const SpacePoint &p, double rate,
                    std::mt19937_64 &rng) const;
  /// Each gene from a or b with equal probability (a layer only one parent
  /// has comes from it); repaired.
  SpacePoint crossover(const SpacePoint &a, const SpacePoint &b,
                       std::mt19937_64 &rng) const;
  /// Makes every per-layer list as long as `layers(p)` says (truncate, or
  /// draw missing layers); also draws missing or out-of-range values and
  /// drops names that are not choices.
  void repair(SpacePoint &p, std::mt19937_64 &rng) const;

  /// True when the frontend accepts the point (elaboration, Sema and MLIR
  /// generation of the module with toConfig(p)) and records exactly `p` on
  /// the architecture; diagnostics are captured (not printed) and the first
  /// is put in `why`.
  bool validate(const SpacePoint &p, std::string *why = nullptr) const;
  /// Up to k distinct valid points (sample + validate, at most maxTries
  /// draws), in the order found.
  std::vector<SpacePoint> sampleValid(size_t k, std::mt19937_64 &rng,
                                      size_t maxTries) const;

  /// The layer indices (counted over every `repeat` of the architecture)
  /// each per-layer choice is taken at under p's global values.
  std::map<std::string, std::vector<int64_t>>
  layerIndices(const SpacePoint &p) const;

  /// Most combinations of count-relevant globals build() enumerates.
  static constexpr uint64_t kMaxCountCombinations = 100000;

private:
  ArchSpace() = default;

  /// Index of the choice `name` in choiceList, or -1.
  int findChoice(const std::string &name) const;
  /// The global values of `p` (first alternative when missing or out of
  /// range), indexed like choiceList (0 for per-layer choices).
  std::vector<int> globalValues(const SpacePoint &p) const;

  mlir::MLIRContext *context = nullptr;
  const ModuleAST *module = nullptr;
  const ArchDeclAST *decl = nullptr;
  FrontendOptions options;
  std::map<std::string, int64_t> dims;
  std::string archName;
  std::vector<SpaceChoice> choiceList;
  /// The `choose` statement of each choice.
  std::vector<const ArchStmtAST *> choiceStmts;
  /// Indices into choiceList of the globals the repeat counts read.
  std::vector<int> countRelevant;
  std::string size = "1";
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_SPACE_H
