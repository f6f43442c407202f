//===- Record.h - One evaluated point of a search ---------------*- C++ -*-===//
//
// `attnc search` records every evaluated point as one JSON object per line
// of DIR/points.jsonl (appended and flushed as each finishes) and as one row
// of DIR/points.csv (docs/Search.md §5).  A search killed while writing can
// leave at most its last line cut off; readJsonl skips such a line, and
// appendJsonl removes it before appending.
//
// JSON fields: id, generation, config, status, detail, latency_ms,
// spread_ms, runs, predicted_ms, params, flops, memory_bytes, score,
// score_status, score_detail, kernels (objects with name, key, schedule,
// calls, ms, flops, form), calls, seconds, created_at.  Missing optionals
// are null.
//
// Nothing here throws: errors come back as `false` and a message.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_RECORD_H
#define ATTN_SEARCH_RECORD_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attn::search {

/// One kernel of a measured candidate.
struct KernelTime {
  /// The kernel's name in the candidate (`hybrid_vit_blk3`).
  std::string kernel;
  /// Its kernel key (the tuning database's key).
  std::string key;
  /// The schedule point it ran with (canonical JSON, as the tuning database
  /// writes configs): with `key`, what its time belongs to.
  std::string schedule;
  /// How many times one forward pass calls it.
  int64_t calls = 0;
  /// Time of one call (ms).
  double ms = 0;
  /// FLOPs of one call.
  double flops = 0;
  /// The kernel's form (attention kind or block), for the latency model.
  std::string form;
};

/// One evaluated point (docs/Search.md §5).
struct EvalRecord {
  int64_t id = 0;
  int64_t generation = 0;
  /// The --config text (identity of the point).
  std::string config;
  /// ok, compile_error, crash, timeout, invalid, error.
  std::string status;
  /// Error text (first lines).
  std::string detail;
  std::optional<double> latencyMs, spreadMs;
  int64_t runs = 0;
  std::optional<double> predictedMs;
  std::optional<double> params, flops, memoryBytes;
  /// The --score-cmd result: ok, failed, timeout, unparsable.
  std::optional<double> score;
  std::string scoreStatus, scoreDetail;
  std::vector<KernelTime> kernels;
  /// Number of kernel calls of the candidate.
  int64_t calls = 0;
  /// Wall time of the evaluation.
  double seconds = 0;
  /// ISO 8601 UTC.
  std::string createdAt;
};

/// The current time as ISO 8601 UTC (`2026-11-24T13:55:01Z`).
std::string timestampNow();

/// One JSON object on one line, no newline; missing optionals (and
/// non-finite numbers) as null.
std::string toJsonLine(const EvalRecord &record);

/// Parses one line written by toJsonLine.  `id`, `config` and `status` are
/// required; other fields default; unknown fields are ignored (a newer
/// writer).  On failure returns false with `error` saying why.
bool fromJsonLine(const std::string &line, EvalRecord &record,
                  std::string &error);

/// Reads a points.jsonl; a last line cut off (a killed search) is skipped
/// and counted in `skipped`; other malformed lines are errors naming the
/// line number.  Blank lines are ignored.
bool readJsonl(const std::string &path, std::vector<EvalRecord> &out,
               std::string &error, int64_t *skipped = nullptr);

/// Appends one line and flushes+fsyncs (a killed process never leaves half
/// a record except possibly the last line).  A cut-off last line already in
/// the file (one without a newline that is not a record) is removed first,
/// so the new record starts a line of its own.
bool appendJsonl(const std::string &path, const EvalRecord &record,
                 std::string &error);

/// The CSV header line (no line terminator).
std::string csvHeader();
/// One CSV row (no line terminator), RFC 4180 quoting (configs contain
/// commas); missing optionals are empty fields; kernels as their count.
std::string toCsvRow(const EvalRecord &record);

} // namespace attn::search

#endif // ATTN_SEARCH_RECORD_H
