//===- ScheduleSpace.cpp - schedule knobs of a kernel form ----------------===//

#include "lowering/ScheduleSpace.h"
#include "lowering/GpuSpaces.h"

#include <algorithm>
#include <cctype>
#include <sstream>

using namespace attn;

ScheduleSpace ScheduleSpace::twoPassTiled(int vectorLanes,
                                          int vectorRegisters,
                                          int64_t valueHeadDim) {
  ScheduleSpace s;
  s.valueHeadDim = valueHeadDim;
  s.registers = vectorRegisters;
  int64_t vw = vectorLanes;
  std::vector<int64_t> blocks;
  for (int64_t m = 1; m <= 8; ++m)
    if (m * vw <= 128)
      blocks.push_back(m * vw);
  std::vector<int64_t> tiles;
  for (int64_t t : {16, 24, 32, 48, 64, 96, 128, 192, 256})
    if (t % vw == 0)
      tiles.push_back(t);
  // Unrolling the value dim keeps one accumulator per vector of it per
  // query; it pays only while that fits the registers.
  bool canUnroll = valueHeadDim > 0 &&
                   (valueHeadDim + vw - 1) / vw <= vectorRegisters * 3 / 4;
  s.knobList = {
      {"query_tile", 1, 512, tiles,
       "query rows per task (multiple of dot_query_block)"},
      {"vector_width", 1, 64, {vw}, "float lanes per vector"},
      {"key_unroll", 1, 32, {2, 4, 6, 8, 12, 16},
       "keys per register block of Q.K^T"},
      {"dot_query_block", 1, 128, blocks,
       "queries per register block of Q.K^T (multiple of vector_width)"},
      {"pv_query_unroll", 1, 32, {1, 2, 3, 4, 6, 8},
       "queries per register block of P.V"},
      {"unroll_value_dim", 0, 1,
       canUnroll ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0},
       "fully unroll the value dim in P.V"},
  };
  // AVX-512 defaults were measured on the project machine
  // (docs/Performance.md): 48x8 Q.K^T and 64x6 P.V register tiles (24
  // accumulators each), 48-row query tiles so the two per-tile buffers stay
  // in L2 up to N = 4096.  Other targets get the same shape scaled to about
  // three quarters of their vector registers.
  int64_t budget = vectorRegisters * 3 / 4;
  int64_t dqb = vw >= 16 ? 3 * vw : 2 * vw;
  int64_t ku = std::min<int64_t>(8, std::max<int64_t>(1, budget / (dqb / vw)));
  int64_t valueVecs = canUnroll ? (valueHeadDim + vw - 1) / vw : 0;
  int64_t pu = canUnroll ? std::min<int64_t>(6, std::max<int64_t>(
                                                    1, budget / valueVecs))
                         : 4;
  int64_t qt = 48 % dqb == 0 ? 48 : 2 * dqb;
  s.defaultPoint = {{"query_tile", qt},
                    {"vector_width", vw},
                    {"key_unroll", ku},
                    {"dot_query_block", dqb},
                    {"pv_query_unroll", pu},
                    {"unroll_value_dim", canUnroll ? 1 : 0}};
  return s;
}

ScheduleSpace ScheduleSpace::forForm(const std::string &form,
                                     int vectorLanes, int vectorRegisters,
                                     int64_t valueHeadDim) {
  if (form == "two_pass_tiled")
    return twoPassTiled(vectorLanes, vectorRegisters, valueHeadDim);
  if (form == "window_tiled") {
    // The register blocks of two_pass_tiled; a task is one window, so
    // there is no query_tile.  Windows hold few queries (49 for Swin's 7 x
    // 7): the default Q.K^T block is two vectors of queries.
    ScheduleSpace s = twoPassTiled(vectorLanes, vectorRegisters, valueHeadDim);
    s.form = form;
    s.knobList.erase(s.knobList.begin());
    s.knobList[2].help = "queries per register block of Q.K^T (multiple of "
                         "vector_width)";
    s.defaultPoint.erase("query_tile");
    int64_t dqb = 2 * int64_t(vectorLanes);
    s.defaultPoint["dot_query_block"] = dqb;
    s.defaultPoint["key_unroll"] = std::min<int64_t>(
        8, std::max<int64_t>(1, vectorRegisters * 3 / 4 / 2));
    return s;
  }
  if (form == "separable" || form == "halo_tiled") {
    ScheduleSpace s;
    s.form = form;
    s.registers = vectorRegisters;
    s.valueHeadDim = valueHeadDim;
    s.knobList = {{"vector_width", 1, 64, {vectorLanes},
                   "float lanes per vector"}};
    s.defaultPoint = {{"vector_width", vectorLanes}};
    if (form == "halo_tiled") {
      s.knobList.push_back({"query_tile", 1, 1024, {8, 16, 32, 64, 128},
                            "query rows per task; each task also computes "
                            "the maps of a halo of (kernel - 1) rows on "
                            "each side"});
      s.defaultPoint["query_tile"] = 32;
    }
    return s;
  }
  if (form == "ema") {
    ScheduleSpace s;
    s.form = form;
    s.registers = vectorRegisters;
    s.knobList = {
        {"vector_width", 1, 64, {vectorLanes}, "float lanes per vector"},
        {"chunk", 1, 1024, {16, 32, 64, 128},
         "time steps per chunk of the scan: the direct Toeplitz part is "
         "quadratic in it, the carried state costs ema_dim per step"},
        {"fft_min_length", 1, int64_t(1) << 40,
         {1024, 4096, 16384, 65536, int64_t(1) << 40},
         "from this sequence length on, the FFT long convolution replaces "
         "the scan (2^40: never)"},
    };
    s.defaultPoint = {{"vector_width", vectorLanes},
                      {"chunk", 32},
                      {"fft_min_length", int64_t(1) << 40}};
    return s;
  }
  return linearForm(form, vectorLanes, vectorRegisters, valueHeadDim);
}

ScheduleSpace ScheduleSpace::linearForm(const std::string &form,
                                        int vectorLanes, int vectorRegisters,
                                        int64_t valueHeadDim) {
  ScheduleSpace s;
  s.form = form;
  s.valueHeadDim = valueHeadDim;
  s.registers = vectorRegisters;
  int64_t vw = vectorLanes;
  // Register blocks keep (rows or features) x ceil(Dv / vw) accumulators;
  // the default uses about three quarters of the registers.
  int64_t vecs = valueHeadDim > 0 ? (valueHeadDim + vw - 1) / vw : 4;
  int64_t budget = vectorRegisters * 3 / 4;
  // A power of two (at most 8), so it divides the default tiles (48, 64).
  int64_t block = 1;
  while (block * 2 <= std::min<int64_t>(8, budget / vecs))
    block *= 2;
  std::vector<int64_t> unrolls{1, 2, 3, 4, 6, 8};
  // Each form declares only the knobs its lowering reads.
  bool featureBlock = form == "associative" || form == "chunked_scan" ||
                      form == "fft_toeplitz";
  bool queryUnroll = form == "associative" || form == "chunked_scan";
  bool queryTile = form == "associative" || form == "pack_unpack";
  bool chunk = form == "chunked_scan" || form == "luna_scan";
  s.knobList = {{"vector_width", 1, 64, {vw}, "float lanes per vector"}};
  s.defaultPoint = {{"vector_width", vw}};
  if (featureBlock) {
    s.knobList.push_back(
        {"feature_block", 1, 32, unrolls,
         form == "fft_toeplitz"
             ? "features whose (Dv + 1) channels one FFT call convolves"
             : "features per register block of the state GEMM (phi_k^T V)"});
    s.defaultPoint["feature_block"] = block;
  }
  if (queryUnroll) {
    s.knobList.push_back(
        {"query_unroll", 1, 32, unrolls,
         "query rows per register block of the readout (phi_q . state)"});
    s.defaultPoint["query_unroll"] = block;
  }
  if (form == "associative") {
    s.knobList.push_back({"key_block", 16, 8192, {64, 128, 256, 512, 1024},
                          "keys whose features are computed together while "
                          "the state accumulates"});
    s.defaultPoint["key_block"] = 256;
  }
  if (queryTile) {
    s.knobList.push_back({"query_tile", 1, 1024,
                          {16, 24, 32, 48, 64, 96, 128, 192, 256},
                          "query rows per task (multiple of query_unroll)"});
    s.defaultPoint["query_tile"] = 48;
  }
  if (chunk) {
    s.knobList.push_back({"chunk", 1, 1024,
                          {16, 24, 32, 48, 64, 96, 128, 192, 256},
                          "rows per chunk: the intra-chunk part is quadratic "
                          "in it, the carried state is read once per row "
                          "(multiple of query_unroll)"});
    s.defaultPoint["chunk"] = 64;
  }
  return s;
}

const std::vector<KnobSpec> &ScheduleSpace::blockKnobSpecs() {
  static const std::vector<KnobSpec> knobs = {
      {"vector_width", 1, 64, {}, "float lanes per vector"},
      {"gemm_col_vectors", 1, 8, {},
       "vectors per row of a GEMM register block (a column panel is "
       "gemm_col_vectors * vector_width output columns)"},
      {"gemm_rows", 1, 32, {},
       "rows per GEMM register block (also of a materialized map's scores)"},
      {"gemm_min_tasks", 1, 1024, {},
       "parallel tasks per GEMM stage: rows are split into several tasks "
       "when the column panels are fewer"},
      {"parallel", 0, 1, {}, "run the outer loops of every stage on threads"},
      {"map_rows", 1, 1024, {},
       "query rows per tile of a materialized-map stage (scores, map_conv, "
       "softmax, attend): the maps of every head for the tile (plus the "
       "convolution's halo) are computed per tile"},
  };
  return knobs;
}

ScheduleSpace ScheduleSpace::blockKernel(int vectorLanes, int vectorRegisters,
                                         const SchedulePoint &heuristic,
                                         bool hasGemm, bool hasMaps) {
  ScheduleSpace s;
  s.form = "block";
  s.registers = vectorRegisters;
  const std::map<std::string, std::vector<int64_t>> tried = {
      {"vector_width", {vectorLanes}},
      {"gemm_col_vectors",
       hasGemm ? std::vector<int64_t>{1, 2, 3, 4} : std::vector<int64_t>{}},
      {"gemm_rows", hasGemm || hasMaps
                        ? std::vector<int64_t>{1, 2, 3, 4, 6, 8, 12, 16}
                        : std::vector<int64_t>{}},
      {"gemm_min_tasks", hasGemm ? std::vector<int64_t>{1, 2, 4, 8, 16}
                                 : std::vector<int64_t>{}},
      {"parallel", {0, 1}},
      {"map_rows", hasMaps ? std::vector<int64_t>{4, 8, 16, 32, 64}
                           : std::vector<int64_t>{}},
  };
  for (KnobSpec k : blockKnobSpecs()) {
    k.candidates = tried.at(k.name);
    // The default is always a candidate, so mutations start from it; a
    // knob the kernel does not read keeps it as its only value.
    auto h = heuristic.find(k.name);
    int64_t def = h != heuristic.end() ? h->second
                  : k.candidates.empty() ? k.minValue
                                         : k.candidates.front();
    if (std::find(k.candidates.begin(), k.candidates.end(), def) ==
        k.candidates.end()) {
      k.candidates.push_back(def);
      std::sort(k.candidates.begin(), k.candidates.end());
    }
    s.defaultPoint[k.name] = def;
    s.knobList.push_back(std::move(k));
  }
  return s;
}

std::string ScheduleSpace::checkBlockKnobs(const SchedulePoint &overrides) {
  // CPU and GPU block knobs alike: the target is not known here, and the
  // backend checks the knobs against the target's space when it compiles.
  std::vector<KnobSpec> known = blockKnobSpecs();
  for (const KnobSpec &k : gpu::blockSpace(true, true).knobs)
    if (std::none_of(known.begin(), known.end(),
                     [&](const KnobSpec &c) { return c.name == k.name; }))
      known.push_back(k);
  for (const auto &[name, value] : overrides) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const KnobSpec &k) { return k.name == name; });
    if (it == known.end()) {
      std::string names;
      for (const KnobSpec &k : known)
        names += (names.empty() ? "" : ", ") + k.name;
      return "unknown schedule knob '" + name +
             "' for a block kernel (known: " + names + ")";
    }
    if (value < it->minValue || value > it->maxValue)
      return "schedule knob '" + name + "' = " + std::to_string(value) +
             " is outside [" + std::to_string(it->minValue) + ", " +
             std::to_string(it->maxValue) + "]: " + it->help;
  }
  return "";
}

std::string ScheduleSpace::checkBlockRegisters(int64_t colVectors,
                                               int64_t rows,
                                               int64_t registers) {
  int64_t used = colVectors * rows + colVectors + 1;
  if (used > registers)
    return "gemm_col_vectors * gemm_rows + gemm_col_vectors + 1 = " +
           std::to_string(used) + " exceeds the " + std::to_string(registers) +
           " vector registers of the target (accumulators, a row of "
           "weights and a broadcast)";
  return "";
}

std::string ScheduleSpace::validateBlock(const SchedulePoint &p) const {
  return checkBlockRegisters(p.at("gemm_col_vectors"), p.at("gemm_rows"),
                             registers);
}

std::string ScheduleSpace::validateLinear(const SchedulePoint &p) const {
  int64_t vw = p.at("vector_width");
  int64_t vecs = valueHeadDim > 0 ? (valueHeadDim + vw - 1) / vw : 4;
  for (const char *knob : {"feature_block", "query_unroll"})
    if (p.count(knob) && vecs * p.at(knob) > registers)
      return std::string("schedule knob '") + knob + "' (" +
             std::to_string(p.at(knob)) + ") needs " +
             std::to_string(vecs * p.at(knob)) +
             " register accumulators; the target has " +
             std::to_string(registers) + " vector registers";
  if (!p.count("query_unroll"))
    return "";
  int64_t qu = p.at("query_unroll");
  const char *rows = p.count("query_tile") ? "query_tile" : "chunk";
  if (p.at(rows) % qu != 0)
    return std::string("schedule knob '") + rows + "' (" +
           std::to_string(p.at(rows)) +
           ") must be a multiple of 'query_unroll' (" + std::to_string(qu) +
           ")";
  return "";
}

std::vector<std::string> ScheduleSpace::constraints() const {
  if (isGpu()) {
    std::vector<std::string> rules = gpuRules;
    rules.push_back("threads per block <= " +
                    std::to_string(gpuLimits.maxThreads));
    rules.push_back("shared memory per block <= " +
                    std::to_string(gpuLimits.sharedBytes) + " bytes");
    return rules;
  }
  if (form == "ema" || form == "separable" || form == "halo_tiled")
    return {};
  if (form == "block")
    return {"gemm_col_vectors * gemm_rows + gemm_col_vectors + 1 <= " +
            std::to_string(registers) +
            " (GEMM accumulators, a row of weights and a broadcast)"};
  if (form == "window_tiled")
    return {"dot_query_block % vector_width == 0",
            "unroll_value_dim needs a static value head dim",
            "(dot_query_block / vector_width) * key_unroll <= " +
                std::to_string(registers) +
                " (register accumulators of Q.K^T)",
            "unroll_value_dim: ceil(Dv / vector_width) * pv_query_unroll <= " +
                std::to_string(registers) + " (register accumulators of P.V)"};
  if (form == "associative" || form == "chunked_scan")
    return {std::string(form == "associative" ? "query_tile" : "chunk") +
                " % query_unroll == 0",
            "ceil(Dv / vector_width) * feature_block <= " +
                std::to_string(registers) + " (state GEMM accumulators)",
            "ceil(Dv / vector_width) * query_unroll <= " +
                std::to_string(registers) + " (readout accumulators)"};
  if (form != "two_pass_tiled")
    return {};
  return {"dot_query_block % vector_width == 0",
          "query_tile % dot_query_block == 0",
          "unroll_value_dim needs a static value head dim",
          "(dot_query_block / vector_width) * key_unroll <= " +
              std::to_string(registers) + " (register accumulators of Q.K^T)",
          "unroll_value_dim: ceil(Dv / vector_width) * pv_query_unroll <= " +
              std::to_string(registers) + " (register accumulators of P.V)"};
}

std::string ScheduleSpace::validate(const SchedulePoint &p) const {
  for (const KnobSpec &k : knobList) {
    auto it = p.find(k.name);
    if (it == p.end())
      return "schedule knob '" + k.name + "' is not set";
    if (it->second < k.minValue || it->second > k.maxValue)
      return "schedule knob '" + k.name + "' = " + std::to_string(it->second) +
             " is outside [" + std::to_string(k.minValue) + ", " +
             std::to_string(k.maxValue) + "]: " + k.help;
  }
  if (isGpu())
    return validateGpu(p);
  if (form == "ema" || form == "separable" || form == "halo_tiled")
    return "";
  if (form == "block")
    return validateBlock(p);
  bool window = form == "window_tiled";
  if (form != "two_pass_tiled" && !window)
    return validateLinear(p);
  int64_t vw = p.at("vector_width"), qb = p.at("dot_query_block");
  int64_t qt = window ? qb : p.at("query_tile"), ku = p.at("key_unroll");
  int64_t qu = p.at("pv_query_unroll");
  if (qb % vw != 0)
    return "schedule knob 'dot_query_block' (" + std::to_string(qb) +
           ") must be a multiple of 'vector_width' (" + std::to_string(vw) +
           ")";
  if (qt % qb != 0)
    return "schedule knob 'query_tile' (" + std::to_string(qt) +
           ") must be a multiple of 'dot_query_block' (" + std::to_string(qb) +
           ")";
  if (p.at("unroll_value_dim") && valueHeadDim < 0)
    return "schedule knob 'unroll_value_dim' needs a static value head dim";
  if ((qb / vw) * ku > registers)
    return "schedule knobs 'dot_query_block' / 'vector_width' * "
           "'key_unroll' = " +
           std::to_string((qb / vw) * ku) +
           " register accumulators for Q.K^T; the target has " +
           std::to_string(registers) + " vector registers";
  if (p.at("unroll_value_dim")) {
    int64_t vecs = (valueHeadDim + vw - 1) / vw;
    if (vecs * qu > registers)
      return "schedule knob 'pv_query_unroll' (" + std::to_string(qu) +
             ") with the value dim unrolled needs " +
             std::to_string(vecs * qu) +
             " register accumulators for P.V; the target has " +
             std::to_string(registers) + " vector registers";
  }
  return "";
}

ScheduleSpace ScheduleSpace::fromGpuDef(GpuSpaceDef def,
                                        const GpuLimits &limits) {
  ScheduleSpace s;
  s.form = std::move(def.form);
  s.knobList = std::move(def.knobs);
  s.defaultPoint = std::move(def.defaultPoint);
  s.gpuRules = std::move(def.rules);
  s.gpuCheck = std::move(def.check);
  s.gpuFootprint = std::move(def.footprint);
  s.gpuLimits = limits;
  return s;
}

GpuFootprint ScheduleSpace::footprint(const SchedulePoint &point) const {
  return gpuFootprint ? gpuFootprint(point) : GpuFootprint{};
}

std::string ScheduleSpace::validateGpu(const SchedulePoint &p) const {
  if (gpuCheck)
    if (std::string err = gpuCheck(p); !err.empty())
      return err;
  GpuFootprint f = gpuFootprint(p);
  if (f.threads > gpuLimits.maxThreads)
    return "the schedule uses " + std::to_string(f.threads) +
           " threads per block; the target allows at most " +
           std::to_string(gpuLimits.maxThreads);
  if (f.sharedBytes > gpuLimits.sharedBytes)
    return "the schedule uses " + std::to_string(f.sharedBytes) +
           " bytes of shared memory per block; the target allows at most " +
           std::to_string(gpuLimits.sharedBytes);
  return "";
}

std::string ScheduleSpace::resolve(const SchedulePoint &overrides,
                                   SchedulePoint &out) const {
  out = defaultPoint;
  for (auto &[name, value] : overrides) {
    bool known = std::any_of(knobList.begin(), knobList.end(),
                             [&](const KnobSpec &k) { return k.name == name; });
    if (!known) {
      std::string names;
      for (const KnobSpec &k : knobList)
        names += (names.empty() ? "" : ", ") + k.name;
      return "unknown schedule knob '" + name + "' (known: " + names + ")";
    }
    out[name] = value;
  }
  return validate(out);
}

SchedulePoint ScheduleSpace::sample(std::mt19937_64 &rng) const {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    SchedulePoint p;
    for (const KnobSpec &k : knobList)
      p[k.name] = k.candidates[rng() % k.candidates.size()];
    if (validate(p).empty())
      return p;
  }
  return defaultPoint;
}

std::vector<SchedulePoint> ScheduleSpace::enumerate() const {
  std::vector<SchedulePoint> all{SchedulePoint{}};
  for (const KnobSpec &k : knobList) {
    std::vector<SchedulePoint> next;
    for (const SchedulePoint &p : all)
      for (int64_t v : k.candidates) {
        SchedulePoint q = p;
        q[k.name] = v;
        next.push_back(std::move(q));
      }
    all = std::move(next);
  }
  std::vector<SchedulePoint> valid;
  for (SchedulePoint &p : all)
    if (validate(p).empty())
      valid.push_back(std::move(p));
  return valid;
}

SchedulePoint ScheduleSpace::mutate(const SchedulePoint &point,
                                    std::mt19937_64 &rng) const {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const KnobSpec &k = knobList[rng() % knobList.size()];
    if (k.candidates.size() < 2)
      continue;
    auto it = std::find(k.candidates.begin(), k.candidates.end(),
                        point.at(k.name));
    size_t idx = it == k.candidates.end() ? 0 : size_t(it - k.candidates.begin());
    size_t next = (rng() % 2 == 0 && idx > 0) ? idx - 1
                  : idx + 1 < k.candidates.size() ? idx + 1
                                                   : idx - 1;
    SchedulePoint q = point;
    q[k.name] = k.candidates[next];
    if (validate(q).empty())
      return q;
  }
  return sample(rng);
}

SchedulePoint ScheduleSpace::crossover(const SchedulePoint &a,
                                       const SchedulePoint &b,
                                       std::mt19937_64 &rng) const {
  for (int attempt = 0; attempt < 20; ++attempt) {
    SchedulePoint c;
    for (const KnobSpec &k : knobList)
      c[k.name] = (rng() % 2 ? a : b).at(k.name);
    if (validate(c).empty())
      return c;
  }
  return a;
}

std::string ScheduleSpace::toJson(const SchedulePoint &point) {
  std::ostringstream os;
  os << "{";
  bool first = true;
  for (auto &[k, v] : point) {
    os << (first ? "" : ",") << "\"" << k << "\":" << v;
    first = false;
  }
  os << "}";
  return os.str();
}

bool ScheduleSpace::fromJson(const std::string &text, SchedulePoint &out) {
  out.clear();
  size_t pos = 0;
  auto skip = [&] {
    while (pos < text.size() && std::isspace((unsigned char)text[pos]))
      ++pos;
  };
  skip();
  if (pos >= text.size() || text[pos++] != '{')
    return false;
  skip();
  if (pos < text.size() && text[pos] == '}')
    return true;
  while (pos < text.size()) {
    skip();
    if (text[pos++] != '"')
      return false;
    size_t end = text.find('"', pos);
    if (end == std::string::npos)
      return false;
    std::string key = text.substr(pos, end - pos);
    pos = end + 1;
    skip();
    if (pos >= text.size() || text[pos++] != ':')
      return false;
    skip();
    size_t numEnd = pos;
    if (numEnd < text.size() && text[numEnd] == '-')
      ++numEnd;
    while (numEnd < text.size() && std::isdigit((unsigned char)text[numEnd]))
      ++numEnd;
    if (numEnd == pos)
      return false;
    out[key] = std::stoll(text.substr(pos, numEnd - pos));
    pos = numEnd;
    skip();
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < text.size() && text[pos] == '}')
      return true;
    return false;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// GPU spaces (the families' builders are in lowering/GpuSpace*.cpp)
//===----------------------------------------------------------------------===//

ScheduleSpace ScheduleSpace::gpuForm(const std::string &form,
                                     const GpuLimits &limits,
                                     int64_t valueHeadDim) {
  GpuSpaceDef def;
  if (gpu::softmaxSpace(form, valueHeadDim, def) ||
      gpu::efficientSpace(form, valueHeadDim, def))
    return fromGpuDef(std::move(def), limits);
  // An unknown form has no knobs; its lowering reports the form.
  def.form = form;
  def.footprint = [](const SchedulePoint &) { return GpuFootprint{}; };
  return fromGpuDef(std::move(def), limits);
}

ScheduleSpace ScheduleSpace::gpuBlockKernel(const GpuLimits &limits,
                                            bool hasGemm, bool hasMaps) {
  return fromGpuDef(gpu::blockSpace(hasGemm, hasMaps), limits);
}

std::string gpu::checkPowerOfTwo(const std::string &knob, int64_t value) {
  if (value > 0 && (value & (value - 1)) == 0)
    return "";
  return "schedule knob '" + knob + "' (" + std::to_string(value) +
         ") must be a power of two";
}
