//===- TuningDb.h - The SQLite tuning database (docs/Tuning.md) -*- C++ -*-===//
//
// Remembers every schedule the tuner measured, per kernel key, so that a
// later `attnc compile` can reuse the best one.  One SQLite file (WAL mode,
// busy timeout) shared by concurrent tuners; a file that is not an attnc
// tuning database is reported and moved aside, never overwritten.  Nothing
// here throws across the API: errors come back as Status / Result.
//
// A TuningDb object owns one SQLite connection and is not thread-safe; use
// one object per thread (or process).  Any number of processes may open the
// same file at once.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_TUNINGDB_H
#define ATTN_RUNTIME_TUNINGDB_H

#include "runtime/Status.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace attn::rt {

/// The schema version stored in `PRAGMA user_version`.
constexpr int kTuningDbSchemaVersion = 1;
/// The value of the `meta` row ('format', ...).
constexpr const char *kTuningDbFormat = "attnc-tuning";

/// One measured configuration of one kernel.
struct TuningRecord {
  std::string key;      ///< Hex hash of IR, shapes, dtypes, target, compiler.
  std::string kernel;   ///< Kernel name, for people.
  std::string target;   ///< Halide target string.
  std::string compiler; ///< attnc version string.
  /// JSON object of knob -> integer.  put() and importJsonl() store it in
  /// canonical form (sorted keys, no spaces), e.g. {"q_tile":64,"vec":16}.
  std::string config;
  /// "ok" | "wrong" | "crash" | "timeout" | "compile_error".
  std::string status;
  double medianSeconds = 0; ///< Median run time; finite and > 0 when "ok".
  double spreadSeconds = 0; ///< max - min of the timed runs.
  int runs = 0;             ///< Number of timed runs.
  double gflops = 0;
  std::string createdAt; ///< ISO 8601 UTC, e.g. 2026-11-24T13:55:01Z.
  std::string detail;    ///< Error text, notes.
};

/// One row of TuningDb::list(): a summary of one key.
struct TuningSummary {
  std::string key;
  std::string kernel;
  std::string target;
  std::string compiler;
  int trials = 0;   ///< Records of the key, whatever their status.
  int okTrials = 0; ///< Records with status "ok".
  /// Best "ok" median and its config; absent when no record is "ok".
  std::optional<double> bestMedianSeconds;
  std::string bestConfig;
};

/// What TuningDb::prune() removes.  Options combine (a row goes when any
/// selected rule drops it).
struct PruneOptions {
  /// Drop every record whose status is not "ok".
  bool dropFailed = false;
  /// Keep only the best N "ok" records of each key; drop all others of the
  /// key (failed ones included).  Must be >= 1 when set.
  std::optional<int> keepBest;
  /// Drop every record whose compiler string differs from this one.
  std::optional<std::string> onlyCompiler;
};

enum class TuningDbOpenMode {
  /// Create the file (and its directories, 0700) if needed; move a corrupt
  /// or foreign file aside.  Falls back to ReadOnly, with a warning, when
  /// the file exists but cannot be written.
  ReadWrite,
  /// Lookups only: never creates, moves or changes anything.  A corrupt or
  /// foreign file is reported and treated as empty.
  ReadOnly,
};

/// `$ATTN_CACHE_DIR/tuning.db`, else `$XDG_CACHE_HOME/attnc/tuning.db`, else
/// `$HOME/.cache/attnc/tuning.db` (empty variables count as unset).  Returns
/// "" only when none of the three is available.
std::string defaultTuningDbPath();

/// "" when `dir` is a directory that is safe to keep a cache in: owned by
/// the effective user and neither group- nor world-writable; else why not.
std::string checkCacheDirectory(const std::string &dir);

/// Canonical form of a config: a flat JSON object of knob -> integer with
/// sorted keys and no spaces.  Errors name what is wrong.
Result<std::string> canonicalTuningConfig(const std::string &json);

/// The current time as ISO 8601 UTC ("2026-11-24T13:55:01Z").
std::string tuningTimestampNow();

class TuningDb {
public:
  ~TuningDb();
  TuningDb(const TuningDb &) = delete;
  TuningDb &operator=(const TuningDb &) = delete;

  /// Opens (or creates) the database at `path`.  When the file is corrupt,
  /// truncated, not SQLite, another program's database or another schema
  /// version, it is renamed to `<path>.corrupt-<UTC time>` (with its -wal
  /// file), a fresh database is created, and `*warning` says so.  Other
  /// non-fatal conditions (read-only fallback) are reported there too; it
  /// is cleared otherwise.  Errors: an unsafe directory (see
  /// checkCacheDirectory), a symlinked file, a file that cannot be created.
  static Result<std::unique_ptr<TuningDb>>
  open(const std::string &path, std::string *warning = nullptr,
       TuningDbOpenMode mode = TuningDbOpenMode::ReadWrite);

  const std::string &path() const { return dbPath; }
  /// True when writes are refused (ReadOnly mode or fallback).
  bool isReadOnly() const { return readOnly; }

  /// Inserts `record`, or replaces the record with the same key and config,
  /// in one transaction.  An empty createdAt is set to now.
  Status put(const TuningRecord &record);
  /// put() of every record, all in one transaction.
  Status putAll(const std::vector<TuningRecord> &records);

  /// The "ok" record of `key` with the smallest median (newest on a tie).
  Result<std::optional<TuningRecord>> best(const std::string &key);
  /// Every record of `key`: "ok" ones by median, then the others by config.
  Result<std::vector<TuningRecord>> entries(const std::string &key);
  /// One summary per key, ordered by kernel name then key.
  Result<std::vector<TuningSummary>> list();
  /// The distinct keys that start with `prefix`, sorted.
  Result<std::vector<std::string>> keysWithPrefix(const std::string &prefix);

  /// Writes every record as one JSON object per line, ordered by key and
  /// config.  Fields: key, kernel, target, compiler, config (an object),
  /// status, median_seconds, spread_seconds, runs, gflops, created_at,
  /// detail.  A non-finite number is written as null.
  Status exportJsonl(std::ostream &out);
  /// Merges the JSON lines of `in` (exportJsonl's format; blank lines are
  /// skipped).  Every line is validated first; a bad one fails the whole
  /// import with "<sourceName>:<line>: <why>" and nothing is imported.
  /// Of two records with the same key and config, the newer (created_at)
  /// wins; on equal times an "ok" one beats a failed one, then the smaller
  /// median wins.  Returns how many records were inserted or replaced.
  Result<int> importJsonl(std::istream &in, const std::string &sourceName);
  /// Removes records; returns how many.
  Result<int> prune(const PruneOptions &options);

private:
  TuningDb(sqlite3 *db, std::string path, bool readOnly)
      : db(db), dbPath(std::move(path)), readOnly(readOnly) {}
  Status requireWritable(const char *what) const;
  Status putLocked(const TuningRecord &record);

  sqlite3 *db = nullptr;
  std::string dbPath;
  bool readOnly = false;
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_TUNINGDB_H
