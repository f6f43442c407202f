//===- TuningDb.cpp - The SQLite tuning database (docs/Tuning.md) ---------===//
//
// Uses SQLite's C API directly.  JSON lines are read and written with
// nlohmann::json; every exception it may throw is caught here, so nothing
// escapes the runtime API.
//
//===----------------------------------------------------------------------===//

#include "runtime/TuningDb.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <istream>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attn::rt {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

/// How long a connection waits for another writer before giving up.
constexpr int kBusyTimeoutMs = 30000;

const char *const kStatuses[] = {"ok", "wrong", "crash", "timeout",
                                 "compile_error"};

bool isKnownStatus(const std::string &s) {
  for (const char *k : kStatuses)
    if (s == k)
      return true;
  return false;
}

std::string sysError(int err) { return std::strerror(err); }

std::string dirName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

bool pathExists(const std::string &path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

/// mkdir -p with mode 0700 for every directory it creates.
Status makeDirectories(const std::string &dir) {
  if (dir.empty())
    return Status::success();
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = dir.find('/', pos + 1);
    prefix = dir.substr(0, next);
    pos = next;
    if (prefix.empty() || prefix == "/")
      continue;
    struct stat st;
    if (::stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return Status::error("cannot create directory " + dir + ": " +
                             prefix + " is not a directory");
      continue;
    }
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return Status::error("cannot create directory " + prefix + ": " +
                           sysError(errno));
  }
  return Status::success();
}

/// A prepared statement, finalized on destruction.
class Stmt {
public:
  Stmt(sqlite3 *db, const char *sql) : db(db) {
    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt); }
  Stmt(const Stmt &) = delete;
  Stmt &operator=(const Stmt &) = delete;

  bool prepared() const { return rc == SQLITE_OK && stmt; }
  std::string error() const { return sqlite3_errmsg(db); }

  void bind(int i, const std::string &s) {
    sqlite3_bind_text(stmt, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt, i, v); }
  /// Non-finite values are stored as NULL.
  void bindReal(int i, double v) {
    if (std::isfinite(v))
      sqlite3_bind_double(stmt, i, v);
    else
      sqlite3_bind_null(stmt, i);
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt); }
  void reset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }

  std::string text(int col) const {
    const unsigned char *p = sqlite3_column_text(stmt, col);
    int n = sqlite3_column_bytes(stmt, col);
    return p ? std::string(reinterpret_cast<const char *>(p), size_t(n))
             : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt, col); }
  /// NULL reads back as NaN.
  double real(int col) const {
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
      return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(stmt, col);
  }
  bool isNull(int col) const {
    return sqlite3_column_type(stmt, col) == SQLITE_NULL;
  }

private:
  sqlite3 *db;
  sqlite3_stmt *stmt = nullptr;
  int rc;
};

Status exec(sqlite3 *db, const char *sql) {
  char *err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status::error(msg);
  }
  return Status::success();
}

/// Rolls back on destruction unless committed.
class Transaction {
public:
  explicit Transaction(sqlite3 *db) : db(db) {}
  Status begin() {
    Status s = exec(db, "BEGIN IMMEDIATE");
    active = s.ok();
    return s;
  }
  Status commit() {
    Status s = exec(db, "COMMIT");
    if (s.ok())
      active = false;
    return s;
  }
  ~Transaction() {
    if (active)
      (void)exec(db, "ROLLBACK");
  }

private:
  sqlite3 *db;
  bool active = false;
};

const char *const kSchemaSql =
    "CREATE TABLE IF NOT EXISTS meta("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(name, value) VALUES('format', 'attnc-tuning');"
    "CREATE TABLE IF NOT EXISTS entries("
    "  key TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  kernel TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  compiler TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN"
    "    ('ok','wrong','crash','timeout','compile_error')),"
    "  median_seconds REAL,"
    "  spread_seconds REAL,"
    "  runs INTEGER NOT NULL,"
    "  gflops REAL,"
    "  created_at TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  PRIMARY KEY(key, config));"
    "CREATE INDEX IF NOT EXISTS entries_by_median"
    "  ON entries(key, status, median_seconds);"
    "PRAGMA user_version = 1;";

const char *const kEntryColumns =
    "key, config, kernel, target, compiler, status, median_seconds,"
    " spread_seconds, runs, gflops, created_at, detail";

const std::set<std::string> &expectedEntryColumns() {
  static const std::set<std::string> cols = {
      "key",    "config",         "kernel",         "target",
      "compiler", "status",       "median_seconds", "spread_seconds",
      "runs",   "gflops",         "created_at",     "detail"};
  return cols;
}

TuningRecord readRecord(const Stmt &s) {
  TuningRecord r;
  r.key = s.text(0);
  r.config = s.text(1);
  r.kernel = s.text(2);
  r.target = s.text(3);
  r.compiler = s.text(4);
  r.status = s.text(5);
  r.medianSeconds = s.real(6);
  r.spreadSeconds = s.real(7);
  r.runs = int(s.integer(8));
  r.gflops = s.real(9);
  r.createdAt = s.text(10);
  r.detail = s.text(11);
  return r;
}

/// Checks a record and returns it with canonical config and a timestamp.
Result<TuningRecord> normalizeRecord(TuningRecord r) {
  if (r.key.empty())
    return Status::error("record has an empty key");
  if (!isKnownStatus(r.status))
    return Status::error("status '" + r.status +
                         "' is not one of ok, wrong, crash, timeout, "
                         "compile_error");
  Result<std::string> config = canonicalTuningConfig(r.config);
  if (!config)
    return config.status();
  r.config = *config;
  if (r.status == "ok" && !(std::isfinite(r.medianSeconds) &&
                            r.medianSeconds > 0))
    return Status::error("an \"ok\" record needs a finite median_seconds "
                         "> 0");
  if (r.runs < 0)
    return Status::error("runs is negative");
  if (r.createdAt.empty())
    r.createdAt = tuningTimestampNow();
  return r;
}

/// True when SQLite's last error on `db` says the file content is bad (as
/// opposed to I/O, permissions or locking).
bool isContentError(sqlite3 *db) {
  int rc = sqlite3_errcode(db) & 0xff;
  return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || rc == SQLITE_FORMAT ||
         rc == SQLITE_SCHEMA || rc == SQLITE_ERROR || rc == SQLITE_MISMATCH ||
         rc == SQLITE_CONSTRAINT || rc == SQLITE_RANGE;
}

/// What is wrong with an opened file, or "" when it is an attnc tuning
/// database of our version.  `fresh` is set when the file holds nothing
/// at all (no tables, user_version 0), i.e. a new database.  `ioError` is
/// set when the file could not be read at all (permissions, I/O, locks):
/// then the message says why, and the content is not to blame.
std::string diagnoseContent(sqlite3 *db, bool &fresh);

std::string diagnose(sqlite3 *db, bool &fresh, bool &ioError) {
  ioError = false;
  std::string why = diagnoseContent(db, fresh);
  if (!why.empty() && !isContentError(db) &&
      (sqlite3_errcode(db) & 0xff) != SQLITE_OK)
    ioError = true;
  return why;
}

std::string diagnoseContent(sqlite3 *db, bool &fresh) {
  fresh = false;
  int64_t tables = 0;
  {
    Stmt s(db, "SELECT count(*) FROM sqlite_master");
    if (!s.prepared())
      return s.error();
    int rc = s.step();
    if (rc != SQLITE_ROW)
      return s.error();
    tables = s.integer(0);
  }
  int64_t version = 0;
  {
    Stmt s(db, "PRAGMA user_version");
    if (!s.prepared() || s.step() != SQLITE_ROW)
      return s.error();
    version = s.integer(0);
  }
  if (tables == 0 && version == 0) {
    fresh = true;
    return "";
  }
  {
    Stmt s(db, "PRAGMA quick_check");
    if (!s.prepared())
      return s.error();
    int rc = s.step();
    if (rc != SQLITE_ROW)
      return s.error();
    std::string first = s.text(0);
    if (first != "ok")
      return "integrity check failed: " + first;
  }
  std::vector<std::string> names;
  bool hasMeta = false, hasEntries = false;
  {
    Stmt s(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
               "ORDER BY name");
    if (!s.prepared())
      return s.error();
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      std::string n = s.text(0);
      hasMeta |= n == "meta";
      hasEntries |= n == "entries";
      names.push_back(n);
    }
    if (rc != SQLITE_DONE)
      return s.error();
  }
  std::string tableList;
  for (const std::string &n : names)
    tableList += (tableList.empty() ? "" : ", ") + n;
  if (!hasMeta)
    return "it has no 'meta' table; its tables are: " +
           (tableList.empty() ? std::string("none") : tableList);
  {
    Stmt s(db, "SELECT value FROM meta WHERE name = 'format'");
    if (!s.prepared())
      return "its 'meta' table is unreadable: " + s.error();
    int rc = s.step();
    if (rc == SQLITE_DONE)
      return "its 'meta' table has no 'format' row";
    if (rc != SQLITE_ROW)
      return s.error();
    std::string format = s.text(0);
    if (format != kTuningDbFormat)
      return "its format is '" + format + "', not '" + kTuningDbFormat + "'";
  }
  if (version != kTuningDbSchemaVersion)
    return "schema version " + std::to_string(version) +
           ", but this attnc reads version " +
           std::to_string(kTuningDbSchemaVersion);
  if (!hasEntries)
    return "it has no 'entries' table";
  {
    Stmt s(db, "PRAGMA table_info(entries)");
    if (!s.prepared())
      return s.error();
    std::set<std::string> cols;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      cols.insert(s.text(1));
    if (rc != SQLITE_DONE)
      return s.error();
    if (cols != expectedEntryColumns())
      return "its 'entries' table has unexpected columns";
  }
  return "";
}

Status initSchema(sqlite3 *db) {
  Transaction txn(db);
  if (Status s = txn.begin(); !s)
    return s;
  if (Status s = exec(db, kSchemaSql); !s)
    return s;
  return txn.commit();
}

/// Per-connection settings.  journal_mode=WAL is persistent in the file.
Status configureConnection(sqlite3 *db, bool writable) {
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  if (!writable)
    return Status::success();
  {
    Stmt s(db, "PRAGMA journal_mode = WAL");
    if (!s.prepared())
      return Status::error(s.error());
    if (s.step() != SQLITE_ROW)
      return Status::error(s.error());
    if (s.text(0) != "wal")
      return Status::error("cannot switch to WAL mode (journal mode is '" +
                           s.text(0) + "')");
  }
  // WAL + NORMAL is safe against crashes of the process; only a power
  // loss can drop the last commits, which a cache can afford.
  return exec(db, "PRAGMA synchronous = NORMAL");
}

sqlite3 *openConnection(const std::string &uriOrPath, int flags,
                        std::string &error) {
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2(uriOrPath.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return nullptr;
  }
  return db;
}

/// A URI that opens `path` read-only and immutable (no -shm or -wal is
/// created): the fallback for a read-only directory.
std::string immutableUri(const std::string &path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#')
      uri += c == '%' ? "%25" : c == '?' ? "%3f" : "%23";
    else
      uri += c;
  }
  return uri + "?immutable=1";
}

std::string compactUtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  return buf;
}

/// rename() that never replaces an existing file.
int renameNoReplace(const std::string &from, const std::string &to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  // The file system lacks RENAME_NOREPLACE: link (fails if `to` exists),
  // then unlink.
  if (::link(from.c_str(), to.c_str()) != 0)
    return -1;
  return ::unlink(from.c_str());
}

/// Moves `path` (and its -wal, -shm and -journal files) aside; returns the
/// new name of `path`.
Result<std::string> moveAside(const std::string &path) {
  std::string base = path + ".corrupt-" + compactUtcNow();
  std::string target = base;
  for (int i = 2;; ++i) {
    if (renameNoReplace(path, target) == 0)
      break;
    if (errno != EEXIST || i > 1000)
      return Status::error("cannot move " + path + " aside to " + target +
                           ": " + sysError(errno));
    target = base + "-" + std::to_string(i);
  }
  for (const char *suffix : {"-wal", "-shm", "-journal"}) {
    std::string from = path + suffix;
    if (pathExists(from))
      (void)renameNoReplace(from, target + suffix);
  }
  return target;
}

/// An exclusive flock on `<path>.lock`, held while a file is checked,
/// moved aside and (re)created, so that two processes never both move.
class OpenLock {
public:
  explicit OpenLock(const std::string &dbPath) {
    fd = ::open((dbPath + ".lock").c_str(),
                O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
      while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
      }
  }
  ~OpenLock() {
    if (fd >= 0)
      ::close(fd); // releases the lock
  }
  OpenLock(const OpenLock &) = delete;
  OpenLock &operator=(const OpenLock &) = delete;

private:
  int fd = -1;
};

std::string numberOrNullDesc(const Json &j) {
  return j.is_null() ? "null" : j.type_name();
}

} // namespace

//===----------------------------------------------------------------------===//
// Free functions
//===----------------------------------------------------------------------===//

std::string defaultTuningDbPath() {
  auto env = [](const char *name) -> std::string {
    const char *v = std::getenv(name);
    return v && *v ? std::string(v) : std::string();
  };
  auto strip = [](std::string s) {
    while (s.size() > 1 && s.back() == '/')
      s.pop_back();
    return s;
  };
  if (std::string d = env("ATTN_CACHE_DIR"); !d.empty())
    return strip(d) + "/tuning.db";
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty())
    return strip(d) + "/attnc/tuning.db";
  if (std::string d = env("HOME"); !d.empty())
    return strip(d) + "/.cache/attnc/tuning.db";
  return "";
}

std::string checkCacheDirectory(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return "cannot inspect " + dir + ": " + sysError(errno);
  if (!S_ISDIR(st.st_mode))
    return dir + " is not a directory";
  if (st.st_uid != ::geteuid())
    return dir + " is owned by uid " + std::to_string(st.st_uid) +
           ", not by the current user (uid " + std::to_string(::geteuid()) +
           ")";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    std::string who = (st.st_mode & S_IWOTH) ? "world-writable"
                                             : "group-writable";
    return dir + " is " + who + " (mode " + mode +
           "), so another user could replace its files; run 'chmod go-w " +
           dir + "'";
  }
  return "";
}

Result<std::string> canonicalTuningConfig(const std::string &text) {
  try {
    Json j = Json::parse(text);
    if (!j.is_object())
      return Status::error("config must be a JSON object of knob -> "
                           "integer, not " +
                           std::string(j.type_name()));
    Json out = Json::object(); // std::map: keys come out sorted
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().empty())
        return Status::error("config has an empty knob name");
      if (!it.value().is_number_integer())
        return Status::error("config knob '" + it.key() +
                             "' must be an integer, not " +
                             std::string(it.value().type_name()));
      out[it.key()] = it.value();
    }
    return out.dump();
  } catch (const std::exception &e) {
    return Status::error("config is not valid JSON: " +
                         std::string(e.what()));
  }
}

std::string tuningTimestampNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

//===----------------------------------------------------------------------===//
// Opening
//===----------------------------------------------------------------------===//

TuningDb::~TuningDb() { sqlite3_close_v2(db); }

Result<std::unique_ptr<TuningDb>> TuningDb::open(const std::string &path,
                                                 std::string *warning,
                                                 TuningDbOpenMode mode) {
  std::string localWarning;
  std::string &warn = warning ? *warning : localWarning;
  warn.clear();
  if (path.empty())
    return Status::error("no location for the tuning database: set "
                         "ATTN_CACHE_DIR, XDG_CACHE_HOME or HOME");
  const std::string dir = dirName(path);
  bool wantWrite = mode == TuningDbOpenMode::ReadWrite;

  if (wantWrite) {
    if (Status s = makeDirectories(dir); !s)
      return s.withContext("cannot create tuning database " + path);
  }
  if (std::string why = checkCacheDirectory(dir); !why.empty())
    return Status::error("refusing to use tuning database " + path + ": " +
                         why);

  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && S_ISLNK(st.st_mode))
    return Status::error("refusing to use tuning database " + path +
                         ": it is a symbolic link");
  if (exists && !S_ISREG(st.st_mode))
    return Status::error("tuning database " + path +
                         " is not a regular file");
  if (!exists && !wantWrite)
    return Status::error("tuning database " + path + " does not exist");

  // Fall back to read-only when the file or its directory cannot be
  // written (SQLite needs to create -wal and -shm files next to it).
  bool dirWritable = ::access(dir.c_str(), W_OK | X_OK) == 0;
  if (wantWrite && !exists && !dirWritable)
    return Status::error("cannot create tuning database " + path +
                         ": directory " + dir + " is not writable");
  bool readOnly = !wantWrite;
  if (wantWrite && exists &&
      (!dirWritable || ::access(path.c_str(), W_OK) != 0)) {
    readOnly = true;
    warn = "tuning database " + path + " is read-only (" +
           (dirWritable ? "the file" : "its directory " + dir) +
           " is not writable); lookups work but results will not be saved";
  }

  std::optional<OpenLock> lock;
  if (!readOnly)
    lock.emplace(path);

  std::string err;
  int flags = SQLITE_OPEN_NOFOLLOW |
              (readOnly ? SQLITE_OPEN_READONLY
                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3 *raw = openConnection(path, flags, err);
  if (!raw)
    return Status::error("cannot open tuning database " + path + ": " + err);
  std::unique_ptr<TuningDb> tdb(new TuningDb(raw, path, readOnly));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  bool fresh = false, ioError = false;
  std::string problem = diagnose(raw, fresh, ioError);
  if (ioError && readOnly) {
    // A read-only directory: SQLite cannot create the -shm file it reads
    // a WAL database through.  Nobody can write there either, so reading
    // the file as immutable is safe.
    tdb.reset();
    raw = openConnection(immutableUri(path),
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err);
    if (!raw)
      return Status::error("cannot open tuning database " + path + ": " +
                           err);
    tdb.reset(new TuningDb(raw, path, true));
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    problem = diagnose(raw, fresh, ioError);
  }
  if (ioError)
    return Status::error("cannot read tuning database " + path + ": " +
                         problem);
  if (problem.empty() && !fresh) {
    if (Status s = configureConnection(raw, !readOnly); !s)
      return s.withContext("cannot open tuning database " + path);
    return tdb;
  }
  if (problem.empty() && fresh && !readOnly) {
    if (Status s = configureConnection(raw, true); !s)
      return s.withContext("cannot create tuning database " + path);
    if (Status s = initSchema(raw); !s)
      return s.withContext("cannot create tuning database " + path);
    return tdb;
  }

  std::string what =
      problem.empty() ? std::string("it is empty") : problem;
  if (readOnly) {
    // Cannot move it aside: treat it as empty, in memory.
    sqlite3 *mem = openConnection(
        ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err);
    if (!mem)
      return Status::error("cannot open an in-memory database: " + err);
    std::unique_ptr<TuningDb> empty(new TuningDb(mem, path, true));
    if (Status s = initSchema(mem); !s)
      return s.withContext("cannot open an in-memory database");
    if (!problem.empty()) {
      std::string note = "tuning database " + path +
                         " is not an attnc tuning database (" + problem +
                         "); it is read-only, so it was left in place and "
                         "is treated as empty";
      warn = warn.empty() ? note : warn + "; " + note;
    }
    return empty;
  }

  // Close our connection before renaming, then start a fresh file.
  tdb.reset();
  Result<std::string> aside = moveAside(path);
  if (!aside)
    return Status::error("tuning database " + path +
                         " is not an attnc tuning database (" + what +
                         ") and " + aside.message());
  raw = openConnection(path, flags, err);
  if (!raw)
    return Status::error("cannot create tuning database " + path + ": " +
                         err);
  tdb.reset(new TuningDb(raw, path, false));
  if (Status s = configureConnection(raw, true); !s)
    return s.withContext("cannot create tuning database " + path);
  if (Status s = initSchema(raw); !s)
    return s.withContext("cannot create tuning database " + path);
  warn = "tuning database " + path + " is not an attnc tuning database (" +
         what + "); moved it to " + *aside + " and started an empty one";
  return tdb;
}

//===----------------------------------------------------------------------===//
// Records
//===----------------------------------------------------------------------===//

Status TuningDb::requireWritable(const char *what) const {
  if (!readOnly)
    return Status::success();
  return Status::error("cannot " + std::string(what) + ": tuning database " +
                       dbPath + " is open read-only");
}

Status TuningDb::putLocked(const TuningRecord &r) {
  static const std::string sql =
      std::string("INSERT INTO entries(") + kEntryColumns +
      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
      "ON CONFLICT(key, config) DO UPDATE SET kernel = excluded.kernel, "
      "target = excluded.target, compiler = excluded.compiler, "
      "status = excluded.status, median_seconds = excluded.median_seconds, "
      "spread_seconds = excluded.spread_seconds, runs = excluded.runs, "
      "gflops = excluded.gflops, created_at = excluded.created_at, "
      "detail = excluded.detail";
  Stmt s(db, sql.c_str());
  if (!s.prepared())
    return Status::error(s.error());
  s.bind(1, r.key);
  s.bind(2, r.config);
  s.bind(3, r.kernel);
  s.bind(4, r.target);
  s.bind(5, r.compiler);
  s.bind(6, r.status);
  s.bindReal(7, r.medianSeconds);
  s.bindReal(8, r.spreadSeconds);
  s.bind(9, int64_t(r.runs));
  s.bindReal(10, r.gflops);
  s.bind(11, r.createdAt);
  s.bind(12, r.detail);
  if (s.step() != SQLITE_DONE)
    return Status::error(s.error());
  return Status::success();
}

Status TuningDb::put(const TuningRecord &record) {
  return putAll({record});
}

Status TuningDb::putAll(const std::vector<TuningRecord> &records) {
  if (Status s = requireWritable("save tuning results"); !s)
    return s;
  std::vector<TuningRecord> normalized;
  normalized.reserve(records.size());
  for (const TuningRecord &r : records) {
    Result<TuningRecord> n = normalizeRecord(r);
    if (!n)
      return Status::error("cannot save tuning result for key '" + r.key +
                           "': " + n.message());
    normalized.push_back(n.take());
  }
  Transaction txn(db);
  if (Status s = txn.begin(); !s)
    return s.withContext("cannot write tuning database " + dbPath);
  for (const TuningRecord &r : normalized)
    if (Status s = putLocked(r); !s)
      return s.withContext("cannot write tuning database " + dbPath);
  if (Status s = txn.commit(); !s)
    return s.withContext("cannot write tuning database " + dbPath);
  return Status::success();
}

Result<std::optional<TuningRecord>> TuningDb::best(const std::string &key) {
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM entries WHERE key = ?1 AND status = 'ok' "
                    "ORDER BY median_seconds ASC, created_at DESC, config "
                    "LIMIT 1";
  Stmt s(db, sql.c_str());
  if (!s.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  s.bind(1, key);
  int rc = s.step();
  if (rc == SQLITE_DONE)
    return std::optional<TuningRecord>();
  if (rc != SQLITE_ROW)
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  return std::optional<TuningRecord>(readRecord(s));
}

Result<std::vector<TuningRecord>> TuningDb::entries(const std::string &key) {
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM entries WHERE key = ?1 ORDER BY "
                    "status != 'ok', CASE status WHEN 'ok' THEN "
                    "median_seconds END, config";
  Stmt s(db, sql.c_str());
  if (!s.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  s.bind(1, key);
  std::vector<TuningRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back(readRecord(s));
  if (rc != SQLITE_DONE)
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  return out;
}

Result<std::vector<TuningSummary>> TuningDb::list() {
  Stmt s(db, "SELECT key, min(kernel), min(target), min(compiler), "
             "count(*), sum(status = 'ok') FROM entries GROUP BY key "
             "ORDER BY min(kernel), key");
  if (!s.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  std::vector<TuningSummary> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    TuningSummary t;
    t.key = s.text(0);
    t.kernel = s.text(1);
    t.target = s.text(2);
    t.compiler = s.text(3);
    t.trials = int(s.integer(4));
    t.okTrials = int(s.integer(5));
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE)
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  for (TuningSummary &t : out) {
    Result<std::optional<TuningRecord>> b = best(t.key);
    if (!b)
      return b.status();
    if (*b) {
      t.bestMedianSeconds = (*b)->medianSeconds;
      t.bestConfig = (*b)->config;
      // Describe the key by its best record.
      t.kernel = (*b)->kernel;
      t.target = (*b)->target;
      t.compiler = (*b)->compiler;
    }
  }
  return out;
}

Result<std::vector<std::string>>
TuningDb::keysWithPrefix(const std::string &prefix) {
  Stmt s(db, "SELECT DISTINCT key FROM entries WHERE substr(key, 1, ?1) = ?2 "
             "ORDER BY key");
  if (!s.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  s.bind(1, int64_t(prefix.size()));
  s.bind(2, prefix);
  std::vector<std::string> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back(s.text(0));
  if (rc != SQLITE_DONE)
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  return out;
}

//===----------------------------------------------------------------------===//
// Export, import, prune
//===----------------------------------------------------------------------===//

Status TuningDb::exportJsonl(std::ostream &out) {
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM entries ORDER BY key, config";
  Stmt s(db, sql.c_str());
  if (!s.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         s.error());
  try {
    auto num = [](double v) -> OrderedJson {
      return std::isfinite(v) ? OrderedJson(v) : OrderedJson(nullptr);
    };
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      TuningRecord r = readRecord(s);
      OrderedJson j;
      j["key"] = r.key;
      j["kernel"] = r.kernel;
      j["target"] = r.target;
      j["compiler"] = r.compiler;
      OrderedJson config = OrderedJson::parse(r.config, nullptr, false);
      j["config"] = config.is_discarded() ? OrderedJson(r.config) : config;
      j["status"] = r.status;
      j["median_seconds"] = num(r.medianSeconds);
      j["spread_seconds"] = num(r.spreadSeconds);
      j["runs"] = r.runs;
      j["gflops"] = num(r.gflops);
      j["created_at"] = r.createdAt;
      j["detail"] = r.detail;
      out << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    }
    if (rc != SQLITE_DONE)
      return Status::error("cannot read tuning database " + dbPath + ": " +
                           s.error());
  } catch (const std::exception &e) {
    return Status::error("cannot export tuning database " + dbPath + ": " +
                         e.what());
  }
  out.flush();
  if (!out)
    return Status::error("cannot export tuning database " + dbPath +
                         ": write failed");
  return Status::success();
}

namespace {

/// Parses one exported line into a record; "" or why not.
std::string parseLine(const std::string &line, TuningRecord &r) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const std::exception &e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (size_t p = what.find("] "); p != std::string::npos)
      what = what.substr(p + 2);
    // nlohmann counts lines within the one line it was given.
    if (size_t p = what.find("at line 1, column "); p != std::string::npos)
      what.replace(p, 18, "at column ");
    return "not valid JSON: " + what;
  }
  if (!j.is_object())
    return "expected a JSON object, got " + std::string(j.type_name());
  static const std::set<std::string> known = {
      "key",          "kernel",         "target", "compiler",
      "config",       "status",         "median_seconds",
      "spread_seconds", "runs",         "gflops", "created_at",
      "detail"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key()))
      return "unknown field '" + it.key() + "'";
  auto str = [&](const char *name, std::string &out,
                 bool required) -> std::string {
    auto it = j.find(name);
    if (it == j.end())
      return required ? "missing field '" + std::string(name) + "'" : "";
    if (!it->is_string())
      return "field '" + std::string(name) + "' must be a string, not " +
             it->type_name();
    out = it->get<std::string>();
    return "";
  };
  auto num = [&](const char *name, double &out) -> std::string {
    auto it = j.find(name);
    if (it == j.end())
      return "missing field '" + std::string(name) + "'";
    if (it->is_null()) {
      out = std::numeric_limits<double>::quiet_NaN();
      return "";
    }
    if (!it->is_number())
      return "field '" + std::string(name) +
             "' must be a number or null, not " + numberOrNullDesc(*it);
    out = it->get<double>();
    return "";
  };
  std::string e;
  if (!(e = str("key", r.key, true)).empty() ||
      !(e = str("kernel", r.kernel, true)).empty() ||
      !(e = str("target", r.target, true)).empty() ||
      !(e = str("compiler", r.compiler, true)).empty() ||
      !(e = str("status", r.status, true)).empty() ||
      !(e = str("created_at", r.createdAt, true)).empty() ||
      !(e = str("detail", r.detail, false)).empty() ||
      !(e = num("median_seconds", r.medianSeconds)).empty() ||
      !(e = num("spread_seconds", r.spreadSeconds)).empty() ||
      !(e = num("gflops", r.gflops)).empty())
    return e;
  auto runs = j.find("runs");
  if (runs == j.end())
    return "missing field 'runs'";
  if (!runs->is_number_integer() || runs->get<int64_t>() < 0 ||
      runs->get<int64_t>() > std::numeric_limits<int>::max())
    return "field 'runs' must be a non-negative integer";
  r.runs = int(runs->get<int64_t>());
  auto config = j.find("config");
  if (config == j.end())
    return "missing field 'config'";
  if (config->is_string())
    r.config = config->get<std::string>();
  else if (config->is_object())
    r.config = config->dump();
  else
    return "field 'config' must be an object, not " +
           std::string(config->type_name());
  if (r.createdAt.empty())
    return "field 'created_at' is empty";
  Result<TuningRecord> n = normalizeRecord(r);
  if (!n)
    return n.message();
  r = n.take();
  return "";
}

/// True when `incoming` should replace `existing` (same key and config).
bool incomingWins(const TuningRecord &existing, const TuningRecord &incoming) {
  if (incoming.createdAt != existing.createdAt)
    return incoming.createdAt > existing.createdAt;
  bool inOk = incoming.status == "ok", exOk = existing.status == "ok";
  if (inOk != exOk)
    return inOk;
  if (inOk)
    return incoming.medianSeconds < existing.medianSeconds;
  return false;
}

} // namespace

Result<int> TuningDb::importJsonl(std::istream &in,
                                  const std::string &sourceName) {
  if (Status s = requireWritable("import tuning results"); !s)
    return s;
  std::vector<TuningRecord> records;
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    TuningRecord r;
    if (std::string why = parseLine(line, r); !why.empty())
      return Status::error(sourceName + ":" + std::to_string(lineNo) + ": " +
                           why + "; nothing was imported");
    records.push_back(std::move(r));
  }
  if (in.bad())
    return Status::error(sourceName + ": read error; nothing was imported");

  Transaction txn(db);
  if (Status s = txn.begin(); !s)
    return s.withContext("cannot write tuning database " + dbPath);
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM entries WHERE key = ?1 AND config = ?2";
  Stmt get(db, sql.c_str());
  if (!get.prepared())
    return Status::error("cannot read tuning database " + dbPath + ": " +
                         get.error());
  int changed = 0;
  for (const TuningRecord &r : records) {
    get.reset();
    get.bind(1, r.key);
    get.bind(2, r.config);
    int rc = get.step();
    if (rc == SQLITE_ROW) {
      if (!incomingWins(readRecord(get), r))
        continue;
    } else if (rc != SQLITE_DONE) {
      return Status::error("cannot read tuning database " + dbPath + ": " +
                           get.error());
    }
    get.reset();
    if (Status s = putLocked(r); !s)
      return s.withContext("cannot write tuning database " + dbPath);
    ++changed;
  }
  if (Status s = txn.commit(); !s)
    return s.withContext("cannot write tuning database " + dbPath);
  return changed;
}

Result<int> TuningDb::prune(const PruneOptions &options) {
  if (Status s = requireWritable("prune"); !s)
    return s;
  if (options.keepBest && *options.keepBest < 1)
    return Status::error("the number of configs to keep must be at least 1, "
                         "not " +
                         std::to_string(*options.keepBest));
  Transaction txn(db);
  if (Status s = txn.begin(); !s)
    return s.withContext("cannot write tuning database " + dbPath);
  int removed = 0;
  auto run = [&](const char *sql, auto bindFn) -> Status {
    Stmt s(db, sql);
    if (!s.prepared())
      return Status::error(s.error());
    bindFn(s);
    if (s.step() != SQLITE_DONE)
      return Status::error(s.error());
    removed += sqlite3_changes(db);
    return Status::success();
  };
  if (options.dropFailed)
    if (Status s = run("DELETE FROM entries WHERE status != 'ok'",
                       [](Stmt &) {});
        !s)
      return s.withContext("cannot prune tuning database " + dbPath);
  if (options.onlyCompiler)
    if (Status s = run("DELETE FROM entries WHERE compiler != ?1",
                       [&](Stmt &st) { st.bind(1, *options.onlyCompiler); });
        !s)
      return s.withContext("cannot prune tuning database " + dbPath);
  if (options.keepBest)
    if (Status s = run(
            "DELETE FROM entries WHERE status != 'ok' OR rowid IN ("
            "  SELECT rowid FROM (SELECT rowid, row_number() OVER ("
            "    PARTITION BY key ORDER BY median_seconds ASC,"
            "    created_at DESC, config) AS rank"
            "    FROM entries WHERE status = 'ok') WHERE rank > ?1)",
            [&](Stmt &st) { st.bind(1, int64_t(*options.keepBest)); });
        !s)
      return s.withContext("cannot prune tuning database " + dbPath);
  if (Status s = txn.commit(); !s)
    return s.withContext("cannot prune tuning database " + dbPath);
  return removed;
}

} // namespace attn::rt
