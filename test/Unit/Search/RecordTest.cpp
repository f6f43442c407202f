//===- RecordTest.cpp - points.jsonl and points.csv -----------------------===//
//
// Round trips, nulls for missing values, malformed lines, a cut-off last
// line (skipped when read, removed before the next append), and RFC 4180
// CSV quoting.
//
//===----------------------------------------------------------------------===//

#include "search/Record.h"

#include "SearchTestUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace attn::search;
using namespace attn::search::test;

namespace {

KernelTime kernel(const std::string &name, const std::string &key,
                  int64_t calls, double ms, double flops,
                  const std::string &form) {
  KernelTime k;
  k.kernel = name;
  k.key = key;
  k.schedule = "{\"tile\":[" + std::to_string(calls) + ",64]}";
  k.calls = calls;
  k.ms = ms;
  k.flops = flops;
  k.form = form;
  return k;
}

EvalRecord fullRecord() {
  EvalRecord r;
  r.id = 7;
  r.generation = 2;
  r.config = "heads=6,depth=3,mixer=[softmax,linear,softmax],ratio=[4,2,4]";
  r.status = "ok";
  r.detail = "line one\nline \"two\", with comma";
  r.latencyMs = 1.25;
  r.spreadMs = 0.0625;
  r.runs = 20;
  r.predictedMs = 1.5;
  r.params = 1234567;
  r.flops = 3.5e9;
  r.memoryBytes = 8.0e6;
  r.score = 0.8125;
  r.scoreStatus = "ok";
  r.scoreDetail = "accuracy 81.25%";
  r.kernels = {kernel("hybrid_vit_blk0", "ab12", 3, 0.25, 1e8, "block"),
               kernel("hybrid_vit_attn1", "cd34", 6, 0.125, 2e8, "softmax")};
  r.calls = 9;
  r.seconds = 12.5;
  r.createdAt = "2026-11-24T13:55:01Z";
  return r;
}

void expectSame(const EvalRecord &a, const EvalRecord &b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.detail, b.detail);
  EXPECT_EQ(a.latencyMs, b.latencyMs);
  EXPECT_EQ(a.spreadMs, b.spreadMs);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.predictedMs, b.predictedMs);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.flops, b.flops);
  EXPECT_EQ(a.memoryBytes, b.memoryBytes);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.scoreStatus, b.scoreStatus);
  EXPECT_EQ(a.scoreDetail, b.scoreDetail);
  ASSERT_EQ(a.kernels.size(), b.kernels.size());
  for (size_t i = 0; i < a.kernels.size(); ++i) {
    EXPECT_EQ(a.kernels[i].kernel, b.kernels[i].kernel);
    EXPECT_EQ(a.kernels[i].key, b.kernels[i].key);
    EXPECT_EQ(a.kernels[i].schedule, b.kernels[i].schedule);
    EXPECT_EQ(a.kernels[i].calls, b.kernels[i].calls);
    EXPECT_EQ(a.kernels[i].ms, b.kernels[i].ms);
    EXPECT_EQ(a.kernels[i].flops, b.kernels[i].flops);
    EXPECT_EQ(a.kernels[i].form, b.kernels[i].form);
  }
  EXPECT_EQ(a.calls, b.calls);
  EXPECT_EQ(a.seconds, b.seconds);
  EXPECT_EQ(a.createdAt, b.createdAt);
}

/// Splits RFC 4180 CSV text (one record) into fields.
std::vector<std::string> parseCsvRecord(const std::string &text) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(fields.back().empty()) << "quote inside a field: " << text;
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      EXPECT_TRUE(c != '\n' && c != '\r') << "bare line break: " << text;
      fields.back() += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote: " << text;
  return fields;
}

TEST(RecordTest, RoundTripsEveryField) {
  EvalRecord r = fullRecord();
  std::string line = toJsonLine(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EvalRecord back;
  std::string error;
  ASSERT_TRUE(fromJsonLine(line, back, error)) << error;
  expectSame(r, back);

  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["latency_ms"], 1.25);
  EXPECT_EQ(j["memory_bytes"], 8.0e6);
  EXPECT_EQ(j["kernels"][1]["name"], "hybrid_vit_attn1");
  EXPECT_EQ(j["kernels"][1]["schedule"], "{\"tile\":[6,64]}");
  EXPECT_EQ(j["created_at"], "2026-11-24T13:55:01Z");
}

TEST(RecordTest, MissingOptionalsAreNull) {
  EvalRecord r;
  r.id = 1;
  r.config = "heads=4";
  r.status = "compile_error";
  r.latencyMs = NAN; // a non-finite value is written as null, too
  std::string line = toJsonLine(r);
  nlohmann::json j = nlohmann::json::parse(line);
  for (const char *name : {"latency_ms", "spread_ms", "predicted_ms", "params",
                           "flops", "memory_bytes", "score"})
    EXPECT_TRUE(j.at(name).is_null()) << name;
  EXPECT_TRUE(j.at("kernels").is_array());
  EvalRecord back;
  back.latencyMs = 3; // overwritten
  std::string error;
  ASSERT_TRUE(fromJsonLine(line, back, error)) << error;
  EXPECT_FALSE(back.latencyMs.has_value());
  EXPECT_FALSE(back.score.has_value());
  EXPECT_EQ(back.status, "compile_error");
}

TEST(RecordTest, NonFiniteSecondsReadBackAsNaN) {
  EvalRecord r;
  r.id = 1;
  r.config = "a=1";
  r.status = "error";
  r.seconds = INFINITY;
  EvalRecord back;
  std::string error;
  ASSERT_TRUE(fromJsonLine(toJsonLine(r), back, error)) << error;
  EXPECT_TRUE(std::isnan(back.seconds));
}

TEST(RecordTest, InvalidUtf8InDetailStillGivesJson) {
  EvalRecord r = fullRecord();
  r.detail = std::string("bad \xff\xfe bytes");
  std::string line = toJsonLine(r);
  ASSERT_FALSE(line.empty());
  EvalRecord back;
  std::string error;
  ASSERT_TRUE(fromJsonLine(line, back, error)) << error;
  EXPECT_EQ(back.detail.rfind("bad ", 0), 0u);
  EXPECT_NE(back.detail.find("bytes"), std::string::npos);
}

TEST(RecordTest, MinimalLineDefaultsAndIgnoresUnknownFields) {
  EvalRecord r;
  std::string error;
  ASSERT_TRUE(fromJsonLine(
      R"({"id":3,"config":"x=1","status":"timeout","future":[1,2]})", r, error))
      << error;
  EXPECT_EQ(r.id, 3);
  EXPECT_EQ(r.status, "timeout");
  EXPECT_EQ(r.generation, 0);
  EXPECT_TRUE(r.kernels.empty());
  // An integral float is an integer.
  ASSERT_TRUE(
      fromJsonLine(R"({"id":4.0,"config":"x=1","status":"ok"})", r, error))
      << error;
  EXPECT_EQ(r.id, 4);
}

TEST(RecordTest, MalformedLinesAreErrors) {
  EvalRecord r;
  r.id = 99;
  std::string error;
  EXPECT_FALSE(fromJsonLine("{\"id\":1,", r, error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
  EXPECT_EQ(error.find("json.exception"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine("[1,2]", r, error));
  EXPECT_NE(error.find("expected a JSON object"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine(R"({"config":"x","status":"ok"})", r, error));
  EXPECT_NE(error.find("'id': missing"), std::string::npos) << error;
  EXPECT_FALSE(
      fromJsonLine(R"({"id":"1","config":"x","status":"ok"})", r, error));
  EXPECT_NE(error.find("'id'"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine(
      R"({"id":1,"config":"x","status":"ok","latency_ms":"fast"})", r, error));
  EXPECT_NE(error.find("'latency_ms'"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine(
      R"({"id":1,"config":"x","status":"ok","kernels":[{"calls":1.5}]})", r,
      error));
  EXPECT_NE(error.find("'kernels[0].calls'"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine(
      R"({"id":1,"config":"x","status":"ok","kernels":[3]})", r, error));
  EXPECT_NE(error.find("'kernels[0]'"), std::string::npos) << error;
  EXPECT_FALSE(fromJsonLine("", r, error));
  // A failed parse leaves the record alone.
  EXPECT_EQ(r.id, 99);
}

TEST(RecordTest, AppendsAndReadsJsonl) {
  TempDir dir;
  std::string path = dir.file("points.jsonl");
  std::string error;
  for (int i = 0; i < 3; ++i) {
    EvalRecord r = fullRecord();
    r.id = i;
    ASSERT_TRUE(appendJsonl(path, r, error)) << error;
  }
  std::string text = readFile(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.back(), '\n');
  std::vector<EvalRecord> records;
  int64_t skipped = -1;
  ASSERT_TRUE(readJsonl(path, records, error, &skipped)) << error;
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EvalRecord want = fullRecord();
    want.id = i;
    expectSame(want, records[i]);
  }
}

TEST(RecordTest, CutOffLastLineIsSkippedThenReplaced) {
  TempDir dir;
  std::string path = dir.file("points.jsonl");
  EvalRecord a = fullRecord(), b = fullRecord(), c = fullRecord();
  a.id = 0;
  b.id = 1;
  c.id = 2;
  std::string lineB = toJsonLine(b);
  writeFile(path, toJsonLine(a) + "\n" + lineB.substr(0, lineB.size() / 2));

  std::vector<EvalRecord> records;
  std::string error;
  int64_t skipped = 0;
  ASSERT_TRUE(readJsonl(path, records, error, &skipped)) << error;
  EXPECT_EQ(skipped, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, 0);

  // The next append drops the fragment instead of gluing onto it.
  ASSERT_TRUE(appendJsonl(path, c, error)) << error;
  ASSERT_TRUE(readJsonl(path, records, error, &skipped)) << error;
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, 0);
  EXPECT_EQ(records[1].id, 2);
}

TEST(RecordTest, WholeLastRecordWithoutNewlineIsKept) {
  TempDir dir;
  std::string path = dir.file("points.jsonl");
  EvalRecord a = fullRecord(), b = fullRecord();
  a.id = 10;
  b.id = 11;
  writeFile(path, toJsonLine(a)); // no newline
  std::vector<EvalRecord> records;
  std::string error;
  int64_t skipped = 0;
  ASSERT_TRUE(readJsonl(path, records, error, &skipped)) << error;
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(appendJsonl(path, b, error)) << error;
  ASSERT_TRUE(readJsonl(path, records, error, &skipped)) << error;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, 10);
  EXPECT_EQ(records[1].id, 11);
}

TEST(RecordTest, FragmentLongerThanOneReadChunkIsRemoved) {
  TempDir dir;
  std::string path = dir.file("points.jsonl");
  EvalRecord a = fullRecord(), big = fullRecord();
  a.id = 1;
  big.id = 2;
  big.detail = std::string(20000, 'x');
  std::string lineBig = toJsonLine(big);
  writeFile(path, toJsonLine(a) + "\n" + lineBig.substr(0, 15000));
  std::string error;
  ASSERT_TRUE(appendJsonl(path, big, error)) << error;
  std::vector<EvalRecord> records;
  ASSERT_TRUE(readJsonl(path, records, error)) << error;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].detail.size(), 20000u);
}

TEST(RecordTest, MalformedMiddleLineNamesItsLine) {
  TempDir dir;
  std::string path = dir.file("points.jsonl");
  EvalRecord a = fullRecord();
  writeFile(path, toJsonLine(a) + "\n\n{broken\n" + toJsonLine(a) + "\n");
  std::vector<EvalRecord> records;
  std::string error;
  EXPECT_FALSE(readJsonl(path, records, error));
  EXPECT_NE(error.find("points.jsonl:3:"), std::string::npos) << error;
  // A last line that ends in a newline was not cut off: an error as well.
  writeFile(path, toJsonLine(a) + "\n{broken\n");
  EXPECT_FALSE(readJsonl(path, records, error));
  EXPECT_NE(error.find("points.jsonl:2:"), std::string::npos) << error;
}

TEST(RecordTest, MissingFileIsAnError) {
  TempDir dir;
  std::vector<EvalRecord> records;
  std::string error;
  EXPECT_FALSE(readJsonl(dir.file("none.jsonl"), records, error));
  EXPECT_NE(error.find("none.jsonl"), std::string::npos);
  EXPECT_FALSE(appendJsonl(dir.file("no/such/dir.jsonl"), fullRecord(), error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(RecordTest, CsvQuotesConfigsAndDetails) {
  std::vector<std::string> header = parseCsvRecord(csvHeader());
  EvalRecord r = fullRecord();
  std::string row = toCsvRow(r);
  std::vector<std::string> fields = parseCsvRecord(row);
  ASSERT_EQ(fields.size(), header.size()) << row;
  auto field = [&](const std::string &name) {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return it == header.end() ? std::string() : fields[it - header.begin()];
  };
  EXPECT_EQ(field("config"), r.config);
  EXPECT_EQ(field("detail"), r.detail);
  EXPECT_EQ(field("latency_ms"), "1.25");
  EXPECT_EQ(std::stod(field("flops")), 3.5e9);
  EXPECT_EQ(field("kernels"), "2");
  EXPECT_EQ(field("calls"), "9");
  EXPECT_EQ(field("created_at"), r.createdAt);
  EXPECT_NE(row.find("\"line one\nline \"\"two\"\", with comma\""),
            std::string::npos)
      << row;
}

TEST(RecordTest, CsvLeavesMissingValuesEmpty) {
  std::vector<std::string> header = parseCsvRecord(csvHeader());
  EvalRecord r;
  r.id = 5;
  r.config = "heads=2";
  r.status = "crash";
  std::vector<std::string> fields = parseCsvRecord(toCsvRow(r));
  ASSERT_EQ(fields.size(), header.size());
  for (const char *name : {"latency_ms", "spread_ms", "predicted_ms", "params",
                           "flops", "memory_bytes", "score"}) {
    auto it = std::find(header.begin(), header.end(), name);
    ASSERT_NE(it, header.end()) << name;
    EXPECT_EQ(fields[it - header.begin()], "") << name;
  }
  EXPECT_EQ(fields[0], "5");
}

TEST(RecordTest, TimestampIsIso8601Utc) {
  std::string t = timestampNow();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

} // namespace
