//===- SearchDriver.h - the driver of `attnc search` ------------*- C++ -*-===//
//
// Private to attnc: the search in progress (docs/Search.md §3).  Proposing
// points (random, evolutionary, ranked by the latency model) is in
// SearchPropose.cpp; setting up, running jobs, recording and reporting in
// SearchCommand.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_SEARCHDRIVER_H
#define ATTN_TOOLS_ATTNC_SEARCHDRIVER_H

#include "tools/attnc/SearchState.h"
#include "tools/attnc/SearchSupport.h"

#include "frontend/AST.h"
#include "frontend/Space.h"
#include "runtime/TuningDb.h"
#include "search/Executor.h"
#include "search/LatencyModel.h"
#include "search/Record.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace attn::driver {

/// The model key and time of a record's kernel.
search::KernelTimeSample sampleOf(const search::KernelTime &k);
/// A measured record as the latency model sees it.
search::Candidate candidateOf(const search::EvalRecord &r);

/// One search: its options, space, records and model inputs.
class SearchDriver {
public:
  SearchDriver(SearchOptions options, std::string selfDirectory)
      : o(std::move(options)), dir(std::move(selfDirectory)) {}

  int run();

private:
  SearchOptions o;
  std::string dir;
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<frontend::ModuleAST> module;
  std::optional<frontend::ArchSpace> space;
  std::vector<search::EvalRecord> records;
  std::set<std::string> evaluated; ///< Configs already measured.
  std::unique_ptr<rt::TuningDb> db;
  /// The tuning database's time of each model key (key@schedule), looked up
  /// once; NaN when it has none.
  std::map<std::string, double> dbTimes;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
  int64_t generation = 0;

  std::string pointsPath() const { return o.out + "/points.jsonl"; }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }
  bool outOfTime() const {
    return o.timeBudgetSeconds > 0 && elapsed() >= o.timeBudgetSeconds;
  }

  /// Checks the target and --out, reads the source and the saved state;
  /// returns 0 or the exit code.
  int setUp();
  /// Reads FILE (refusing, on resume, a source that changed).
  std::string loadSource();
  /// The `attnc compile` arguments of point `config`.
  std::vector<std::string> compileArgs(const std::string &config) const;
  /// The model from the database and every measured record.
  search::LatencyModel buildModel() const;
  /// Looks up the tuning database's time of each kernel not looked up yet.
  void addDbTimes(const std::vector<search::KernelTime> &kernels);
  void addDbTimes(const CandidatePlan &plan);
  /// Plans `p` (no compile) and predicts its latency; nullopt when the plan
  /// fails.
  std::optional<double> predict(const frontend::SpacePoint &p,
                                CandidatePlan &plan);
  /// The points of the next generation (docs/Search.md §3); `predicted`
  /// receives the model's prediction of those it planned.
  std::vector<frontend::SpacePoint>
  propose(std::mt19937_64 &rng, std::map<std::string, double> &predicted);
  /// Up to `count` distinct valid points whose configs are not in `taken`.
  std::vector<frontend::SpacePoint>
  randomPoints(std::mt19937_64 &rng, size_t count,
               const std::set<std::string> &taken);
  /// Indices of the records the next children descend from.
  std::vector<size_t> parents() const;
  /// Runs `configs` as jobs, appending each record as it arrives; false on
  /// an error that stops the search.
  bool evaluate(const std::vector<std::string> &configs,
                const std::map<std::string, double> &predicted);
  std::string generationPath(int64_t g) const {
    return o.out + "/generations/" + std::to_string(g) + ".tsv";
  }
  bool loadGeneration(std::vector<std::string> &configs,
                      std::map<std::string, double> &predicted) const;
  std::string
  saveGeneration(const std::vector<std::string> &configs,
                 const std::map<std::string, double> &predicted) const;
  /// The record of a finished job (its own, or one made from how it died).
  search::EvalRecord collect(const search::JobOutcome &outcome,
                             const std::string &config, int64_t id);
  /// Prints the progress line of a new record.
  void progress(const search::EvalRecord &r) const;
  /// The latency model's quality (cross validated and online).
  ModelReport modelReport() const;
  /// Prints the front and the model's quality.
  void summary(const ModelReport &report) const;
};

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_SEARCHDRIVER_H
