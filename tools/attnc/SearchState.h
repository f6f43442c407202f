//===- SearchState.h - the state of one `attnc search` ----------*- C++ -*-===//
//
// Private to attnc: the search's options (as given and as saved in
// DIR/search.json for --resume), its evaluated points, and the files it
// writes from them: points.csv, front.json, front.svg, model.json
// (docs/Search.md §5).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_SEARCHSTATE_H
#define ATTN_TOOLS_ATTNC_SEARCHSTATE_H

#include "search/LatencyModel.h"
#include "search/Pareto.h"
#include "search/Record.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn::driver {

struct SearchOptions {
  std::string file;
  std::string arch;
  std::vector<std::string> dims;
  std::string target = "host";
  std::optional<double> budgetMs;
  /// latency | params | flops | memory | score-cmd
  std::string objective = "latency";
  std::string strategy = "evolutionary"; ///< random | evolutionary
  int64_t population = 8, generations = 4;
  double timeBudgetSeconds = 0; ///< 0: no limit.
  uint64_t seed = 0;
  std::string out = "attnc-search";
  bool resume = false;
  std::string scoreCmd;
  double scoreTimeout = 600;
  int64_t jobs = 1;
  int64_t tuneTrials = 0;
  double candidateTimeout = 600;
  bool check = true;
  int64_t checkRows = 16;
  /// Seconds each timing aims for (attn-run --bench-seconds).
  double benchSeconds = 0.5;
  std::string db;
  /// FNV hash of the source text, to refuse resuming a changed source.
  std::string sourceHash;

  /// The options as JSON (DIR/search.json).
  std::string toJson() const;
  /// Reads DIR/search.json; "" or an error.
  std::string fromJson(const std::string &text);
};

/// Parses `attnc search` arguments; returns 0, 1 (--help printed) or 2
/// after a usage error (printed).  With --resume, `given` lists the options
/// that were on the command line (they override the saved ones).
int parseSearchArgs(const std::vector<std::string> &args, SearchOptions &o,
                    std::vector<std::string> &given);

/// The objectives of the front: latency, then the cost objective (params
/// for --objective latency, which plots latency against size).
std::vector<search::Objective> frontObjectives(const SearchOptions &o);

/// The objective values of `r` (NaN where unknown).
std::vector<double> objectiveValues(const SearchOptions &o,
                                    const search::EvalRecord &r);

/// True when `r` was measured and is within the latency budget.
bool isFeasible(const SearchOptions &o, const search::EvalRecord &r);

/// Indices of the Pareto front of the feasible measured points.
std::vector<size_t> feasibleFront(const SearchOptions &o,
                                  const std::vector<search::EvalRecord> &rs);

/// Writes points.csv, front.json and front.svg; "" or an error.
std::string writeResults(const SearchOptions &o,
                         const std::vector<search::EvalRecord> &records);

/// The latency model's quality, as printed and written to model.json.
struct ModelReport {
  search::ModelQuality crossValidation;
  /// Predictions made before the points were measured.
  search::ModelQuality online;
  search::Calibration calibration;
  size_t kernels = 0;
};

/// Writes model.json; "" or an error.
std::string writeModelReport(const SearchOptions &o, const ModelReport &r);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_SEARCHSTATE_H
