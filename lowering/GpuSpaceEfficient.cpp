//===- GpuSpaceEfficient.cpp - GPU schedule spaces of the efficient family ===//
//
// The knobs of the GPU lowerings of associative, chunked_scan, fft_toeplitz
// (LinearPipeline), pack_unpack, luna_scan (LunaPipeline) and ema
// (EmaPipeline); docs/gpu/efficient-forms.md describes each mapping.  The
// footprint is the largest of the form's kernels: threads per block and
// shared memory per block (floats of the tiles staged there).
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuSpaces.h"

#include <algorithm>

using namespace attn;

namespace {

const std::vector<int64_t> kRows = {4, 8, 16, 32, 64};
const std::vector<int64_t> kFeatureBlocks = {1, 2, 4, 8, 16};
const std::vector<int64_t> kChunks = {16, 32, 64, 128};
const std::vector<int64_t> kTiles = {8, 16, 32, 64, 128};

/// "" or a message when knob `a` is not a multiple of knob `b`.
std::string checkMultiple(const SchedulePoint &p, const char *a,
                          const char *b) {
  if (p.at(a) % p.at(b) == 0)
    return "";
  return std::string("schedule knob '") + a + "' (" +
         std::to_string(p.at(a)) + ") must be a multiple of '" + b + "' (" +
         std::to_string(p.at(b)) + ")";
}

/// `def`'s default point moved to a valid one for the default limits:
/// each knob in `shrink` halved (in that order, repeatedly) while the
/// point uses more threads or shared memory than 1024 / 48 KiB, or breaks
/// a rule.
void fitDefault(GpuSpaceDef &def, const std::vector<std::string> &shrink) {
  GpuLimits limits;
  auto fits = [&](const SchedulePoint &p) {
    if (def.check && !def.check(p).empty())
      return false;
    GpuFootprint f = def.footprint(p);
    return f.threads <= limits.maxThreads &&
           f.sharedBytes <= limits.sharedBytes;
  };
  for (int round = 0; round < 16 && !fits(def.defaultPoint); ++round)
    for (const std::string &k : shrink) {
      if (fits(def.defaultPoint))
        break;
      const KnobSpec *spec = nullptr;
      for (const KnobSpec &s : def.knobs)
        if (s.name == k)
          spec = &s;
      if (def.defaultPoint[k] / 2 >= spec->minValue)
        def.defaultPoint[k] /= 2;
    }
}

GpuFootprint maxOf(std::initializer_list<GpuFootprint> kernels) {
  GpuFootprint m{1, 0};
  for (const GpuFootprint &k : kernels) {
    m.threads = std::max(m.threads, k.threads);
    m.sharedBytes = std::max(m.sharedBytes, k.sharedBytes);
  }
  return m;
}

} // namespace

bool gpu::efficientSpace(const std::string &form, int64_t valueHeadDim,
                         GpuSpaceDef &out) {
  // Threads span the value dim; a symbolic one is rejected by the
  // lowering (it must be static on GPUs), 64 stands in for it here.
  const int64_t dv = valueHeadDim > 0 ? valueHeadDim : 64;
  const std::string dvText = "Dv (" + std::to_string(dv) + ")";
  out = GpuSpaceDef();
  out.form = form;
  if (form == "associative") {
    out.knobs = {
        {"feature_block", 1, 64, kFeatureBlocks,
         "features per thread block of the state phi_k^T V (a thread per "
         "(value column, feature))"},
        {"key_block", 1, 1024, {16, 32, 64, 128},
         "keys per shared-memory tile of phi_k and V while the state "
         "accumulates (also the inner level of its two-level sum)"},
        {"block_rows", 1, 1024, kRows,
         "query rows per thread block of the readout (a thread per (value "
         "column, row))"},
        {"feature_tile", 1, 1024, kTiles,
         "features per shared-memory tile of the state and of phi_q in the "
         "readout"},
    };
    out.defaultPoint = {{"feature_block", 8},
                        {"key_block", 32},
                        {"block_rows", 16},
                        {"feature_tile", 16}};
    out.rules = {"feature_block * " + dvText + " <= threads per block",
                 "block_rows * " + dvText + " <= threads per block"};
    out.footprint = [dv](const SchedulePoint &p) {
      int64_t fb = p.at("feature_block"), kb = p.at("key_block"),
              qr = p.at("block_rows"), ft = p.at("feature_tile");
      return maxOf({{dv * fb, 4 * (dv * fb + (fb + dv) * kb)},
                    {64, 0},
                    {dv * qr, 4 * (qr * dv + ft * dv + ft * qr + qr)}});
    };
    fitDefault(out, {"block_rows", "feature_block", "feature_tile",
                     "key_block"});
    return true;
  }
  if (form == "chunked_scan") {
    out.knobs = {
        {"chunk", 1, 1024, kChunks,
         "rows per chunk: the intra-chunk part is quadratic in it; the "
         "chunk's values (chunk x Dv) are staged in shared memory"},
        {"feature_block", 1, 64, kFeatureBlocks,
         "features per thread block of the chunk state increments (a thread "
         "per (value column, feature))"},
        {"block_rows", 1, 1024, kRows,
         "rows of one chunk per thread block of the readout (a thread per "
         "(value column, row))"},
    };
    out.defaultPoint = {
        {"chunk", 64}, {"feature_block", 8}, {"block_rows", 16}};
    out.rules = {"chunk % block_rows == 0",
                 "feature_block * " + dvText + " <= threads per block",
                 "block_rows * " + dvText + " <= threads per block"};
    out.check = [](const SchedulePoint &p) {
      return checkMultiple(p, "chunk", "block_rows");
    };
    out.footprint = [dv](const SchedulePoint &p) {
      int64_t c = p.at("chunk"), fb = p.at("feature_block"),
              qr = p.at("block_rows");
      return maxOf({{dv * fb, 4 * (dv * fb + (fb + dv) * c)},
                    {dv * qr, 4 * (c * dv + c * qr + qr)}});
    };
    fitDefault(out, {"block_rows", "feature_block", "chunk"});
    return true;
  }
  if (form == "fft_toeplitz") {
    out.knobs = {
        {"block_rows", 1, 1024, kRows,
         "query rows per thread block of the direct Toeplitz sum (a thread "
         "per (value column, row))"},
        {"key_tile", 1, 1024, kTiles,
         "keys per shared-memory tile of weighted scores and values"},
    };
    out.defaultPoint = {{"block_rows", 16}, {"key_tile", 32}};
    out.rules = {"block_rows * " + dvText + " <= threads per block"};
    out.footprint = [dv](const SchedulePoint &p) {
      int64_t qr = p.at("block_rows"), kt = p.at("key_tile");
      return GpuFootprint{
          dv * qr, 4 * (qr * (dv + 1) + kt * qr + kt * (dv + 1))};
    };
    fitDefault(out, {"block_rows", "key_tile"});
    return true;
  }
  if (form == "pack_unpack") {
    out.knobs = {
        {"pack_rows", 1, 64, kFeatureBlocks,
         "memory rows per thread block of the pack (a thread per (value "
         "column, memory row))"},
        {"key_tile", 1, 1024, kTiles,
         "keys per shared-memory tile of pack probabilities and values"},
        {"block_rows", 1, 1024, kRows,
         "query rows per thread block of the unpack (a thread per (value "
         "column, row))"},
        {"pack_tile", 1, 1024, {4, 8, 16, 32},
         "packed rows per shared-memory tile of the unpack"},
    };
    out.defaultPoint = {{"pack_rows", 8},
                        {"key_tile", 32},
                        {"block_rows", 16},
                        {"pack_tile", 8}};
    out.rules = {"pack_rows * " + dvText + " <= threads per block",
                 "block_rows * " + dvText + " <= threads per block"};
    out.footprint = [dv](const SchedulePoint &p) {
      int64_t lr = p.at("pack_rows"), kt = p.at("key_tile"),
              qr = p.at("block_rows"), pt = p.at("pack_tile");
      return maxOf({{dv * lr, 4 * (lr * dv + kt * dv + kt * lr)},
                    {dv * qr, 4 * (qr * dv + pt * dv + pt * qr)}});
    };
    fitDefault(out, {"block_rows", "pack_rows", "key_tile", "pack_tile"});
    return true;
  }
  if (form == "luna_scan") {
    out.knobs = {
        {"chunk", 1, 1024, kChunks,
         "rows per chunk: the intra-chunk part is quadratic in it; the "
         "chunk's values (chunk x D) are staged in shared memory"},
        {"pack_rows", 1, 64, kFeatureBlocks,
         "memory rows per thread block of the chunk states (a thread per "
         "(value column, memory row))"},
        {"block_rows", 1, 1024, kRows,
         "rows of one chunk per thread block of the output (a thread per "
         "(value column, row))"},
    };
    out.defaultPoint = {{"chunk", 32}, {"pack_rows", 8}, {"block_rows", 16}};
    out.rules = {"chunk % block_rows == 0",
                 "pack_rows * " + dvText + " <= threads per block",
                 "block_rows * " + dvText + " <= threads per block"};
    out.check = [](const SchedulePoint &p) {
      return checkMultiple(p, "chunk", "block_rows");
    };
    out.footprint = [dv](const SchedulePoint &p) {
      int64_t c = p.at("chunk"), lr = p.at("pack_rows"),
              qr = p.at("block_rows");
      return maxOf({{dv * lr, 4 * (dv * lr + (lr + dv) * c)},
                    {dv * qr, 4 * c * dv}});
    };
    fitDefault(out, {"block_rows", "pack_rows", "chunk"});
    return true;
  }
  if (form == "ema") {
    out.knobs = {
        {"chunk", 1, 1024, kChunks,
         "time steps per chunk of the scan: the direct Toeplitz part is "
         "quadratic in it"},
        {"channel_block", 1, 1024, {8, 16, 32, 64},
         "channels per thread block (a thread per (channel, time step))"},
        {"block_steps", 1, 1024, {4, 8, 16, 32},
         "time steps of one chunk per thread block"},
    };
    out.defaultPoint = {
        {"chunk", 32}, {"channel_block", 32}, {"block_steps", 16}};
    out.rules = {"chunk % block_steps == 0",
                 "channel_block * block_steps <= threads per block"};
    out.check = [](const SchedulePoint &p) {
      return checkMultiple(p, "chunk", "block_steps");
    };
    out.footprint = [](const SchedulePoint &p) {
      int64_t c = p.at("chunk"), cb = p.at("channel_block"),
              st = p.at("block_steps");
      // The chunk's inputs and the kernel K[c, 0..chunk] of the block's
      // channels.
      return GpuFootprint{cb * st, 4 * cb * (2 * c + 1)};
    };
    return true;
  }
  return false;
}
