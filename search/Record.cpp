//===- Record.cpp - One evaluated point of a search -----------------------===//
//
// nlohmann::json does the JSON; every exception it may throw is caught
// here, so nothing crosses the API.
//
//===----------------------------------------------------------------------===//

#include "search/Record.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace attn::search;

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

std::string attn::search::timestampNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

namespace {

OrderedJson num(double v) {
  return std::isfinite(v) ? OrderedJson(v) : OrderedJson(nullptr);
}

OrderedJson opt(const std::optional<double> &v) {
  return v ? num(*v) : OrderedJson(nullptr);
}

/// Reads the fields of one JSON object, remembering the first error.
class FieldReader {
public:
  FieldReader(const Json &object, std::string prefix = "")
      : object(object), prefix(std::move(prefix)) {}

  void integer(const char *name, int64_t &out, bool required = false) {
    const Json *v = find(name, required);
    if (!v)
      return;
    if (v->is_number_integer() || v->is_number_unsigned()) {
      out = v->get<int64_t>();
      return;
    }
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) {
        out = int64_t(d);
        return;
      }
    }
    fail(name, "expected an integer");
  }

  /// A number that is always there; null (a non-finite value) reads as NaN.
  void number(const char *name, double &out) {
    const Json *v = find(name, false);
    if (!v)
      return;
    if (v->is_null())
      out = NAN;
    else if (v->is_number())
      out = v->get<double>();
    else
      fail(name, "expected a number or null");
  }

  void optional(const char *name, std::optional<double> &out) {
    const Json *v = find(name, false);
    if (!v || v->is_null()) {
      out.reset();
      return;
    }
    if (v->is_number())
      out = v->get<double>();
    else
      fail(name, "expected a number or null");
  }

  void string(const char *name, std::string &out, bool required = false) {
    const Json *v = find(name, required);
    if (!v || (!required && v->is_null()))
      return;
    if (v->is_string())
      out = v->get<std::string>();
    else
      fail(name, "expected a string");
  }

  const Json *array(const char *name) {
    const Json *v = find(name, false);
    if (!v || v->is_null())
      return nullptr;
    if (v->is_array())
      return v;
    fail(name, "expected an array");
    return nullptr;
  }

  void fail(const std::string &name, const std::string &why) {
    if (error.empty())
      error = "field '" + prefix + name + "': " + why;
  }

  std::string error;

private:
  const Json *find(const char *name, bool required) {
    auto it = object.find(name);
    if (it == object.end()) {
      if (required)
        fail(name, "missing");
      return nullptr;
    }
    return &*it;
  }

  const Json &object;
  std::string prefix;
};

/// Drops nlohmann's "[json.exception.parse_error.101] " prefix and its
/// line number (always 1 here).
std::string cleanParseError(std::string what) {
  if (size_t p = what.find("] "); p != std::string::npos)
    what = what.substr(p + 2);
  if (size_t p = what.find("at line 1, column "); p != std::string::npos)
    what.replace(p, 18, "at column ");
  return what;
}

} // namespace

std::string attn::search::toJsonLine(const EvalRecord &r) {
  try {
    OrderedJson j;
    j["id"] = r.id;
    j["generation"] = r.generation;
    j["config"] = r.config;
    j["status"] = r.status;
    j["detail"] = r.detail;
    j["latency_ms"] = opt(r.latencyMs);
    j["spread_ms"] = opt(r.spreadMs);
    j["runs"] = r.runs;
    j["predicted_ms"] = opt(r.predictedMs);
    j["params"] = opt(r.params);
    j["flops"] = opt(r.flops);
    j["memory_bytes"] = opt(r.memoryBytes);
    j["score"] = opt(r.score);
    j["score_status"] = r.scoreStatus;
    j["score_detail"] = r.scoreDetail;
    OrderedJson kernels = OrderedJson::array();
    for (const KernelTime &k : r.kernels) {
      OrderedJson kj;
      kj["name"] = k.kernel;
      kj["key"] = k.key;
      kj["schedule"] = k.schedule;
      kj["calls"] = k.calls;
      kj["ms"] = num(k.ms);
      kj["flops"] = num(k.flops);
      kj["form"] = k.form;
      kernels.push_back(std::move(kj));
    }
    j["kernels"] = std::move(kernels);
    j["calls"] = r.calls;
    j["seconds"] = num(r.seconds);
    j["created_at"] = r.createdAt;
    // Invalid UTF-8 (process output in `detail`) becomes U+FFFD.
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception &) {
    // Only allocation can fail here; an empty line is read back as an error.
    return std::string();
  }
}

bool attn::search::fromJsonLine(const std::string &line, EvalRecord &record,
                                std::string &error) {
  try {
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::parse_error &e) {
      error = "not valid JSON: " + cleanParseError(e.what());
      return false;
    }
    if (!j.is_object()) {
      error = "expected a JSON object, got " + std::string(j.type_name());
      return false;
    }
    EvalRecord r;
    FieldReader f(j);
    f.integer("id", r.id, /*required=*/true);
    f.integer("generation", r.generation);
    f.string("config", r.config, /*required=*/true);
    f.string("status", r.status, /*required=*/true);
    f.string("detail", r.detail);
    f.optional("latency_ms", r.latencyMs);
    f.optional("spread_ms", r.spreadMs);
    f.integer("runs", r.runs);
    f.optional("predicted_ms", r.predictedMs);
    f.optional("params", r.params);
    f.optional("flops", r.flops);
    f.optional("memory_bytes", r.memoryBytes);
    f.optional("score", r.score);
    f.string("score_status", r.scoreStatus);
    f.string("score_detail", r.scoreDetail);
    if (const Json *kernels = f.array("kernels")) {
      for (size_t i = 0; i < kernels->size() && f.error.empty(); ++i) {
        const Json &kj = (*kernels)[i];
        std::string where = "kernels[" + std::to_string(i) + "]";
        if (!kj.is_object()) {
          f.fail(where, "expected an object");
          break;
        }
        KernelTime k;
        FieldReader kf(kj, where + ".");
        kf.string("name", k.kernel);
        kf.string("key", k.key);
        kf.string("schedule", k.schedule);
        kf.integer("calls", k.calls);
        kf.number("ms", k.ms);
        kf.number("flops", k.flops);
        kf.string("form", k.form);
        if (!kf.error.empty())
          f.error = kf.error;
        r.kernels.push_back(std::move(k));
      }
    }
    f.integer("calls", r.calls);
    f.number("seconds", r.seconds);
    f.string("created_at", r.createdAt);
    if (!f.error.empty()) {
      error = f.error;
      return false;
    }
    record = std::move(r);
    return true;
  } catch (const std::exception &e) {
    error = std::string("cannot read record: ") + e.what();
    return false;
  }
}

//===----------------------------------------------------------------------===//
// JSON lines files
//===----------------------------------------------------------------------===//

bool attn::search::readJsonl(const std::string &path,
                             std::vector<EvalRecord> &out, std::string &error,
                             int64_t *skipped) {
  if (skipped)
    *skipped = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = "cannot read " + path;
    return false;
  }
  std::vector<EvalRecord> records;
  size_t start = 0;
  int64_t lineNo = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    bool terminated = end != std::string::npos;
    if (!terminated)
      end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    EvalRecord r;
    std::string why;
    if (fromJsonLine(line, r, why)) {
      records.push_back(std::move(r));
      continue;
    }
    if (!terminated) {
      // The last line, cut off by a killed search.
      if (skipped)
        ++*skipped;
      continue;
    }
    error = path + ":" + std::to_string(lineNo) + ": " + why;
    return false;
  }
  out = std::move(records);
  return true;
}

namespace {

bool writeAll(int fd, const std::string &data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

/// Where the last line of `fd` (of `size` bytes, not ending in '\n')
/// starts, and its text.
bool readLastLine(int fd, off_t size, off_t &lineStart, std::string &line) {
  lineStart = 0;
  off_t pos = size;
  std::string tail;
  char buf[4096];
  while (pos > 0) {
    off_t chunk = std::min<off_t>(pos, off_t(sizeof buf));
    pos -= chunk;
    ssize_t n = ::pread(fd, buf, size_t(chunk), pos);
    if (n != chunk)
      return false;
    tail.insert(0, buf, size_t(chunk));
    size_t nl = tail.rfind('\n', size_t(size - pos) - 1);
    if (nl != std::string::npos) {
      lineStart = pos + off_t(nl) + 1;
      line = tail.substr(nl + 1);
      return true;
    }
  }
  line = tail;
  return true;
}

} // namespace

bool attn::search::appendJsonl(const std::string &path,
                               const EvalRecord &record, std::string &error) {
  std::string line = toJsonLine(record);
  if (line.empty()) {
    error = "cannot append to " + path + ": cannot format the record";
    return false;
  }
  line += '\n';
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  auto failed = [&](const char *what) {
    error = "cannot " + std::string(what) + " " + path + ": " +
            std::strerror(errno);
    ::close(fd);
    return false;
  };
  // One writer at a time (the driver normally is the only one).
  while (::flock(fd, LOCK_EX) != 0)
    if (errno != EINTR)
      return failed("lock");
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return failed("stat");
  if (st.st_size > 0) {
    char last = 0;
    if (::pread(fd, &last, 1, st.st_size - 1) != 1)
      return failed("read");
    if (last != '\n') {
      off_t lineStart = 0;
      std::string tail;
      if (!readLastLine(fd, st.st_size, lineStart, tail))
        return failed("read");
      EvalRecord ignored;
      std::string why;
      if (fromJsonLine(tail, ignored, why))
        line.insert(0, 1, '\n'); // a whole record that lacks its newline
      else if (::ftruncate(fd, lineStart) != 0)
        return failed("truncate");
    }
  }
  if (!writeAll(fd, line))
    return failed("write");
  if (::fsync(fd) != 0)
    return failed("sync");
  if (::close(fd) != 0) {
    error = "cannot close " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

namespace {

std::string csvField(const std::string &s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos)
    return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
  return out;
}

/// The shortest text that reads back as `v`; "" when not finite.
std::string csvNumber(double v) {
  if (!std::isfinite(v))
    return "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string csvNumber(const std::optional<double> &v) {
  return v ? csvNumber(*v) : std::string();
}

} // namespace

std::string attn::search::csvHeader() {
  return "id,generation,config,status,latency_ms,spread_ms,runs,predicted_ms,"
         "params,flops,memory_bytes,score,score_status,kernels,calls,seconds,"
         "created_at,detail,score_detail";
}

std::string attn::search::toCsvRow(const EvalRecord &r) {
  std::vector<std::string> fields = {
      std::to_string(r.id),
      std::to_string(r.generation),
      csvField(r.config),
      csvField(r.status),
      csvNumber(r.latencyMs),
      csvNumber(r.spreadMs),
      std::to_string(r.runs),
      csvNumber(r.predictedMs),
      csvNumber(r.params),
      csvNumber(r.flops),
      csvNumber(r.memoryBytes),
      csvNumber(r.score),
      csvField(r.scoreStatus),
      std::to_string(r.kernels.size()),
      std::to_string(r.calls),
      csvNumber(r.seconds),
      csvField(r.createdAt),
      csvField(r.detail),
      csvField(r.scoreDetail)};
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i)
      row += ',';
    row += fields[i];
  }
  return row;
}
