//===- BlockPipeline.cpp - block kernels (architecture ops) in Halide -----===//
//
// Three phases: analyze() checks the op list and decides which values are
// stored (BlockPipeline.h); define() builds one Func per op; schedule()
// gives every stored value the GEMM schedule (when a linear is inlined into
// it) or the row schedule.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/Guarded.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

namespace {

[[noreturn]] void fail(const std::string &message) {
  throw CompileError(message);
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t n = 0; n < shape.size(); ++n)
    s += (n ? ", " : "") + std::to_string(shape[n]);
  return s + "]";
}

/// A C identifier made of `name` (Func and parameter names).
std::string identifier(const std::string &name) {
  std::string s;
  for (char c : name)
    s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "_" + s;
  return s;
}

/// A float64 constant.
Expr f64(double v) { return Internal::make_const(Float(64), v); }

int64_t product(const std::vector<int64_t> &v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t n = from; n < to; ++n)
    p *= v[n];
  return p;
}

/// Horner evaluation of `coeffs` (highest degree first) at `t`.
Expr horner(const std::vector<float> &coeffs, Expr t) {
  Expr p = coeffs[0];
  for (size_t n = 1; n < coeffs.size(); ++n)
    p = p * t + coeffs[n];
  return p;
}

/// erf(x) for float32, vectorizable (Halide 14 has no erf).  |x| < 0.75:
/// x P(x^2) with P of degree 6 (Chebyshev fit of erf(sqrt(z))/sqrt(z),
/// relative error 1e-9); 0.75 <= |x| < 3.92: 1 - Q(|x| - 2.335) with Q of
/// degree 14 (Chebyshev fit of erfc, error 2e-8); beyond, +-1 (1 - erf(3.92)
/// is below half an ulp of 1).  Measured max abs error 1.1e-7 in float
/// (BlockPipelineTest checks < 2e-7 against std::erf).
} // namespace

Expr attn::halide::accurateErf(Expr x) {
  static const std::vector<float> small = {
      9.470462100580335e-05f, -0.0008356928010471165f,
      0.005216789431869984f,  -0.02686477266252041f,
      0.1128377839922905f,    -0.37612637877464294f,
      1.128379225730896f};
  static const std::vector<float> large = {
      -1.5422972410306102e-06f, 2.5342421849927632e-06f,
      1.880910713225603e-05f,   -5.4439598898170516e-05f,
      -3.159378684358671e-05f,  0.00037624576361849904f,
      -0.0007265949388965964f,  6.843379378551617e-05f,
      0.003124105278402567f,    -0.009097715839743614f,
      0.014878662303090096f,    -0.015971556305885315f,
      0.011294657364487648f,    -0.004836953245103359f,
      0.0009593350114300847f};
  Expr ax = abs(x);
  Expr z = ax * ax;
  Expr nearZero = ax * horner(small, z);
  Expr body = 1.0f - horner(large, ax - 2.3350000381469727f);
  Expr y = select(ax < 0.75f, nearZero, select(ax < 3.92f, body, 1.0f));
  return select(x < 0.0f, -y, y);
}

namespace {

/// The value ids an op reads and the attributes it must have.
const std::set<std::string> &knownOps() {
  static const std::set<std::string> ops = {
      "linear", "layernorm",   "rmsnorm",     "gelu",  "relu",
      "silu",   "add",         "split_heads", "merge_heads",
      "slice",  "concat",      "conv1d",      "conv2d", "pool"};
  return ops;
}

/// Ops that read each element of their inputs many times: their inputs
/// are stored, never inlined.
bool readsInputsRepeatedly(const std::string &op) {
  return op == "linear" || op == "layernorm" || op == "rmsnorm" ||
         op == "conv1d" || op == "conv2d" || op == "pool";
}

/// Ops a GEMM's result may flow through, inlined, to the stage storing it.
bool isEpilogue(const std::string &op) {
  return op == "add" || op == "gelu" || op == "relu" || op == "silu" ||
         op == "split_heads";
}

/// The most terms a convolution or pooling window may have (its sum is
/// unrolled into one expression).
constexpr int64_t kMaxWindowTerms = 64;

} // namespace

//===----------------------------------------------------------------------===//
// Knobs
//===----------------------------------------------------------------------===//

const std::vector<BlockKnob> &attn::halide::blockKnobs() {
  static const std::vector<BlockKnob> knobs = {
      {"vector_width", 1, 64, "float lanes per vector"},
      {"gemm_col_vectors", 1, 8,
       "vectors per row of a GEMM register block (a column panel is "
       "gemm_col_vectors * vector_width output columns)"},
      {"gemm_rows", 1, 32, "rows per GEMM register block"},
      {"gemm_min_tasks", 1, 1024,
       "parallel tasks per GEMM stage: rows are split into several tasks "
       "when the column panels are fewer"},
      {"parallel", 0, 1, "run the outer loops of every stage on threads"},
  };
  return knobs;
}

std::string attn::halide::resolveBlockKnobs(
    const BlockKernelDesc &desc, const TargetInfo &target,
    std::map<std::string, int64_t> &knobs) {
  const int64_t vw = target.vectorLanes, regs = target.vectorRegisters;
  // The column extent of the first GEMM's stored result: the head dim when
  // the kernel splits heads, else the linear's output features.
  int64_t columns = -1;
  for (const BlockOpDesc &op : desc.ops)
    if (op.op == "linear" && !op.shape.empty() && columns < 0)
      columns = op.shape.back();
  for (const BlockOpDesc &op : desc.ops)
    if (op.op == "split_heads" && !op.shape.empty())
      columns = op.shape.back();
  // About three quarters of the registers hold accumulators; prefer a
  // panel that divides the columns (no overlapping last panel).
  int64_t budget = std::max<int64_t>(1, regs * 3 / 4);
  int64_t cv = 3;
  for (int64_t c : {3, 4, 2, 1})
    if (columns > 0 && columns % (c * vw) == 0 && c <= budget) {
      cv = c;
      break;
    }
  cv = std::min(cv, budget);
  int64_t rows = std::clamp<int64_t>(budget / cv, 1, 32);
  knobs = {{"vector_width", vw},
           {"gemm_col_vectors", cv},
           {"gemm_rows", rows},
           {"gemm_min_tasks", 4},
           {"parallel", 1}};
  for (const auto &[name, value] : desc.schedule) {
    auto it = std::find_if(blockKnobs().begin(), blockKnobs().end(),
                           [&](const BlockKnob &k) { return k.name == name; });
    if (it == blockKnobs().end()) {
      std::string known;
      for (const BlockKnob &k : blockKnobs())
        known += (known.empty() ? "" : ", ") + k.name;
      return "unknown schedule knob '" + name +
             "' for a block kernel (known: " + known + ")";
    }
    if (value < it->minValue || value > it->maxValue)
      return "schedule knob '" + name + "' = " + std::to_string(value) +
             " is outside [" + std::to_string(it->minValue) + ", " +
             std::to_string(it->maxValue) + "]";
    knobs[name] = value;
  }
  int64_t c = knobs["gemm_col_vectors"], r = knobs["gemm_rows"];
  if (c * r + c + 1 > regs)
    return "gemm_col_vectors * gemm_rows + gemm_col_vectors + 1 = " +
           std::to_string(c * r + c + 1) + " exceeds the " +
           std::to_string(regs) +
           " vector registers of the target (accumulators, a row of "
           "weights and a broadcast)";
  return "";
}

//===----------------------------------------------------------------------===//
// The pipeline
//===----------------------------------------------------------------------===//

struct BlockPipeline::Impl {
  Impl(const BlockKernelDesc &desc, const TargetInfo &target,
       std::map<std::string, int64_t> knobs)
      : desc(desc), target(target), knobs(std::move(knobs)) {}

  /// One value of the kernel: an argument or an op's result.
  struct Value {
    std::vector<int64_t> shape;
    bool isInt = false;
    /// The op producing it (-1: an input argument).
    int producer = -1;
    std::vector<int> consumers;
    /// Inputs: the parameter; others: the Func.
    bool isParam = false;
    ImageParam param;
    Func func;
    /// Stored (an output, or computed at the root); else inlined.
    bool stored = false;
    /// A linear's result is inlined into it (or it is one).
    bool hasGemm = false;
    /// A split_heads result is inlined into it (or it is one).
    bool hasSplitHeads = false;
    /// For an inlined value: the stored value it is inlined into.
    int owner = -1;
  };

  /// A linear op's reduction.
  struct Gemm {
    int op = -1, result = -1;
    std::string mode;
    Func acc;
    RDom rk;
    /// Transposed weight panels: w (mul, adder) or shift and sign.
    std::vector<Func> packed;
    /// Per packed panel: its rows as read from the weight (the staging
    /// tile of the transposition).
    std::vector<Func> packRows;
    /// Shift mode: the fixed-point activations (stored).
    Func xq;
  };

  /// A norm's row statistics.
  struct NormStats {
    int result = -1;
    /// Vector partial sums over the row (update definitions).
    std::vector<Func> partial;
    /// Per-row scalars (mean, reciprocal std).
    std::vector<Func> perRow;
  };

  const BlockKernelDesc &desc;
  TargetInfo target;
  std::map<std::string, int64_t> knobs;
  int vw = 16;
  std::map<int, Value> values;
  std::vector<Var> vars;
  std::vector<ImageParam> params;
  std::vector<Func> outputs;
  std::vector<Gemm> gemms;
  std::vector<NormStats> norms;
  /// Small transposed copies (convolution weights), computed at the root.
  std::vector<Func> smallRoots;
  /// Stored values whose row loop norms' statistics are computed at.
  std::map<int, Var> rowLoop;
  std::vector<Func> algorithmOrder;
  std::vector<std::string> scheduleLog;

  void analyze();
  void define();
  void schedule();

  /// Element `idx` (Halide order) of value `id`, as float (or int32).
  Expr at(int id, std::vector<Expr> idx) const;
  const std::vector<int64_t> &shapeOf(int id) const {
    return values.at(id).shape;
  }
  std::string nameOf(int id) const;
  std::vector<Expr> pureArgs(size_t rank, size_t from = 0) const {
    return std::vector<Expr>(vars.begin() + from, vars.begin() + rank);
  }

  void defineLinear(int n);
  void defineNorm(int n);
  void defineConv1d(int n);
  void defineGrid(int n);
  /// The op's defining expression over vars (every op but linear/norms).
  Expr defineSimple(int n, std::vector<int64_t> &shape);

  void scheduleGemmStage(int id);
  void scheduleRowStage(int id, Func stage, const std::vector<int64_t> &shape);
  std::string opLabel(int n) const {
    return "op " + std::to_string(n) + " (" + desc.ops[n].op + ")";
  }
};

std::string BlockPipeline::Impl::nameOf(int id) const {
  if (desc.isArg(id))
    return identifier(desc.args[id].name);
  return "t" + std::to_string(id) + "_" + desc.ops[values.at(id).producer].op;
}

Expr BlockPipeline::Impl::at(int id, std::vector<Expr> idx) const {
  const Value &v = values.at(id);
  if (v.isParam) {
    Expr e = v.param(idx);
    return v.isInt ? cast<int32_t>(e) : cast<float>(e);
  }
  Expr e = v.func(idx);
  return v.isInt ? cast<int32_t>(e) : cast<float>(e);
}

//===----------------------------------------------------------------------===//
// Analysis: ids, consumers, what is stored
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::analyze() {
  vw = int(knobs.at("vector_width"));
  for (int n = 0; n < 8; ++n)
    vars.push_back(Var("v" + std::to_string(n)));
  bool seenOutput = false;
  for (int a = 0; a < desc.numArgs(); ++a) {
    const TensorArg &arg = desc.args[a];
    if (arg.isOutput) {
      seenOutput = true;
    } else if (seenOutput) {
      fail("argument '" + arg.name + "': inputs must precede outputs");
    }
    if (arg.shape.empty() || arg.shape.size() > vars.size())
      fail("argument '" + arg.name + "': rank " +
           std::to_string(arg.shape.size()) + " is not in [1, 8]");
    for (int64_t d : arg.shape)
      if (d <= 0 || d > std::numeric_limits<int32_t>::max())
        fail("argument '" + arg.name + "': shape " + shapeText(arg.shape) +
             " must be static, with extents in [1, 2^31 - 1]");
    Value v;
    v.shape = arg.shape;
    v.isInt = arg.dtype == "i32";
    if (!arg.isOutput) {
      v.isParam = true;
      v.param = ImageParam(halideType(arg.dtype), int(arg.shape.size()),
                           identifier(arg.name));
      for (size_t d = 0; d < arg.shape.size(); ++d)
        v.param.dim(int(arg.shape.size() - 1 - d))
            .set_min(0)
            .set_extent(int(arg.shape[d]));
      params.push_back(v.param);
    }
    values[a] = v;
  }
  if (!seenOutput)
    fail("block kernel '" + desc.name + "' has no output argument");

  // Ids and consumers.
  std::set<int> written;
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    if (!knownOps().count(op.op))
      fail(opLabel(n) + ": unsupported block op '" + op.op + "'");
    for (size_t p = 0; p < op.inputs.size(); ++p) {
      int in = op.inputs[p];
      auto it = values.find(in);
      bool defined = it != values.end() &&
                     (it->second.isParam || written.count(in));
      if (!defined)
        fail(opLabel(n) + ": input %" + std::to_string(in) +
             " is not defined before it");
      it->second.consumers.push_back(n);
      bool intAllowed = op.op == "linear" && op.mode == "shift" &&
                        (p == 1 || p == 2);
      if (it->second.isInt && !intAllowed)
        fail(opLabel(n) + ": input %" + std::to_string(in) +
             " must be a float tensor");
    }
    int res = op.result;
    if (res < 0 || (desc.isArg(res) && !desc.args[res].isOutput))
      fail(opLabel(n) + ": result %" + std::to_string(res) +
           " must be an output argument or a temporary");
    if (written.count(res))
      fail(opLabel(n) + ": value %" + std::to_string(res) +
           " is written twice");
    written.insert(res);
    if (op.shape.empty() || op.shape.size() > vars.size())
      fail(opLabel(n) + ": result rank " + std::to_string(op.shape.size()) +
           " is not in [1, 8]");
    for (int64_t d : op.shape)
      if (d <= 0 || d > std::numeric_limits<int32_t>::max())
        fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
             " must have extents in [1, 2^31 - 1]");
    if (desc.isArg(res) && desc.args[res].shape != op.shape)
      fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
           " differs from output '" + desc.args[res].name + "' " +
           shapeText(desc.args[res].shape));
    Value &v = values[res];
    v.producer = n;
    v.shape = op.shape;
    v.stored = desc.isArg(res);
  }
  for (int a = 0; a < desc.numArgs(); ++a)
    if (desc.args[a].isOutput && !written.count(a))
      fail("output '" + desc.args[a].name + "' is never written");

  // What is stored: outputs, values with several consumers, inputs of ops
  // that read repeatedly (but a merge_heads folds into a linear's loads),
  // and a GEMM's result when what follows is no epilogue.
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    Value &res = values[op.result];
    res.hasGemm = op.op == "linear";
    res.hasSplitHeads = op.op == "split_heads";
    for (size_t p = 0; p < op.inputs.size(); ++p) {
      Value &in = values[op.inputs[p]];
      if (in.isParam)
        continue;
      bool foldedMerge = op.op == "linear" && p == 0 && op.mode != "shift" &&
                         desc.ops[in.producer].op == "merge_heads";
      if (in.consumers.size() > 1 ||
          (readsInputsRepeatedly(op.op) && !foldedMerge) ||
          (in.hasGemm && !isEpilogue(op.op)))
        in.stored = true;
      if (!in.stored) {
        res.hasGemm |= in.hasGemm;
        res.hasSplitHeads |= in.hasSplitHeads;
      }
    }
  }
  for (int n = int(desc.ops.size()) - 1; n >= 0; --n) {
    for (int in : desc.ops[n].inputs) {
      Value &v = values[in];
      if (v.isParam || v.stored)
        continue;
      const Value &consumer = values[desc.ops[n].result];
      v.owner = consumer.stored ? desc.ops[n].result : consumer.owner;
    }
  }
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::define() {
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    Value &res = values[op.result];
    res.func = Func(nameOf(op.result));
    if (op.op == "linear") {
      defineLinear(n);
    } else if (op.op == "layernorm" || op.op == "rmsnorm") {
      defineNorm(n);
    } else if (op.op == "conv1d") {
      defineConv1d(n);
    } else if (op.op == "conv2d" || op.op == "pool") {
      defineGrid(n);
    } else {
      std::vector<int64_t> shape;
      Expr e = defineSimple(n, shape);
      if (shape != op.shape)
        fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
             " does not match the shape " + shapeText(shape) +
             " its inputs give");
      if (desc.isArg(op.result))
        e = cast(halideType(desc.args[op.result].dtype), e);
      res.func(pureArgs(shape.size())) = e;
    }
    algorithmOrder.push_back(res.func);
  }
  for (int a = 0; a < desc.numArgs(); ++a)
    if (desc.args[a].isOutput) {
      Func f = values[a].func;
      const std::vector<int64_t> &shape = desc.args[a].shape;
      for (size_t d = 0; d < shape.size(); ++d)
        f.output_buffer()
            .dim(int(shape.size() - 1 - d))
            .set_min(0)
            .set_extent(int(shape[d]));
      outputs.push_back(f);
    }
}

void BlockPipeline::Impl::defineLinear(int n) {
  const BlockOpDesc &op = desc.ops[n];
  std::string mode = op.mode.empty() ? "mul" : op.mode;
  bool shift = mode == "shift";
  if (mode != "mul" && mode != "adder" && !shift)
    fail(opLabel(n) + ": unknown mode '" + op.mode +
         "' (expected mul, adder or shift)");
  size_t weights = shift ? 2 : 1;
  if (op.inputs.size() != 1 + weights && op.inputs.size() != 2 + weights)
    fail(opLabel(n) + ": mode " + mode + " takes " +
         std::to_string(1 + weights) + " or " + std::to_string(2 + weights) +
         " inputs, got " + std::to_string(op.inputs.size()));
  int x = op.inputs[0], w = op.inputs[1];
  const std::vector<int64_t> &xs = shapeOf(x), &ws = shapeOf(w);
  int64_t K = xs.back();
  if (ws.size() != 2 || ws[1] != K)
    fail(opLabel(n) + ": weight shape " + shapeText(ws) + " is not [F, " +
         std::to_string(K) + "] for input " + shapeText(xs));
  int64_t F = ws[0];
  if (shift) {
    int sign = op.inputs[2];
    if (shapeOf(sign) != ws)
      fail(opLabel(n) + ": sign shape " + shapeText(shapeOf(sign)) +
           " differs from shift shape " + shapeText(ws));
    if (!values[w].isInt || !values[sign].isInt)
      fail(opLabel(n) + ": shift and sign must be i32 tensors");
  } else if (values[w].isInt) {
    fail(opLabel(n) + ": the weight must be a float tensor");
  }
  int bias = op.inputs.size() == 2 + weights ? op.inputs.back() : -1;
  if (bias >= 0 && shapeOf(bias) != std::vector<int64_t>{F})
    fail(opLabel(n) + ": bias shape " + shapeText(shapeOf(bias)) +
         " is not [" + std::to_string(F) + "]");
  std::vector<int64_t> shape(xs.begin(), xs.end() - 1);
  shape.push_back(F);
  if (shape != op.shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " does not match " + shapeText(shape) + " (input " +
         shapeText(xs) + ", weight " + shapeText(ws) + ")");

  Value &res = values[op.result];
  std::string name = res.func.name();
  size_t rank = shape.size();
  std::vector<Expr> pure = pureArgs(rank), rows = pureArgs(rank, 1);
  Var f = vars[0], k = vars[1];
  Gemm g;
  g.op = n;
  g.result = op.result;
  g.mode = mode;
  g.acc = Func(name + "_acc");

  // The activation at the reduction index, and the weight panel's index.
  // A merge_heads folds in: k = h * D + d over a 2-D domain.
  Expr xk, kIndex;
  const Value &xv = values[x];
  if (!xv.isParam && !xv.stored &&
      desc.ops[xv.producer].op == "merge_heads" && !shift) {
    int a = desc.ops[xv.producer].inputs[0];
    const std::vector<int64_t> &as = shapeOf(a);
    if (as.size() != 4 || rank != 3)
      fail(opLabel(n) + ": merge_heads input must be [B, H, N, D]");
    g.rk = RDom(0, int(as[3]), 0, int(as[1]), name + "_rk");
    xk = at(a, {g.rk.x, rows[0], g.rk.y, rows[1]});
    kIndex = g.rk.y * int(as[3]) + g.rk.x;
  } else {
    g.rk = RDom(0, int(K), name + "_rk");
    kIndex = g.rk.x;
    std::vector<Expr> idx = {g.rk.x};
    idx.insert(idx.end(), rows.begin(), rows.end());
    if (shift) {
      // xq = round_half_even(x * 2^16) as int32, clamped.
      g.xq = Func(name + "_xq");
      Expr scaled = round(cast<double>(at(x, pure)) * f64(65536.0));
      g.xq(pure) = cast<int32_t>(
          clamp(scaled, f64(-2147483648.0), f64(2147483647.0)));
      algorithmOrder.push_back(g.xq);
      xk = g.xq(idx);
    } else {
      xk = at(x, idx);
    }
  }

  // A weight [F, K] transposed (f innermost) for the panels: rows of it
  // are read contiguously (`_rows`, transposed in tiles by the schedule).
  auto pack = [&](int weight, const std::string &suffix,
                  std::function<Expr(Expr)> fn) {
    Func rows(name + suffix + "_rows"), t(name + suffix);
    rows(k, f) = at(weight, {k, f});
    t(f, k) = fn(rows(k, f));
    g.packRows.push_back(rows);
    g.packed.push_back(t);
    return t;
  };
  Expr biasAt = bias >= 0 ? at(bias, {f}) : Expr(0.0f);
  Expr value;
  if (shift) {
    Func shT = pack(w, "_shift_t", [](Expr e) { return clamp(-e, 0, 31); });
    Func sgT = pack(op.inputs[2], "_sign_t", [](Expr e) { return e; });
    Expr term = cast<int64_t>(xk >> cast<uint32_t>(shT(f, kIndex)));
    Expr sg = sgT(f, kIndex);
    g.acc(pure) = cast<int64_t>(0);
    g.acc(pure) += select(sg > 0, term, sg < 0, -term, cast<int64_t>(0));
    value = cast<float>(cast<double>(g.acc(pure)) * f64(1.0 / 65536.0) +
                        cast<double>(biasAt));
  } else {
    Func wT = pack(w, "_w_t", [](Expr e) { return e; });
    g.acc(pure) = 0.0f;
    if (mode == "mul") {
      g.acc(pure) += xk * wT(f, kIndex);
      value = g.acc(pure) + biasAt;
    } else {
      g.acc(pure) += abs(xk - wT(f, kIndex));
      value = biasAt - g.acc(pure);
    }
  }
  for (size_t q = 0; q < g.packed.size(); ++q) {
    algorithmOrder.push_back(g.packRows[q]);
    algorithmOrder.push_back(g.packed[q]);
  }
  algorithmOrder.push_back(g.acc);
  if (desc.isArg(op.result))
    value = cast(halideType(desc.args[op.result].dtype), value);
  res.func(pure) = value;
  gemms.push_back(g);
}

void BlockPipeline::Impl::defineNorm(int n) {
  const BlockOpDesc &op = desc.ops[n];
  bool layer = op.op == "layernorm";
  size_t arity = layer ? 3 : 2;
  if (op.inputs.size() != arity)
    fail(opLabel(n) + ": takes " + std::to_string(arity) + " inputs, got " +
         std::to_string(op.inputs.size()));
  int x = op.inputs[0];
  const std::vector<int64_t> &xs = shapeOf(x);
  int64_t E = xs.back();
  for (size_t p = 1; p < arity; ++p)
    if (shapeOf(op.inputs[p]) != std::vector<int64_t>{E})
      fail(opLabel(n) + ": " + (p == 1 ? "gamma" : "beta") + " shape " +
           shapeText(shapeOf(op.inputs[p])) + " is not [" +
           std::to_string(E) + "]");
  if (xs != op.shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " differs from its input's " + shapeText(xs));
  if (op.eps < 0)
    fail(opLabel(n) + ": eps must not be negative");

  Value &res = values[op.result];
  std::string name = res.func.name();
  size_t rank = xs.size();
  std::vector<Expr> pure = pureArgs(rank), rows = pureArgs(rank, 1);
  Var l = vars[0];
  // Partial sums over the row in `lanes` vector lanes, then their sum.
  int lanes = int(std::min<int64_t>(vw, E));
  int chunks = int((E + lanes - 1) / lanes);
  RDom rj(0, chunks, name + "_rj");
  Expr e = l + lanes * rj.x;
  std::vector<Expr> idx = {min(e, int(E - 1))};
  idx.insert(idx.end(), rows.begin(), rows.end());
  Expr xe = at(x, idx);
  Expr inRow = e < int(E);
  std::vector<Expr> lane = {l};
  lane.insert(lane.end(), rows.begin(), rows.end());
  auto laneSum = [&](Func partial) {
    Expr s = 0.0f;
    for (int q = 0; q < lanes; ++q) {
      std::vector<Expr> at = {q};
      at.insert(at.end(), rows.begin(), rows.end());
      s = s + partial(at);
    }
    return s;
  };
  NormStats st;
  st.result = op.result;
  Func rstd(name + "_rstd");
  Expr center = 0.0f;
  Expr xAt = at(x, pure);
  if (layer) {
    Func psum(name + "_psum"), mean(name + "_mean");
    psum(lane) = 0.0f;
    psum(lane) += select(inRow, xe, 0.0f);
    mean(rows) = laneSum(psum) * float(1.0 / double(E));
    center = mean(rows);
    st.partial.push_back(psum);
    st.perRow.push_back(mean);
    algorithmOrder.push_back(psum);
    algorithmOrder.push_back(mean);
  }
  Func psq(name + "_psq");
  Expr dev = layer ? xe - center : xe;
  psq(lane) = 0.0f;
  psq(lane) += select(inRow, dev * dev, 0.0f);
  rstd(rows) =
      1.0f / sqrt(laneSum(psq) * float(1.0 / double(E)) + float(op.eps));
  st.partial.push_back(psq);
  st.perRow.push_back(rstd);
  algorithmOrder.push_back(psq);
  algorithmOrder.push_back(rstd);
  Expr y = (xAt - center) * rstd(rows) * at(op.inputs[1], {l});
  if (layer)
    y = y + at(op.inputs[2], {l});
  if (desc.isArg(op.result))
    y = cast(halideType(desc.args[op.result].dtype), y);
  res.func(pure) = y;
  norms.push_back(st);
}

Expr BlockPipeline::Impl::defineSimple(int n, std::vector<int64_t> &shape) {
  const BlockOpDesc &op = desc.ops[n];
  auto arity = [&](size_t count) {
    if (op.inputs.size() != count)
      fail(opLabel(n) + ": takes " + std::to_string(count) +
           " input(s), got " + std::to_string(op.inputs.size()));
  };
  if (op.inputs.empty())
    fail(opLabel(n) + ": has no input");
  int x = op.inputs[0];
  const std::vector<int64_t> &xs = shapeOf(x);
  size_t rank = xs.size();
  std::vector<Expr> pure = pureArgs(rank), rest = pureArgs(rank, 1);
  Expr v0 = vars[0];
  if (op.op == "gelu" || op.op == "relu" || op.op == "silu") {
    arity(1);
    shape = xs;
    Expr a = at(x, pure);
    if (op.op == "relu")
      return max(a, 0.0f);
    if (op.op == "gelu")
      return 0.5f * a * (1.0f + accurateErf(a * 0.70710678118654752f));
    // silu: x * sigmoid(x) with exp of -|x| only (no overflow).
    Expr e = accurateExp(-abs(a));
    return a * select(a >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));
  }
  if (op.op == "add") {
    arity(2);
    if (shapeOf(op.inputs[1]) != xs)
      fail(opLabel(n) + ": operand shapes " + shapeText(xs) + " and " +
           shapeText(shapeOf(op.inputs[1])) + " differ");
    shape = xs;
    return at(x, pure) + at(op.inputs[1], pure);
  }
  if (op.op == "split_heads") {
    arity(1);
    if (rank != 3 || op.heads <= 0 || xs[2] % op.heads != 0)
      fail(opLabel(n) + ": input " + shapeText(xs) +
           " is not [B, N, H*D] with heads = " + std::to_string(op.heads));
    int64_t D = xs[2] / op.heads;
    shape = {xs[0], op.heads, xs[1], D};
    return at(x, {vars[2] * int(D) + vars[0], vars[1], vars[3]});
  }
  if (op.op == "merge_heads") {
    arity(1);
    if (rank != 4)
      fail(opLabel(n) + ": input " + shapeText(xs) + " is not [B, H, N, D]");
    int D = int(xs[3]);
    shape = {xs[0], xs[2], xs[1] * xs[3]};
    return at(x, {v0 % D, vars[1], v0 / D, vars[2]});
  }
  if (op.op == "slice") {
    arity(1);
    if (op.offset < 0 || op.size <= 0 || op.offset + op.size > xs.back())
      fail(opLabel(n) + ": range [" + std::to_string(op.offset) + ", " +
           std::to_string(op.offset + op.size) + ") is outside the last " +
           "axis of " + shapeText(xs));
    shape = xs;
    shape.back() = op.size;
    std::vector<Expr> idx = pure;
    idx[0] = v0 + int(op.offset);
    return at(x, idx);
  }
  if (op.op == "concat") {
    arity(2);
    const std::vector<int64_t> &ys = shapeOf(op.inputs[1]);
    if (ys.size() != rank ||
        !std::equal(xs.begin(), xs.end() - 1, ys.begin()))
      fail(opLabel(n) + ": operands " + shapeText(xs) + " and " +
           shapeText(ys) + " differ outside the last axis");
    int64_t c1 = xs.back();
    shape = xs;
    shape.back() = c1 + ys.back();
    std::vector<Expr> first = pure, second = pure;
    first[0] = min(v0, int(c1 - 1));
    second[0] = max(v0 - int(c1), 0);
    return select(v0 < int(c1), at(x, first), at(op.inputs[1], second));
  }
  fail(opLabel(n) + ": unsupported block op '" + op.op + "'");
}

void BlockPipeline::Impl::defineConv1d(int n) {
  const BlockOpDesc &op = desc.ops[n];
  std::string mode = op.mode.empty() ? "mul" : op.mode;
  if (mode != "mul" && mode != "adder")
    fail(opLabel(n) + ": unknown mode '" + op.mode +
         "' (expected mul or adder)");
  if (op.padding != "same" && op.padding != "causal")
    fail(opLabel(n) + ": unknown padding '" + op.padding +
         "' (expected same or causal)");
  if (op.inputs.size() != 2 && op.inputs.size() != 3)
    fail(opLabel(n) + ": takes 2 or 3 inputs, got " +
         std::to_string(op.inputs.size()));
  const std::vector<int64_t> &xs = shapeOf(op.inputs[0]),
                             &ws = shapeOf(op.inputs[1]);
  if (xs.size() != 3)
    fail(opLabel(n) + ": input " + shapeText(xs) + " is not [B, N, C]");
  int64_t C = xs[2], N = xs[1];
  if (ws.size() != 2 || ws[0] != C)
    fail(opLabel(n) + ": weight " + shapeText(ws) + " is not [" +
         std::to_string(C) + ", K]");
  int64_t K = ws[1];
  if (op.window > 0 && op.window != K)
    fail(opLabel(n) + ": window " + std::to_string(op.window) +
         " differs from the weight's kernel size " + std::to_string(K));
  if (K > kMaxWindowTerms)
    fail(opLabel(n) + ": kernel size " + std::to_string(K) +
         " exceeds the supported " + std::to_string(kMaxWindowTerms));
  if (op.inputs.size() == 3 &&
      shapeOf(op.inputs[2]) != std::vector<int64_t>{C})
    fail(opLabel(n) + ": bias " + shapeText(shapeOf(op.inputs[2])) +
         " is not [" + std::to_string(C) + "]");
  if (op.shape != xs)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " differs from its input's " + shapeText(xs));
  Value &res = values[op.result];
  Var c = vars[0], t = vars[1], b = vars[2];
  Func wT(res.func.name() + "_w_t");
  wT(c, t) = at(op.inputs[1], {t, c});
  smallRoots.push_back(wT);
  algorithmOrder.push_back(wT);
  int64_t pad = op.padding == "same" ? (K - 1) / 2 : K - 1;
  Expr sum = op.inputs.size() == 3 ? at(op.inputs[2], {c}) : Expr(0.0f);
  for (int64_t k = 0; k < K; ++k) {
    Expr pos = t + int(k - pad);
    Expr xk = select(pos >= 0 && pos < int(N),
                     at(op.inputs[0], {c, clamp(pos, 0, int(N - 1)), b}),
                     0.0f);
    Expr w = wT(c, int(k));
    sum = sum + (mode == "mul" ? xk * w : -abs(xk - w));
  }
  if (desc.isArg(op.result))
    sum = cast(halideType(desc.args[op.result].dtype), sum);
  res.func(c, t, b) = sum;
}

void BlockPipeline::Impl::defineGrid(int n) {
  const BlockOpDesc &op = desc.ops[n];
  bool conv = op.op == "conv2d";
  const std::vector<int64_t> &xs = shapeOf(op.inputs[0]);
  if (conv && op.inputs.size() != 2 && op.inputs.size() != 3)
    fail(opLabel(n) + ": takes 2 or 3 inputs, got " +
         std::to_string(op.inputs.size()));
  if (!conv && op.inputs.size() != 1)
    fail(opLabel(n) + ": takes 1 input, got " +
         std::to_string(op.inputs.size()));
  if (xs.size() != 3)
    fail(opLabel(n) + ": input " + shapeText(xs) +
         " is not [B, Hh*Ww, C]");
  if (op.grid.size() != 2 || op.grid[0] <= 0 || op.grid[1] <= 0 ||
      op.grid[0] * op.grid[1] != xs[1])
    fail(opLabel(n) + ": grid " + shapeText(op.grid) +
         " does not cover the " + std::to_string(xs[1]) + " tokens of " +
         shapeText(xs));
  if (op.stride < 1)
    fail(opLabel(n) + ": stride must be at least 1");
  int64_t C = xs[2], Hh = op.grid[0], Ww = op.grid[1];
  int64_t k = op.window;
  bool adder = op.mode == "adder";
  if (conv) {
    if (op.mode != "" && op.mode != "mul" && !adder)
      fail(opLabel(n) + ": unknown mode '" + op.mode +
           "' (expected mul or adder)");
    const std::vector<int64_t> &ws = shapeOf(op.inputs[1]);
    if (ws.size() != 3 || ws[0] != C || ws[1] != ws[2] ||
        (k > 0 && ws[1] != k))
      fail(opLabel(n) + ": weight " + shapeText(ws) + " is not [" +
           std::to_string(C) + ", k, k]" +
           (k > 0 ? " with k = " + std::to_string(k) : ""));
    k = ws[1];
    if (op.inputs.size() == 3 &&
        shapeOf(op.inputs[2]) != std::vector<int64_t>{C})
      fail(opLabel(n) + ": bias " + shapeText(shapeOf(op.inputs[2])) +
           " is not [" + std::to_string(C) + "]");
  } else if (op.mode != "avg" && op.mode != "max") {
    fail(opLabel(n) + ": unknown mode '" + op.mode + "' (expected avg or max)");
  }
  if (k < 1 || k * k > kMaxWindowTerms)
    fail(opLabel(n) + ": window " + std::to_string(k) + " is not in [1, " +
         std::to_string(int(std::sqrt(double(kMaxWindowTerms)))) + "]");
  int64_t pad = conv ? k / 2 : 0;
  int64_t Ho = (Hh + 2 * pad - k) / op.stride + 1,
          Wo = (Ww + 2 * pad - k) / op.stride + 1;
  if (Hh + 2 * pad < k || Ww + 2 * pad < k)
    fail(opLabel(n) + ": window " + std::to_string(k) +
         " is larger than the grid " + shapeText(op.grid));
  std::vector<int64_t> shape = {xs[0], Ho * Wo, C};
  if (op.shape != shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " does not match " + shapeText(shape));

  Value &res = values[op.result];
  Var c = vars[0], t = vars[1], b = vars[2];
  Expr oy = t / int(Wo), ox = t % int(Wo);
  Func wT;
  if (conv) {
    wT = Func(res.func.name() + "_w_t");
    wT(c, vars[1], vars[2]) = at(op.inputs[1], {vars[1], vars[2], c});
    smallRoots.push_back(wT);
    algorithmOrder.push_back(wT);
  }
  Expr acc = conv ? (op.inputs.size() == 3 ? at(op.inputs[2], {c})
                                           : Expr(0.0f))
                  : Expr();
  for (int64_t ky = 0; ky < k; ++ky)
    for (int64_t kx = 0; kx < k; ++kx) {
      Expr iy = oy * int(op.stride) + int(ky - pad);
      Expr ix = ox * int(op.stride) + int(kx - pad);
      Expr token = clamp(iy * int(Ww) + ix, 0, int(Hh * Ww - 1));
      Expr xv = at(op.inputs[0], {c, token, b});
      if (conv) {
        Expr inside = iy >= 0 && iy < int(Hh) && ix >= 0 && ix < int(Ww);
        Expr xz = select(inside, xv, 0.0f), w = wT(c, int(kx), int(ky));
        acc = adder ? acc - abs(xz - w) : acc + xz * w;
      } else if (!acc.defined()) {
        acc = xv;
      } else {
        acc = op.mode == "max" ? max(acc, xv) : acc + xv;
      }
    }
  if (!conv && op.mode == "avg")
    acc = acc * float(1.0 / double(k * k));
  if (desc.isArg(op.result))
    acc = cast(halideType(desc.args[op.result].dtype), acc);
  res.func(c, t, b) = acc;
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::schedule() {
  for (Func w : smallRoots)
    w.compute_root().vectorize(vars[0], vw, TailStrategy::GuardWithIf);
  if (!smallRoots.empty())
    scheduleLog.push_back("// convolution weights: transposed (channels "
                          "innermost) at the root");
  for (Gemm &g : gemms)
    if (g.xq.defined()) {
      std::vector<int64_t> shape = shapeOf(desc.ops[g.op].inputs[0]);
      g.xq.compute_root();
      scheduleRowStage(-1, g.xq, shape);
    }
  // Stored values in the order they are computed.
  for (const BlockOpDesc &op : desc.ops) {
    int id = op.result;
    Value &v = values[id];
    if (!v.stored)
      continue;
    if (!desc.isArg(id)) {
      v.func.compute_root();
      scheduleLog.push_back(v.func.name() + ".compute_root();");
    }
    if (v.hasGemm)
      scheduleGemmStage(id);
    else
      scheduleRowStage(id, v.func, v.shape);
  }
  // Norm statistics: per row of the stage they are inlined into (or of
  // the stored norm itself), else at the root.
  for (NormStats &st : norms) {
    const Value &v = values[st.result];
    int stage = v.stored ? st.result : v.owner;
    auto row = rowLoop.find(stage);
    bool perRow = stage >= 0 && row != rowLoop.end() && v.shape.size() > 1;
    for (Func p : st.partial) {
      if (perRow)
        p.compute_at(values[stage].func, row->second);
      else
        p.compute_root();
      // The lanes dim has the constant extent min(vector_width, E).
      p.vectorize(vars[0]);
      p.update().vectorize(vars[0]);
    }
    for (Func r : st.perRow) {
      if (perRow)
        r.compute_at(values[stage].func, row->second);
      else
        r.compute_root();
    }
    scheduleLog.push_back(
        "// " + v.func.name() + ": row statistics (vector partial sums) " +
        (perRow ? "per row of " + values[stage].func.name() : "at the root"));
  }
}

void BlockPipeline::Impl::scheduleRowStage(int id, Func stage,
                                           const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  int64_t cols = shape.back();
  int lanes = int(std::min<int64_t>(vw, cols));
  bool parallel = knobs.at("parallel") != 0;
  std::string line = stage.name() + ".vectorize(v0, " +
                     std::to_string(lanes) + ")";
  if (rank >= 2) {
    Var row = vars[1];
    for (size_t d = 2; d < rank; ++d) {
      Var fused("row" + std::to_string(d));
      stage.fuse(row, vars[d], fused);
      row = fused;
    }
    int64_t rows = product(shape, 0, rank - 1);
    int64_t tasks = std::min<int64_t>(rows, 8);
    if (!parallel || rows * cols < 4096)
      tasks = 1;
    if (tasks > 1) {
      Var task("task"), inner("row");
      int64_t per = (rows + tasks - 1) / tasks;
      stage.split(row, task, inner, int(per), TailStrategy::GuardWithIf)
          .parallel(task);
      row = inner;
      line += ".fuse(rows).split(rows, task, row, " + std::to_string(per) +
              ").parallel(task)";
    } else {
      line += ".fuse(rows)";
    }
    if (id >= 0)
      rowLoop[id] = row;
  }
  stage.vectorize(vars[0], lanes, TailStrategy::GuardWithIf);
  scheduleLog.push_back(line + ";");
}

void BlockPipeline::Impl::scheduleGemmStage(int id) {
  Value &sv = values[id];
  Func S = sv.func;
  const std::vector<int64_t> &shape = sv.shape;
  size_t rank = shape.size();
  int64_t cols = shape.back();
  int64_t rowsExtent = rank >= 2 ? shape[rank - 2] : 1;
  std::vector<Gemm *> mine;
  for (Gemm &g : gemms)
    if (g.result == id || values[g.result].owner == id)
      mine.push_back(&g);
  bool wide = false; // int64 accumulators take two registers per vector
  for (Gemm *g : mine)
    wide |= g->mode == "shift";

  int lanes = int(std::min<int64_t>(vw, cols));
  int64_t cv = std::min<int64_t>(knobs.at("gemm_col_vectors"),
                                 std::max<int64_t>(1, cols / lanes));
  if (cols % (cv * lanes) != 0)
    for (int64_t c = cv; c >= 1; --c)
      if (cols % (c * lanes) == 0) {
        cv = c;
        break;
      }
  int panel = int(cv * lanes);
  int64_t R = knobs.at("gemm_rows");
  if (wide)
    R = std::max<int64_t>(1, R / 2);
  R = std::min(R, rowsExtent);
  bool parallel = knobs.at("parallel") != 0;

  // The loop nest, innermost first: vector lanes, the panel's vectors and
  // the block's rows (unrolled), row blocks, batch dims, then the parallel
  // loop over column panels (and heads, and row tasks).
  Var co("co"), ci("ci"), cio("cio"), cii("cii"), ro("ro"), ri("ri"),
      rt("rt");
  S.split(vars[0], co, ci, panel, TailStrategy::ShiftInwards)
      .split(ci, cio, cii, lanes);
  std::vector<VarOrRVar> order = {cii, cio};
  std::vector<Var> colOuter, batch;
  for (size_t d = 2; d < rank; ++d)
    (sv.hasSplitHeads && rank == 4 && d == 2 ? colOuter : batch)
        .push_back(vars[d]);
  int64_t colTasks = (cols + panel - 1) / panel;
  if (sv.hasSplitHeads && rank == 4)
    colTasks *= shape[1];
  int64_t blocks = (rowsExtent + R - 1) / R;
  int64_t rowTasks = 1;
  int64_t minTasks = knobs.at("gemm_min_tasks");
  if (parallel && rank >= 2 && colTasks < minTasks)
    rowTasks = std::min(blocks, (minTasks + colTasks - 1) / colTasks);
  Var blockLoop = ro;
  if (rank >= 2) {
    S.split(vars[1], ro, ri, int(R), TailStrategy::ShiftInwards);
    order.push_back(ri);
    if (rowTasks > 1) {
      Var rb("rb");
      int64_t per = (blocks + rowTasks - 1) / rowTasks;
      rowTasks = (blocks + per - 1) / per;
      S.split(ro, rt, rb, int(per), TailStrategy::GuardWithIf);
      blockLoop = rb;
    }
    order.push_back(blockLoop);
  }
  for (Var b : batch)
    order.push_back(b);
  order.push_back(co);
  for (Var h : colOuter)
    order.push_back(h);
  if (rowTasks > 1)
    order.push_back(rt);
  S.reorder(order).vectorize(cii).unroll(cio);
  if (rank >= 2)
    S.unroll(ri);
  Var task = co;
  std::vector<Var> fuseInto = colOuter;
  if (rowTasks > 1)
    fuseInto.push_back(rt);
  for (size_t n = 0; n < fuseInto.size(); ++n) {
    Var fused("task" + std::to_string(n));
    S.fuse(task, fuseInto[n], fused);
    task = fused;
  }
  if (parallel)
    S.parallel(task);

  std::ostringstream os;
  os << S.name() << ".split(v0, co, ci, " << panel
     << ").split(ci, cio, cii, " << lanes << ")";
  if (rank >= 2)
    os << ".split(v1, ro, ri, " << R << ")";
  if (rowTasks > 1)
    os << ".split(ro, rt, rb, " << (blocks + rowTasks - 1) / rowTasks << ")";
  os << ".vectorize(cii).unroll(cio).unroll(ri)"
     << (parallel ? ".parallel(co" : ".serial(co")
     << (colOuter.empty() ? "" : " x heads")
     << (rowTasks > 1 ? " x rt" : "") << ");";
  scheduleLog.push_back(os.str());

  Var fo("fo"), fi("fi");
  for (Gemm *g : mine) {
    Func acc = g->acc;
    if (rank >= 2)
      acc.compute_at(S, blockLoop);
    else
      acc.compute_at(S, task);
    acc.split(vars[0], fo, fi, lanes).vectorize(fi).unroll(fo);
    std::vector<VarOrRVar> inner = {fi, fo};
    if (rank >= 2) {
      acc.unroll(vars[1]);
      inner.push_back(vars[1]);
    }
    for (int d = 0; d < g->rk.dimensions(); ++d)
      inner.push_back(g->rk[d]);
    acc.update()
        .split(vars[0], fo, fi, lanes)
        .reorder(inner)
        .vectorize(fi)
        .unroll(fo);
    if (rank >= 2)
      acc.update().unroll(vars[1]);
    // Transposition in lanes x vector_width tiles: each tile's weight rows
    // are loaded as dense vectors into a small buffer stored transposed,
    // then stored as panel vectors (2.3x faster than gathers, measured).
    int64_t K = values[desc.ops[g->op].inputs[1]].shape[1];
    for (size_t q = 0; q < g->packed.size(); ++q) {
      Func p = g->packed[q], rows = g->packRows[q];
      Var pf("pf"), pfi("pfi"), pk("pk"), pki("pki");
      p.compute_at(S, task).split(vars[0], pf, pfi, lanes);
      if (K >= vw) {
        p.split(vars[1], pk, pki, vw, TailStrategy::ShiftInwards)
            .reorder(pfi, pki, pf, pk)
            .vectorize(pfi)
            .unroll(pki);
        rows.compute_at(p, pf)
            .reorder_storage(vars[0], vars[1])
            .vectorize(vars[1], vw)
            .unroll(vars[0]);
      } else {
        p.vectorize(pfi);
      }
    }
    scheduleLog.push_back(
        acc.name() + ".compute_at(" + S.name() +
        ", ro).vectorize(v0, " + std::to_string(lanes) +
        ").unroll(v0 / lanes).unroll(v1); " + acc.name() +
        ".update().reorder(v0, v1, rk).vectorize(v0).unroll(v0 / lanes)"
        ".unroll(v1);  // register block " +
        std::to_string(panel) + " x " + std::to_string(R));
    scheduleLog.push_back("// " + g->packed[0].name() +
                          ": the weight panel, transposed (panel columns "
                          "innermost), computed per column panel");
  }
}

//===----------------------------------------------------------------------===//
// BlockPipeline
//===----------------------------------------------------------------------===//

BlockPipeline::BlockPipeline(const BlockKernelDesc &desc,
                             const TargetInfo &target,
                             std::map<std::string, int64_t> knobs)
    : impl(std::make_unique<Impl>(desc, target, std::move(knobs))) {}

BlockPipeline::~BlockPipeline() = default;

void BlockPipeline::build() {
  impl->analyze();
  impl->define();
  impl->schedule();
}

Pipeline BlockPipeline::pipeline() const { return Pipeline(impl->outputs); }

std::vector<Argument> BlockPipeline::arguments() const {
  std::vector<Argument> args;
  for (const ImageParam &p : impl->params)
    args.push_back(p);
  return args;
}

const std::vector<ImageParam> &BlockPipeline::inputs() const {
  return impl->params;
}

std::string BlockPipeline::describe() const {
  std::ostringstream os;
  os << "// Halide pipeline for block kernel '" << impl->desc.name
     << "' (target " << impl->target.halideTarget << ")\n";
  os << "// knobs:";
  for (const auto &[k, v] : impl->knobs)
    os << " " << k << "=" << v;
  os << "\nvoid generate() {\n";
  for (const Func &f : impl->algorithmOrder) {
    std::vector<Expr> args;
    for (const Var &a : f.args())
      args.push_back(a);
    printHalideDefinition(os, f.name(), args, f.values().as_vector());
    for (int u = 0; u < f.num_update_definitions(); ++u)
      printHalideDefinition(os, f.name(), f.update_args(u),
                            f.update_values(u).as_vector());
  }
  os << "}\n\nvoid schedule() {\n";
  for (const std::string &line : impl->scheduleLog)
    os << "  " << line << "\n";
  os << "}\n";
  return os.str();
}

//===----------------------------------------------------------------------===//
// BlockKernelJit
//===----------------------------------------------------------------------===//

BlockKernelJit::BlockKernelJit() = default;
BlockKernelJit::~BlockKernelJit() = default;

std::string BlockKernelJit::compile(const BlockKernelDesc &desc,
                                    const TargetInfo &target) {
  built.reset();
  if (std::string err = resolveBlockKnobs(desc, target, resolved);
      !err.empty())
    return err;
  return guarded([&] {
    auto p = std::make_unique<BlockPipeline>(desc, target, resolved);
    p->build();
    compiled = p->pipeline();
    jitTarget = Target(target.halideTarget);
    compiled.compile_jit(jitTarget);
    numInputs = int(p->inputs().size());
    built = std::move(p);
  });
}

std::string BlockKernelJit::run(std::vector<Buffer<>> &buffers) {
  if (!built)
    return "the kernel is not compiled";
  size_t numOutputs = compiled.outputs().size();
  if (buffers.size() != size_t(numInputs) + numOutputs)
    return "expected " + std::to_string(numInputs + numOutputs) +
           " buffers, got " + std::to_string(buffers.size());
  return guarded([&] {
    for (int n = 0; n < numInputs; ++n) {
      ImageParam input = built->inputs()[n];
      input.set(buffers[n]);
    }
    std::vector<Buffer<>> outs(buffers.begin() + numInputs, buffers.end());
    Realization r(outs);
    compiled.realize(r, jitTarget);
  });
}
