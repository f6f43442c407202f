//===- TuningDbTest.cpp - The SQLite tuning database ----------------------===//
//
// Round trips, upserts, export/import, prune, every corruption case (each
// file is moved aside with its bytes intact), read-only databases and
// directories, unsafe directories, and concurrent writer processes.
//
//===----------------------------------------------------------------------===//

#include "runtime/TuningDb.h"

#include "TestUtil.h"

#include <sqlite3.h>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attn::rt;
using namespace attn::rt::test;
namespace fs = std::filesystem;

namespace {

TuningRecord makeRecord(const std::string &key, const std::string &config,
                        const std::string &status, double median,
                        const std::string &createdAt = "2026-11-24T13:55:01Z") {
  TuningRecord r;
  r.key = key;
  r.kernel = "attn_fwd";
  r.target = "x86-64-linux-avx2-fma";
  r.compiler = "attnc 0.3.0";
  r.config = config;
  r.status = status;
  r.medianSeconds = median;
  r.spreadSeconds = median / 10;
  r.runs = 7;
  r.gflops = status == "ok" ? 1.0 / median : 0.0;
  r.createdAt = createdAt;
  r.detail = status == "ok" ? "" : "it failed: \"quoted\"\nsecond line";
  return r;
}

std::unique_ptr<TuningDb> openOk(const std::string &path,
                                 std::string *warning = nullptr,
                                 TuningDbOpenMode mode =
                                     TuningDbOpenMode::ReadWrite) {
  Result<std::unique_ptr<TuningDb>> db = TuningDb::open(path, warning, mode);
  EXPECT_TRUE(db.ok()) << db.message();
  return db.ok() ? db.take() : nullptr;
}

void expectSame(const TuningRecord &a, const TuningRecord &b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.compiler, b.compiler);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.createdAt, b.createdAt);
  EXPECT_EQ(a.detail, b.detail);
  auto sameNum = [](double x, double y) {
    return (std::isnan(x) && std::isnan(y)) || x == y;
  };
  EXPECT_TRUE(sameNum(a.medianSeconds, b.medianSeconds))
      << a.medianSeconds << " vs " << b.medianSeconds;
  EXPECT_TRUE(sameNum(a.spreadSeconds, b.spreadSeconds));
  EXPECT_TRUE(sameNum(a.gflops, b.gflops));
}

/// Files in `dir` whose name starts with `prefix`.
std::vector<std::string> filesStartingWith(const std::string &dir,
                                           const std::string &prefix) {
  std::vector<std::string> out;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path().string());
  return out;
}

/// Runs SQL on `path` directly through SQLite, creating the file.
void rawSql(const std::string &path, const char *sql) {
  sqlite3 *db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char *err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK)
      << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

/// A valid database at `path` with `n` records of key "k" (closed again).
void makeDb(const std::string &path, int n) {
  auto db = openOk(path);
  ASSERT_TRUE(db);
  std::vector<TuningRecord> recs;
  for (int i = 0; i < n; ++i)
    recs.push_back(makeRecord("k", "{\"i\":" + std::to_string(i) + "}", "ok",
                              0.001 * (i + 1)));
  ASSERT_TRUE(db->putAll(recs).ok());
}

/// Opens `path` (holding `bytes`), expects the file to be reported and
/// moved aside intact, and the fresh database to work.
void expectMovedAside(const TempDir &dir, const std::string &path,
                      const std::string &bytes, const std::string &reason) {
  std::string warning;
  auto db = openOk(path, &warning);
  ASSERT_TRUE(db);
  EXPECT_NE(warning.find("tuning database " + path +
                         " is not an attnc tuning database"),
            std::string::npos)
      << warning;
  EXPECT_NE(warning.find(reason), std::string::npos) << warning;
  EXPECT_NE(warning.find("moved it to " + path + ".corrupt-"),
            std::string::npos)
      << warning;
  EXPECT_NE(warning.find("started an empty one"), std::string::npos);
  std::vector<std::string> aside = filesStartingWith(
      dir.path(), fs::path(path).filename().string() + ".corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_NE(warning.find(aside[0]), std::string::npos);
  EXPECT_EQ(readFile(aside[0]), bytes) << "original bytes not kept";
  // The new database is empty and works.
  auto e = db->entries("k");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_TRUE(e->empty());
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":1}", "ok", 0.5)).ok());
  auto b = db->best("k");
  ASSERT_TRUE(b.ok() && *b);
  EXPECT_EQ((*b)->config, "{\"a\":1}");
  db.reset();
  // A second open is silent: the fresh file is good.
  std::string again;
  auto db2 = openOk(path, &again);
  EXPECT_EQ(again, "");
}

/// Runs `body` in a child process, as uid/gid 65534 when we are root (so
/// permissions apply); returns its exit status (0 = all checks passed).
int runUnprivileged(const std::function<int()> &body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
      _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

#define CHILD_CHECK(cond, code)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "child check failed: %s\n", #cond);                      \
      return code;                                                             \
    }                                                                          \
  } while (0)

//===----------------------------------------------------------------------===//
// Records
//===----------------------------------------------------------------------===//

TEST(TuningDbTest, PutBestEntriesRoundTrip) {
  TempDir dir;
  std::string warning = "stale";
  auto db = openOk(dir.file("t.db"), &warning);
  ASSERT_TRUE(db);
  EXPECT_EQ(warning, "");
  EXPECT_FALSE(db->isReadOnly());
  TuningRecord a = makeRecord("k1", "{\"q\":64,\"k\":128}", "ok", 0.002);
  TuningRecord b = makeRecord("k1", "{\"q\":32,\"k\":128}", "ok", 0.001);
  TuningRecord c = makeRecord("k2", "{\"q\":16}", "ok", 0.003);
  ASSERT_TRUE(db->put(a).ok());
  ASSERT_TRUE(db->put(b).ok());
  ASSERT_TRUE(db->put(c).ok());

  auto best = db->best("k1");
  ASSERT_TRUE(best.ok()) << best.message();
  ASSERT_TRUE(best->has_value());
  b.config = "{\"k\":128,\"q\":32}"; // canonical: sorted keys
  expectSame(**best, b);

  auto all = db->entries("k1");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].medianSeconds, 0.001); // best first
  EXPECT_EQ((*all)[1].config, "{\"k\":128,\"q\":64}");

  auto none = db->best("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto summary = db->list();
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->size(), 2u);
  EXPECT_EQ((*summary)[0].key, "k1");
  EXPECT_EQ((*summary)[0].trials, 2);
  EXPECT_EQ(*(*summary)[0].bestMedianSeconds, 0.001);
  EXPECT_EQ((*summary)[0].bestConfig, "{\"k\":128,\"q\":32}");

  // Records survive closing and reopening.
  db.reset();
  db = openOk(dir.file("t.db"));
  auto again = db->entries("k2");
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  c.config = "{\"q\":16}";
  expectSame((*again)[0], c);

  auto keys = db->keysWithPrefix("k");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"k1", "k2"}));
}

TEST(TuningDbTest, PutUpsertsSameKeyAndConfig) {
  TempDir dir;
  auto db = openOk(dir.file("t.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":1,\"b\":2}", "ok", 0.5)).ok());
  // Same config written differently: the same row.
  TuningRecord later = makeRecord("k", "{ \"b\": 2, \"a\": 1 }", "timeout",
                                  0.9, "2026-11-25T00:00:00Z");
  ASSERT_TRUE(db->put(later).ok());
  auto all = db->entries("k");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].status, "timeout");
  EXPECT_EQ((*all)[0].medianSeconds, 0.9);
  EXPECT_EQ((*all)[0].createdAt, "2026-11-25T00:00:00Z");
  EXPECT_EQ((*all)[0].config, "{\"a\":1,\"b\":2}");
}

TEST(TuningDbTest, BestIgnoresRecordsThatAreNotOk) {
  TempDir dir;
  auto db = openOk(dir.file("t.db"));
  ASSERT_TRUE(db);
  for (const char *st : {"wrong", "crash", "timeout", "compile_error"})
    ASSERT_TRUE(db->put(makeRecord("k", std::string("{\"") + st + "\":1}",
                                   st, 1e-9))
                    .ok());
  auto none = db->best("k");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "a failed record must never win";
  ASSERT_TRUE(db->put(makeRecord("k", "{\"x\":1}", "ok", 0.25)).ok());
  ASSERT_TRUE(db->put(makeRecord("k", "{\"x\":2}", "ok", 0.125)).ok());
  auto best = db->best("k");
  ASSERT_TRUE(best.ok() && best->has_value());
  EXPECT_EQ((*best)->config, "{\"x\":2}");
  auto all = db->entries("k");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 6u);
  auto summary = db->list();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ((*summary)[0].okTrials, 2);
  EXPECT_EQ((*summary)[0].trials, 6);
}

TEST(TuningDbTest, PutRejectsInvalidRecords) {
  TempDir dir;
  auto db = openOk(dir.file("t.db"));
  ASSERT_TRUE(db);
  Status s = db->put(makeRecord("k", "{\"a\":1}", "slow", 0.1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("status 'slow' is not one of"),
            std::string::npos);
  s = db->put(makeRecord("k", "{\"a\":1.5}", "ok", 0.1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("config knob 'a' must be an integer"),
            std::string::npos)
      << s.message();
  s = db->put(makeRecord("k", "[1]", "ok", 0.1));
  EXPECT_FALSE(s.ok());
  s = db->put(makeRecord("k", "{\"a\":1}", "ok", NAN));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("finite median_seconds"), std::string::npos);
  s = db->put(makeRecord("", "{\"a\":1}", "ok", 0.1));
  EXPECT_FALSE(s.ok());
  // A failed record may carry a non-finite time; it reads back as NaN.
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":1}", "timeout", INFINITY)).ok());
  auto all = db->entries("k");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE(std::isnan((*all)[0].medianSeconds));
  // An empty timestamp is filled in.
  TuningRecord r = makeRecord("k2", "{}", "ok", 0.1, "");
  ASSERT_TRUE(db->put(r).ok());
  auto b = db->best("k2");
  ASSERT_TRUE(b.ok() && *b);
  EXPECT_EQ((*b)->createdAt.size(), 20u) << (*b)->createdAt;
  EXPECT_EQ((*b)->createdAt.back(), 'Z');
}

TEST(TuningDbTest, CanonicalConfig) {
  auto c = canonicalTuningConfig("{ \"z\": 1, \"a\": -2 }");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, "{\"a\":-2,\"z\":1}");
  EXPECT_EQ(*canonicalTuningConfig("{}"), "{}");
  EXPECT_FALSE(canonicalTuningConfig("{\"a\":true}").ok());
  EXPECT_FALSE(canonicalTuningConfig("{\"a\":{}}").ok());
  auto bad = canonicalTuningConfig("{");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("config is not valid JSON"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Export, import, prune
//===----------------------------------------------------------------------===//

TEST(TuningDbTest, ExportImportGivesTheSameEntries) {
  TempDir dir;
  auto a = openOk(dir.file("a.db"));
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->put(makeRecord("k1", "{\"q\":64}", "ok", 0.0123456789)).ok());
  ASSERT_TRUE(a->put(makeRecord("k1", "{\"q\":32}", "crash", NAN)).ok());
  TuningRecord u = makeRecord("k2", "{\"v\":8}", "wrong", 0.5);
  u.detail = "max error 3.5e-2 at [0,1] \xc3\xa9 tab\t";
  ASSERT_TRUE(a->put(u).ok());
  std::ostringstream out;
  ASSERT_TRUE(a->exportJsonl(out).ok());
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_NE(text.find("\"config\":{\"q\":32}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"median_seconds\":null"), std::string::npos) << text;

  auto b = openOk(dir.file("b.db"));
  ASSERT_TRUE(b);
  std::istringstream in(text);
  auto n = b->importJsonl(in, "a.jsonl");
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(*n, 3);
  for (const char *key : {"k1", "k2"}) {
    auto ea = a->entries(key), eb = b->entries(key);
    ASSERT_TRUE(ea.ok() && eb.ok());
    ASSERT_EQ(ea->size(), eb->size());
    for (size_t i = 0; i < ea->size(); ++i)
      expectSame((*ea)[i], (*eb)[i]);
  }
  std::ostringstream out2;
  ASSERT_TRUE(b->exportJsonl(out2).ok());
  EXPECT_EQ(out2.str(), text);
  // Importing the same lines again changes nothing.
  std::istringstream again(text);
  auto n2 = b->importJsonl(again, "a.jsonl");
  ASSERT_TRUE(n2.ok());
  EXPECT_EQ(*n2, 0);
}

TEST(TuningDbTest, ImportOfABadFileImportsNothingAndNamesTheLine) {
  TempDir dir;
  auto src = openOk(dir.file("a.db"));
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->put(makeRecord("k1", "{\"q\":64}", "ok", 0.1)).ok());
  ASSERT_TRUE(src->put(makeRecord("k2", "{\"q\":64}", "ok", 0.1)).ok());
  std::ostringstream out;
  ASSERT_TRUE(src->exportJsonl(out).ok());
  std::string good = out.str();

  auto db = openOk(dir.file("b.db"));
  ASSERT_TRUE(db);
  struct Case {
    std::string badLine, needle;
  };
  std::vector<Case> cases = {
      {"{\"key\": \"k3\"", "not valid JSON"},
      {"[1,2]", "expected a JSON object, got array"},
      {"{\"key\":\"k3\"}", "missing field 'kernel'"},
      {R"({"key":"k3","kernel":"a","target":"t","compiler":"c","config":{"q":1},"status":"meh","median_seconds":1,"spread_seconds":0,"runs":5,"gflops":1,"created_at":"2026-01-01T00:00:00Z","detail":""})",
       "status 'meh'"},
      {R"({"key":"k3","kernel":"a","target":"t","compiler":"c","config":{"q":1},"status":"ok","median_seconds":"fast","spread_seconds":0,"runs":5,"gflops":1,"created_at":"2026-01-01T00:00:00Z","detail":""})",
       "field 'median_seconds' must be a number or null, not string"},
      {R"({"key":"k3","kernel":"a","target":"t","compiler":"c","config":{"q":1},"status":"ok","median_seconds":1,"spread_seconds":0,"runs":5,"gflops":1,"created_at":"2026-01-01T00:00:00Z","detail":"","extra":1})",
       "unknown field 'extra'"},
  };
  for (const Case &c : cases) {
    // Line 1 and 3 good, line 2 bad (after a blank line: line 3 is bad).
    std::string text = good.substr(0, good.find('\n') + 1) + "\n" +
                       c.badLine + "\n" + good.substr(good.find('\n') + 1);
    std::istringstream in(text);
    auto n = db->importJsonl(in, "shared.jsonl");
    ASSERT_FALSE(n.ok()) << c.badLine;
    EXPECT_NE(n.message().find("shared.jsonl:3: "), std::string::npos)
        << n.message();
    EXPECT_NE(n.message().find(c.needle), std::string::npos) << n.message();
    EXPECT_NE(n.message().find("nothing was imported"), std::string::npos);
    auto listed = db->list();
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty()) << "a bad file must import nothing";
  }
}

TEST(TuningDbTest, ImportMergeKeepsTheNewerRecord) {
  TempDir dir;
  auto db = openOk(dir.file("t.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":1}", "ok", 0.5,
                                 "2026-06-01T00:00:00Z"))
                  .ok());
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":2}", "ok", 0.5,
                                 "2026-06-01T00:00:00Z"))
                  .ok());
  auto other = openOk(dir.file("o.db"));
  ASSERT_TRUE(other);
  // Older than ours: ignored.  Newer: replaces.  New config: added.
  ASSERT_TRUE(other->put(makeRecord("k", "{\"a\":1}", "ok", 0.1,
                                    "2026-01-01T00:00:00Z"))
                  .ok());
  ASSERT_TRUE(other->put(makeRecord("k", "{\"a\":2}", "ok", 0.4,
                                    "2026-07-01T00:00:00Z"))
                  .ok());
  ASSERT_TRUE(other->put(makeRecord("k", "{\"a\":3}", "crash", 0.0,
                                    "2026-07-01T00:00:00Z"))
                  .ok());
  std::ostringstream out;
  ASSERT_TRUE(other->exportJsonl(out).ok());
  std::istringstream in(out.str());
  auto n = db->importJsonl(in, "other.jsonl");
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(*n, 2);
  auto all = db->entries("k");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  std::map<std::string, double> median;
  for (const TuningRecord &r : *all)
    median[r.config] = r.medianSeconds;
  EXPECT_EQ(median["{\"a\":1}"], 0.5);
  EXPECT_EQ(median["{\"a\":2}"], 0.4);
  auto best = db->best("k");
  ASSERT_TRUE(best.ok() && *best);
  EXPECT_EQ((*best)->config, "{\"a\":2}");
}

TEST(TuningDbTest, Prune) {
  TempDir dir;
  auto db = openOk(dir.file("t.db"));
  ASSERT_TRUE(db);
  auto fill = [&] {
    std::vector<TuningRecord> recs;
    for (int i = 1; i <= 5; ++i)
      recs.push_back(makeRecord("k", "{\"i\":" + std::to_string(i) + "}",
                                "ok", 0.1 * i));
    recs.push_back(makeRecord("k", "{\"i\":9}", "crash", 0.0));
    TuningRecord old = makeRecord("old", "{\"i\":1}", "ok", 0.1);
    old.compiler = "attnc 0.1.0";
    recs.push_back(old);
    ASSERT_TRUE(db->putAll(recs).ok());
  };
  fill();
  PruneOptions failed;
  failed.dropFailed = true;
  auto n = db->prune(failed);
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(*n, 1);

  fill();
  PruneOptions keep;
  keep.keepBest = 2;
  n = db->prune(keep);
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(*n, 4); // 3 slower ok configs and the crash of "k"
  auto all = db->entries("k");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].config, "{\"i\":1}");
  EXPECT_EQ((*all)[1].config, "{\"i\":2}");

  PruneOptions compiler;
  compiler.onlyCompiler = "attnc 0.3.0";
  n = db->prune(compiler);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto listed = db->list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "k");

  PruneOptions zero;
  zero.keepBest = 0;
  n = db->prune(zero);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.message().find("at least 1"), std::string::npos);
  n = db->prune(PruneOptions());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

//===----------------------------------------------------------------------===//
// Corruption: every bad file is reported, moved aside intact, replaced
//===----------------------------------------------------------------------===//

TEST(TuningDbTest, EmptyFileIsANewDatabase) {
  // SQLite treats a 0-byte file as a new, empty database.  Nothing can be
  // lost, so it is initialized in place, silently; no .corrupt-* file.
  TempDir dir;
  std::string path = dir.file("t.db");
  writeFile(path, "");
  std::string warning = "stale";
  auto db = openOk(path, &warning);
  ASSERT_TRUE(db);
  EXPECT_EQ(warning, "");
  EXPECT_TRUE(filesStartingWith(dir.path(), "t.db.corrupt-").empty());
  ASSERT_TRUE(db->put(makeRecord("k", "{\"a\":1}", "ok", 0.5)).ok());
  auto b = db->best("k");
  ASSERT_TRUE(b.ok() && *b);
}

TEST(TuningDbTest, GarbageFileIsMovedAside) {
  TempDir dir;
  std::string path = dir.file("t.db");
  std::string bytes = "this is not a database\n";
  for (int i = 0; i < 5000; ++i)
    bytes.push_back(char((i * 7919) & 0xff));
  writeFile(path, bytes);
  expectMovedAside(dir, path, bytes, "file is not a database");
}

TEST(TuningDbTest, ShortNonSqliteFileIsMovedAside) {
  TempDir dir;
  std::string path = dir.file("t.db");
  writeFile(path, "{\"not\": \"sqlite\"}\n");
  expectMovedAside(dir, path, "{\"not\": \"sqlite\"}\n",
                   "file is not a database");
}

TEST(TuningDbTest, TruncatedDatabaseIsMovedAside) {
  TempDir dir;
  std::string full = dir.file("full.db");
  makeDb(full, 2000);
  std::string bytes = readFile(full);
  ASSERT_GT(bytes.size(), 16384u) << "need a multi-page database";
  std::string half = bytes.substr(0, bytes.size() / 2);
  std::string path = dir.file("t.db");
  writeFile(path, half);
  expectMovedAside(dir, path, half, "");
}

TEST(TuningDbTest, WrongSchemaVersionIsMovedAside) {
  TempDir dir;
  std::string path = dir.file("t.db");
  makeDb(path, 3);
  rawSql(path, "PRAGMA user_version = 99");
  std::string bytes = readFile(path);
  expectMovedAside(dir, path, bytes,
                   "schema version 99, but this attnc reads version 1");
}

TEST(TuningDbTest, ForeignSqliteDatabaseIsMovedAside) {
  TempDir dir;
  std::string path = dir.file("t.db");
  rawSql(path, "CREATE TABLE foo(x); INSERT INTO foo VALUES(42);");
  std::string bytes = readFile(path);
  expectMovedAside(dir, path, bytes,
                   "it has no 'meta' table; its tables are: foo");
}

TEST(TuningDbTest, OtherFormatIsMovedAside) {
  TempDir dir;
  std::string path = dir.file("t.db");
  rawSql(path, "CREATE TABLE meta(name TEXT, value TEXT);"
               "INSERT INTO meta VALUES('format', 'someone-else');"
               "PRAGMA user_version = 1;");
  std::string bytes = readFile(path);
  expectMovedAside(dir, path, bytes,
                   "its format is 'someone-else', not 'attnc-tuning'");
}

TEST(TuningDbTest, RepeatedCorruptionNeverOverwritesAnEarlierCopy) {
  TempDir dir;
  std::string path = dir.file("t.db");
  writeFile(path, std::string(4096, 'A'));
  std::string w1, w2;
  { auto db = openOk(path, &w1); }
  writeFile(path, std::string(4096, 'B'));
  { auto db = openOk(path, &w2); }
  EXPECT_NE(w1, "");
  EXPECT_NE(w2, "");
  std::vector<std::string> aside =
      filesStartingWith(dir.path(), "t.db.corrupt-");
  ASSERT_EQ(aside.size(), 2u);
  std::set<std::string> contents = {readFile(aside[0]), readFile(aside[1])};
  EXPECT_EQ(contents, (std::set<std::string>{std::string(4096, 'A'),
                                             std::string(4096, 'B')}));
}

//===----------------------------------------------------------------------===//
// Read-only databases and directories
//===----------------------------------------------------------------------===//

TEST(TuningDbTest, ReadOnlyModeLooksUpButRefusesWrites) {
  TempDir dir;
  std::string path = dir.file("t.db");
  makeDb(path, 3);
  std::string bytes = readFile(path);
  std::string warning;
  auto db = openOk(path, &warning, TuningDbOpenMode::ReadOnly);
  ASSERT_TRUE(db);
  EXPECT_EQ(warning, "");
  EXPECT_TRUE(db->isReadOnly());
  auto b = db->best("k");
  ASSERT_TRUE(b.ok() && *b) << b.message();
  EXPECT_EQ((*b)->config, "{\"i\":0}");
  Status s = db->put(makeRecord("k", "{\"i\":7}", "ok", 0.1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is open read-only"), std::string::npos)
      << s.message();
  std::istringstream in("");
  EXPECT_FALSE(db->importJsonl(in, "x").ok());
  PruneOptions p;
  p.dropFailed = true;
  EXPECT_FALSE(db->prune(p).ok());
  db.reset();
  EXPECT_EQ(readFile(path), bytes);

  // A missing file is an error in read-only mode (nothing is created).
  auto missing = TuningDb::open(dir.file("none.db"), nullptr,
                                TuningDbOpenMode::ReadOnly);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("none.db")));
}

TEST(TuningDbTest, ReadOnlyModeTreatsACorruptFileAsEmptyAndLeavesIt) {
  TempDir dir;
  std::string path = dir.file("t.db");
  writeFile(path, std::string(3000, 'x'));
  std::string warning;
  auto db = openOk(path, &warning, TuningDbOpenMode::ReadOnly);
  ASSERT_TRUE(db);
  EXPECT_NE(warning.find("is not an attnc tuning database (file is not a "
                         "database); it is read-only, so it was left in "
                         "place and is treated as empty"),
            std::string::npos)
      << warning;
  auto b = db->best("k");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ(readFile(path), std::string(3000, 'x'));
  EXPECT_TRUE(filesStartingWith(dir.path(), "t.db.corrupt-").empty());
}

TEST(TuningDbTest, ReadOnlyDirectoryFallsBackToReadOnly) {
  // Permissions do not stop root, so as root the checks run in a child
  // that has dropped to uid 65534, in a directory that uid owns.
  TempDir dir;
  std::string sub = dir.file("cache");
  ASSERT_EQ(mkdir(sub.c_str(), 0700), 0);
  if (geteuid() == 0) {
    // The child must be able to reach `sub`: the temp root (lit makes a
    // private 0700 one) and our directory get search permission only.
    std::string root = dir.path().substr(0, dir.path().rfind('/'));
    struct stat st;
    if (!root.empty() && stat(root.c_str(), &st) == 0 &&
        (st.st_mode & 0011) != 0011) // add search bits only (never to /tmp)
      ASSERT_EQ(chmod(root.c_str(), (st.st_mode & 07777) | 0011), 0);
    ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);
    ASSERT_EQ(chown(sub.c_str(), 65534, 65534), 0);
  }
  std::string path = sub + "/t.db";
  int rc = runUnprivileged([&]() -> int {
    {
      auto db = TuningDb::open(path);
      if (!db.ok())
        fprintf(stderr, "open: %s\n", db.message().c_str());
      CHILD_CHECK(db.ok(), 1);
      CHILD_CHECK((*db)->put(makeRecord("k", "{\"a\":1}", "ok", 0.5)).ok(), 2);
    }
    CHILD_CHECK(chmod(sub.c_str(), 0555) == 0, 3);
    std::string warning;
    auto db = TuningDb::open(path, &warning);
    CHILD_CHECK(db.ok(), 4);
    CHILD_CHECK((*db)->isReadOnly(), 5);
    CHILD_CHECK(warning.find("is read-only (its directory") !=
                    std::string::npos,
                6);
    auto b = (*db)->best("k");
    CHILD_CHECK(b.ok() && b->has_value(), 7);
    Status s = (*db)->put(makeRecord("k", "{\"a\":2}", "ok", 0.25));
    CHILD_CHECK(!s.ok() && s.message().find("read-only") != std::string::npos,
                8);
    auto created = TuningDb::open(sub + "/new.db");
    CHILD_CHECK(!created.ok(), 9);
    CHILD_CHECK(created.message().find("cannot create tuning database") !=
                    std::string::npos,
                10);
    CHILD_CHECK(chmod(sub.c_str(), 0700) == 0, 11);
    return 0;
  });
  EXPECT_EQ(rc, 0) << "child check " << rc << " failed (see stderr)";
}

//===----------------------------------------------------------------------===//
// Location and directory safety (R15)
//===----------------------------------------------------------------------===//

TEST(TuningDbTest, UnsafeCacheDirectoriesAreRefused) {
  TempDir dir;
  std::string sub = dir.file("cache");
  ASSERT_EQ(mkdir(sub.c_str(), 0700), 0);
  ASSERT_EQ(chmod(sub.c_str(), 0777), 0);
  auto db = TuningDb::open(sub + "/t.db");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("refusing to use tuning database"),
            std::string::npos);
  EXPECT_NE(db.message().find("is world-writable (mode 0777)"),
            std::string::npos)
      << db.message();
  EXPECT_FALSE(fs::exists(sub + "/t.db"));

  ASSERT_EQ(chmod(sub.c_str(), 0770), 0);
  db = TuningDb::open(sub + "/t.db");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("is group-writable (mode 0770)"),
            std::string::npos)
      << db.message();
  // Also in read-only mode.
  db = TuningDb::open(sub + "/t.db", nullptr, TuningDbOpenMode::ReadOnly);
  EXPECT_FALSE(db.ok());

  ASSERT_EQ(chmod(sub.c_str(), 0700), 0);
  std::string foreign;
  if (geteuid() == 0) {
    ASSERT_EQ(chown(sub.c_str(), 65534, 65534), 0);
    foreign = sub;
  } else {
    foreign = "/"; // owned by root, not by us
  }
  db = TuningDb::open(foreign == "/" ? "/attnc-tuning-test.db"
                                     : foreign + "/t.db");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("is owned by uid"), std::string::npos)
      << db.message();
  EXPECT_NE(db.message().find("not by the current user"), std::string::npos);
}

TEST(TuningDbTest, SymlinkedDatabaseIsRefused) {
  TempDir dir;
  makeDb(dir.file("real.db"), 1);
  ASSERT_EQ(symlink(dir.file("real.db").c_str(), dir.file("t.db").c_str()), 0);
  auto db = TuningDb::open(dir.file("t.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("is a symbolic link"), std::string::npos);
}

TEST(TuningDbTest, DirectoriesAreCreatedPrivate) {
  TempDir dir;
  std::string path = dir.file("a/b/c/tuning.db");
  auto db = openOk(path);
  ASSERT_TRUE(db);
  for (const char *d : {"a", "a/b", "a/b/c"}) {
    struct stat st;
    ASSERT_EQ(stat(dir.file(d).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
  }
}

TEST(TuningDbTest, DefaultPath) {
  struct Env {
    const char *name;
    std::optional<std::string> old;
  } vars[] = {{"ATTN_CACHE_DIR", {}}, {"XDG_CACHE_HOME", {}}, {"HOME", {}}};
  for (Env &e : vars)
    if (const char *v = getenv(e.name))
      e.old = v;
  setenv("HOME", "/home/u", 1);
  setenv("XDG_CACHE_HOME", "", 1);
  setenv("ATTN_CACHE_DIR", "", 1);
  EXPECT_EQ(defaultTuningDbPath(), "/home/u/.cache/attnc/tuning.db");
  setenv("XDG_CACHE_HOME", "/xdg/", 1);
  EXPECT_EQ(defaultTuningDbPath(), "/xdg/attnc/tuning.db");
  setenv("ATTN_CACHE_DIR", "/c", 1);
  EXPECT_EQ(defaultTuningDbPath(), "/c/tuning.db");
  unsetenv("ATTN_CACHE_DIR");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  EXPECT_EQ(defaultTuningDbPath(), "");
  auto db = TuningDb::open("");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("set ATTN_CACHE_DIR"), std::string::npos);
  for (Env &e : vars) {
    if (e.old)
      setenv(e.name, e.old->c_str(), 1);
    else
      unsetenv(e.name);
  }
}

//===----------------------------------------------------------------------===//
// Concurrency (R14)
//===----------------------------------------------------------------------===//

/// Forks `n` children that wait for a common start signal, then run
/// `body(child)`; returns their exit codes.
std::vector<int> forkAll(int n, const std::function<int(int)> &body) {
  int gate[2];
  EXPECT_EQ(pipe(gate), 0);
  std::vector<pid_t> pids;
  for (int c = 0; c < n; ++c) {
    pid_t pid = fork();
    if (pid == 0) {
      close(gate[1]);
      char b;
      (void)!read(gate[0], &b, 1); // returns at EOF: everyone starts
      _exit(body(c));
    }
    pids.push_back(pid);
  }
  close(gate[0]);
  close(gate[1]);
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 200);
  }
  return codes;
}

TuningRecord childRecord(int child, int i) {
  std::string key = "key-" + std::to_string(child) + "-" + std::to_string(i);
  TuningRecord r = makeRecord(key, "{\"c\":" + std::to_string(child) +
                                       ",\"i\":" + std::to_string(i) + "}",
                              "ok", 1e-3 * (child * 1000 + i + 1));
  r.kernel = "kernel" + std::to_string(child);
  r.detail = key;
  r.runs = i;
  return r;
}

TEST(TuningDbTest, ConcurrentWritersLoseNothing) {
  TempDir dir;
  std::string path = dir.file("t.db"); // created by the racing children
  const int kChildren = 4, kPuts = 200;
  std::vector<int> codes = forkAll(kChildren, [&](int c) {
    std::string warning;
    auto db = TuningDb::open(path, &warning);
    if (!db.ok() || !warning.empty()) {
      fprintf(stderr, "child %d: %s%s\n", c, db.message().c_str(),
              warning.c_str());
      return 1;
    }
    for (int i = 0; i < kPuts; ++i)
      if (Status s = (*db)->put(childRecord(c, i)); !s) {
        fprintf(stderr, "child %d: %s\n", c, s.message().c_str());
        return 2;
      }
    return 0;
  });
  for (int c = 0; c < kChildren; ++c)
    EXPECT_EQ(codes[c], 0) << "writer " << c;

  std::string warning;
  auto db = openOk(path, &warning);
  ASSERT_TRUE(db);
  EXPECT_EQ(warning, "");
  auto listed = db->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), size_t(kChildren * kPuts));
  for (int c = 0; c < kChildren; ++c)
    for (int i = 0; i < kPuts; ++i) {
      TuningRecord want = childRecord(c, i);
      auto got = db->entries(want.key);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->size(), 1u) << want.key;
      want.config = *canonicalTuningConfig(want.config);
      expectSame((*got)[0], want);
    }
  EXPECT_TRUE(filesStartingWith(dir.path(), "t.db.corrupt-").empty());
}

TEST(TuningDbTest, ConcurrentWritersOnOneKeyNeverTear) {
  TempDir dir;
  std::string path = dir.file("t.db");
  makeDb(path, 0);
  const int kChildren = 4, kPuts = 250;
  // Every writer rewrites the same key+config; a reader checks that every
  // record it sees is one writer's whole record.
  std::vector<int> codes = forkAll(kChildren + 1, [&](int c) {
    auto db = TuningDb::open(path);
    if (!db.ok())
      return 1;
    for (int i = 0; i < kPuts; ++i) {
      if (c == kChildren) {
        auto b = (*db)->best("shared");
        if (!b.ok())
          return 2;
        if (*b) {
          const TuningRecord &r = **b;
          if (r.detail != r.kernel + "/" + std::to_string(r.runs) ||
              r.medianSeconds != 1e-3 * (r.runs + 1))
            return 3;
        }
        continue;
      }
      TuningRecord r = makeRecord("shared", "{\"x\":1}", "ok", 1e-3 * (i + 1));
      r.kernel = "w" + std::to_string(c);
      r.runs = i;
      r.detail = r.kernel + "/" + std::to_string(i);
      if (!(*db)->put(r).ok())
        return 4;
    }
    return 0;
  });
  for (size_t c = 0; c < codes.size(); ++c)
    EXPECT_EQ(codes[c], 0) << "process " << c;
  auto db = openOk(path);
  auto all = db->entries("shared");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].runs, kPuts - 1);
}

TEST(TuningDbTest, KilledWriterLeavesNoPartialEntry) {
  TempDir dir;
  std::string path = dir.file("t.db");
  makeDb(path, 0);
  for (int round = 0; round < 5; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      auto db = TuningDb::open(path);
      if (!db.ok())
        _exit(1);
      for (int i = 0;; ++i) {
        std::vector<TuningRecord> batch;
        for (int j = 0; j < 20; ++j)
          batch.push_back(childRecord(round, i * 20 + j));
        (void)(*db)->putAll(batch);
      }
    }
    usleep(20000 + 10000 * round);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  std::string warning;
  auto db = openOk(path, &warning);
  ASSERT_TRUE(db);
  EXPECT_EQ(warning, "") << "a killed writer must not corrupt the file";
  auto listed = db->list();
  ASSERT_TRUE(listed.ok());
  // Batches are transactions: whole batches only.
  std::map<int, int> perRound;
  for (const TuningSummary &s : *listed) {
    auto e = db->entries(s.key);
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->size(), 1u);
    const TuningRecord &r = (*e)[0];
    EXPECT_EQ(r.detail, r.key);
    int round = r.kernel.back() - '0';
    ++perRound[round];
  }
  for (auto &[round, count] : perRound)
    EXPECT_EQ(count % 20, 0) << "round " << round << " has a partial batch";
}

} // namespace
