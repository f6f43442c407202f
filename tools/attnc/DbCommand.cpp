//===- DbCommand.cpp - `attnc db ...` -------------------------------------===//
//
// list, show, export, import, prune and path over the tuning database.
// Builds without exceptions and without MLIR: it only uses runtime/.
//
//===----------------------------------------------------------------------===//

#include "tools/attnc/DbCommand.h"
#include "tools/attnc/TextTable.h"

#include "runtime/TuningDb.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace attn::driver {

namespace {

using rt::TuningDb;
using rt::TuningDbOpenMode;
using rt::TuningRecord;

const char *const kUsage =
    "usage: attnc db [--db PATH] COMMAND\n"
    "\n"
    "commands:\n"
    "  list                 one line per kernel key: trials, best time, "
    "best config\n"
    "  show KEY             every record of KEY (a unique prefix is enough)\n"
    "  export [FILE]        write every record as JSON lines (stdout by "
    "default)\n"
    "  import FILE          merge JSON lines written by 'export' ('-' = "
    "stdin)\n"
    "  prune [--failed] [--keep N] [--compiler STRING]\n"
    "                       drop failed records / all but the N best configs "
    "per key /\n"
    "                       records of other compiler versions\n"
    "  path                 print the database location\n"
    "\n"
    "options:\n"
    "  --db PATH            use this database instead of $ATTN_CACHE_DIR/"
    "tuning.db,\n"
    "                       $XDG_CACHE_HOME/attnc/tuning.db or "
    "~/.cache/attnc/tuning.db\n";

class Command {
public:
  Command(std::ostream &out, std::ostream &err) : out(out), err(err) {}

  int run(const std::vector<std::string> &args);

private:
  int usageError(const std::string &msg) {
    err << "attnc db: error: " << msg << "\n"
        << "run 'attnc db --help' for usage\n";
    return 2;
  }
  int failure(const std::string &msg) {
    err << "attnc db: error: " << msg << "\n";
    return 1;
  }
  void warn(const std::string &msg) {
    if (!msg.empty())
      err << "attnc db: warning: " << msg << "\n";
  }
  bool dbExists() const {
    struct stat st;
    return ::lstat(dbPath.c_str(), &st) == 0;
  }
  /// Opens the database (read-write, so that a corrupt file is moved
  /// aside; read-only when it cannot be written).  Null after an error.
  std::unique_ptr<TuningDb> openDb() {
    std::string warning;
    auto db = TuningDb::open(dbPath, &warning);
    warn(warning);
    if (!db) {
      err << "attnc db: error: " << db.message() << "\n";
      return nullptr;
    }
    return db.take();
  }

  int list();
  int show(const std::string &prefix);
  int exportTo(const std::string &file);
  int importFrom(const std::string &file);
  int prune(const rt::PruneOptions &options);

  std::ostream &out;
  std::ostream &err;
  std::string dbPath;
};

std::string formatMs(double seconds) {
  if (!(seconds == seconds)) // NaN
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds * 1e3);
  return buf;
}

std::string formatNumber(double v, const char *fmt) {
  if (!(v == v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string shorten(const std::string &s, size_t width) {
  if (s.size() <= width)
    return s;
  return s.substr(0, width - 3) + "...";
}

std::string firstLine(const std::string &s) {
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl) + " ...";
}

/// Prints rows as aligned columns (formatTable).
void printTable(std::ostream &out,
                const std::vector<std::vector<std::string>> &rows,
                const std::vector<bool> &right) {
  for (const std::string &line : formatTable(rows, right))
    out << line << "\n";
}

int Command::list() {
  if (!dbExists()) {
    out << "no tuning database at " << dbPath << "\n";
    return 0;
  }
  auto db = openDb();
  if (!db)
    return 1;
  auto summaries = db->list();
  if (!summaries)
    return failure(summaries.message());
  if (summaries->empty()) {
    out << "tuning database " << dbPath << " has no entries\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"KEY", "KERNEL", "TARGET", "TRIALS", "BEST MS", "BEST CONFIG"}};
  for (const rt::TuningSummary &s : *summaries) {
    std::string trials = std::to_string(s.trials);
    if (s.okTrials != s.trials)
      trials += " (" + std::to_string(s.trials - s.okTrials) + " failed)";
    rows.push_back({s.key.substr(0, 16), s.kernel, shorten(s.target, 28),
                    trials,
                    s.bestMedianSeconds ? formatMs(*s.bestMedianSeconds)
                                        : std::string("-"),
                    s.bestMedianSeconds ? s.bestConfig
                                        : std::string("(no valid config)")});
  }
  printTable(out, rows, {false, false, false, true, true, false});
  return 0;
}

int Command::show(const std::string &prefix) {
  if (!dbExists())
    return failure("no tuning database at " + dbPath);
  auto db = openDb();
  if (!db)
    return 1;
  auto keys = db->keysWithPrefix(prefix);
  if (!keys)
    return failure(keys.message());
  if (keys->empty())
    return failure("no key in " + dbPath + " starts with '" + prefix + "'");
  std::string key;
  if (std::find(keys->begin(), keys->end(), prefix) != keys->end()) {
    key = prefix;
  } else if (keys->size() > 1) {
    std::string some;
    for (size_t i = 0; i < keys->size() && i < 5; ++i)
      some += (i ? ", " : "") + (*keys)[i].substr(0, 16);
    if (keys->size() > 5)
      some += ", ...";
    return failure("key prefix '" + prefix + "' is ambiguous: it matches " +
                   std::to_string(keys->size()) + " keys (" + some +
                   "); give more characters");
  } else {
    key = keys->front();
  }
  auto records = db->entries(key);
  if (!records)
    return failure(records.message());
  auto best = db->best(key);
  if (!best)
    return failure(best.message());
  const TuningRecord &any = best->has_value() ? **best : records->front();
  int ok = 0;
  for (const TuningRecord &r : *records)
    ok += r.status == "ok";
  out << "key:       " << key << "\n"
      << "kernel:    " << any.kernel << "\n"
      << "target:    " << any.target << "\n"
      << "compiler:  " << any.compiler << "\n"
      << "trials:    " << records->size() << " (" << ok << " ok)\n"
      << "best:      "
      << (best->has_value() ? formatMs((*best)->medianSeconds) + " ms " +
                                  (*best)->config
                            : std::string("none (no trial succeeded)"))
      << "\n\n";
  std::vector<std::vector<std::string>> rows = {
      {"STATUS", "MEDIAN MS", "SPREAD MS", "RUNS", "GFLOP/S", "CREATED",
       "CONFIG", "DETAIL"}};
  for (const TuningRecord &r : *records)
    rows.push_back({r.status, formatMs(r.medianSeconds),
                    formatMs(r.spreadSeconds), std::to_string(r.runs),
                    formatNumber(r.gflops, "%.1f"), r.createdAt, r.config,
                    shorten(firstLine(r.detail), 60)});
  printTable(out, rows, {false, true, true, true, true, false, false, false});
  return 0;
}

int Command::exportTo(const std::string &file) {
  std::ostringstream text;
  if (dbExists()) {
    auto db = openDb();
    if (!db)
      return 1;
    if (rt::Status s = db->exportJsonl(text); !s)
      return failure(s.message());
  }
  const std::string &s = text.str();
  size_t n = size_t(std::count(s.begin(), s.end(), '\n'));
  if (file.empty() || file == "-") {
    out << s;
    out.flush();
    return out ? 0 : failure("cannot write the export to stdout");
  }
  // Write next to the target, then rename: a reader never sees half.
  std::string tmp = file + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      return failure("cannot write " + file + ": " + std::strerror(errno));
    f << s;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return failure("cannot write " + file + ": " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return failure("cannot write " + file + ": " + std::strerror(e));
  }
  err << "exported " << n << " record" << (n == 1 ? "" : "s") << " to "
      << file << "\n";
  return 0;
}

int Command::importFrom(const std::string &file) {
  std::ifstream f;
  std::istream *in = &std::cin;
  std::string name = "<stdin>";
  if (file != "-") {
    f.open(file, std::ios::binary);
    if (!f)
      return failure("cannot open " + file + ": " + std::strerror(errno));
    in = &f;
    name = file;
  }
  auto db = openDb();
  if (!db)
    return 1;
  auto n = db->importJsonl(*in, name);
  if (!n)
    return failure(n.message());
  out << "imported " << *n << " record" << (*n == 1 ? "" : "s") << " from "
      << name << " into " << dbPath << "\n";
  return 0;
}

int Command::prune(const rt::PruneOptions &options) {
  if (!dbExists()) {
    out << "removed 0 records (no tuning database at " << dbPath << ")\n";
    return 0;
  }
  auto db = openDb();
  if (!db)
    return 1;
  auto n = db->prune(options);
  if (!n)
    return failure(n.message());
  out << "removed " << *n << " record" << (*n == 1 ? "" : "s") << " from "
      << dbPath << "\n";
  return 0;
}

int Command::run(const std::vector<std::string> &args) {
  std::vector<std::string> words;
  bool dbGiven = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--db" || a == "-db") {
      if (i + 1 >= args.size())
        return usageError("--db needs a path");
      dbPath = args[++i];
      dbGiven = true;
    } else if (a.rfind("--db=", 0) == 0) {
      dbPath = a.substr(5);
      dbGiven = true;
    } else if (a == "-h" || a == "--help" || a == "help") {
      out << kUsage;
      return 0;
    } else {
      words.push_back(a);
    }
  }
  if (dbGiven && dbPath.empty())
    return usageError("--db needs a non-empty path");
  if (words.empty())
    return usageError("no command given");
  if (!dbGiven) {
    dbPath = rt::defaultTuningDbPath();
    if (dbPath.empty())
      return failure("no location for the tuning database: set "
                     "ATTN_CACHE_DIR, XDG_CACHE_HOME or HOME, or give --db");
  }

  const std::string cmd = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  auto noArgs = [&]() -> bool { return rest.empty(); };
  auto unexpected = [&](size_t from) {
    return usageError("unexpected argument '" + rest[from] + "' for '" + cmd +
                      "'");
  };

  if (cmd == "path") {
    if (!noArgs())
      return unexpected(0);
    out << dbPath << "\n";
    return 0;
  }
  if (cmd == "list") {
    if (!noArgs())
      return unexpected(0);
    return list();
  }
  if (cmd == "show") {
    if (rest.empty())
      return usageError("'show' needs a KEY (or a unique prefix of one)");
    if (rest.size() > 1)
      return unexpected(1);
    if (rest[0].empty() || rest[0][0] == '-')
      return usageError("unknown option '" + rest[0] + "' for 'show'");
    return show(rest[0]);
  }
  if (cmd == "export") {
    if (rest.size() > 1)
      return unexpected(1);
    if (!rest.empty() && rest[0].size() > 1 && rest[0][0] == '-')
      return usageError("unknown option '" + rest[0] + "' for 'export'");
    return exportTo(rest.empty() ? "" : rest[0]);
  }
  if (cmd == "import") {
    if (rest.empty())
      return usageError("'import' needs a FILE");
    if (rest.size() > 1)
      return unexpected(1);
    if (rest[0].size() > 1 && rest[0][0] == '-')
      return usageError("unknown option '" + rest[0] + "' for 'import'");
    return importFrom(rest[0]);
  }
  if (cmd == "prune") {
    rt::PruneOptions options;
    for (size_t i = 0; i < rest.size(); ++i) {
      const std::string &a = rest[i];
      if (a == "--failed") {
        options.dropFailed = true;
      } else if (a == "--keep" || a.rfind("--keep=", 0) == 0) {
        std::string v;
        if (a == "--keep") {
          if (i + 1 >= rest.size())
            return usageError("--keep needs a number");
          v = rest[++i];
        } else {
          v = a.substr(7);
        }
        errno = 0;
        char *end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end || errno || n < 1 || n > INT_MAX)
          return usageError("--keep needs a positive integer, not '" + v +
                            "'");
        options.keepBest = int(n);
      } else if (a == "--compiler" || a.rfind("--compiler=", 0) == 0) {
        if (a == "--compiler") {
          if (i + 1 >= rest.size())
            return usageError("--compiler needs a version string");
          options.onlyCompiler = rest[++i];
        } else {
          options.onlyCompiler = a.substr(11);
        }
      } else {
        return usageError("unknown argument '" + a + "' for 'prune'");
      }
    }
    if (!options.dropFailed && !options.keepBest && !options.onlyCompiler)
      return usageError("'prune' needs --failed, --keep N or --compiler "
                        "STRING");
    return prune(options);
  }
  return usageError("unknown command '" + cmd + "'");
}

} // namespace

int runDbCommand(const std::vector<std::string> &args, std::ostream &out,
                 std::ostream &err) {
  return Command(out, err).run(args);
}

int runDbCommand(const std::vector<std::string> &args) {
  return runDbCommand(args, std::cout, std::cerr);
}

} // namespace attn::driver
