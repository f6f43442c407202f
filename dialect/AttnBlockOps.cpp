//===- AttnBlockOps.cpp - verifiers of the architecture block ops ---------===//
//
// Shape rules of docs/Architectures.md §2: every message names the operand
// and the expected shape.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

bool isF32(Value v) { return typeOf(v).getElementType().isF32(); }
bool isI32(Value v) { return typeOf(v).getElementType().isInteger(32); }

/// Checks that `v` has static shape `shape`; `what` names it.
LogicalResult expectShape(Operation *op, Value v, ArrayRef<int64_t> shape,
                          StringRef what) {
  if (typeOf(v).getShape() == shape)
    return success();
  auto diag = op->emitOpError() << what << " must have shape [";
  llvm::interleaveComma(shape, diag);
  diag << "], got " << v.getType();
  return failure();
}

/// The input's shape with the last axis replaced by `last`.
SmallVector<int64_t> withLast(Value v, int64_t last) {
  SmallVector<int64_t> shape(typeOf(v).getShape());
  shape.back() = last;
  return shape;
}

LogicalResult checkStaticF32(Operation *op) {
  for (Value v : op->getOperands())
    if (!typeOf(v).hasStaticShape())
      return op->emitOpError() << "needs static shapes, got " << v.getType();
  if (!typeOf(op->getResult(0)).hasStaticShape() || !isF32(op->getResult(0)))
    return op->emitOpError() << "result must be a static f32 tensor";
  if (typeOf(op->getOperand(0)).getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  return success();
}

} // namespace

LogicalResult LinearOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  StringRef mode = getMode();
  if (mode != "mul" && mode != "adder" && mode != "shift")
    return emitOpError() << "mode must be mul, adder or shift, got '" << mode
                         << "'";
  int64_t k = typeOf(getInput()).getShape().back();
  int64_t f = typeOf(getResult()).getShape().back();
  if (failed(expectShape(*this, getResult(), withLast(getInput(), f),
                         "result")))
    return failure();
  unsigned weights = mode == "shift" ? 2 : 1;
  auto params = getParams();
  if (params.size() != weights && params.size() != weights + 1)
    return emitOpError() << "mode '" << mode << "' takes "
                         << (mode == "shift" ? "[shift, sign, bias?]"
                                             : "[weight, bias?]")
                         << " parameters, got " << params.size();
  for (unsigned n = 0; n < weights; ++n) {
    if (failed(expectShape(*this, params[n], {f, k},
                           mode == "shift" ? (n ? "sign" : "shift")
                                           : "weight")))
      return failure();
    if (mode == "shift" ? !isI32(params[n]) : !isF32(params[n]))
      return emitOpError() << (mode == "shift" ? "shift weights must be i32"
                                               : "weight must be f32");
  }
  if (params.size() > weights &&
      (failed(expectShape(*this, params[weights], {f}, "bias")) ||
       !isF32(params[weights])))
    return failure();
  return success();
}

LogicalResult NormOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  StringRef kind = getKind();
  unsigned expected = kind == "layernorm" ? 2 : kind == "rmsnorm" ? 1 : 0;
  if (!expected)
    return emitOpError() << "kind must be layernorm or rmsnorm, got '" << kind
                         << "'";
  if (getParams().size() != expected)
    return emitOpError() << kind << " takes " << expected
                         << " parameter(s), got " << getParams().size();
  if (!(getEps().convertToDouble() > 0))
    return emitOpError() << "eps must be positive";
  int64_t e = typeOf(getInput()).getShape().back();
  for (Value p : getParams())
    if (failed(expectShape(*this, p, {e}, "a norm parameter")))
      return failure();
  return expectShape(*this, getResult(), typeOf(getInput()).getShape(),
                     "result");
}

LogicalResult ActOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  StringRef kind = getKind();
  if (kind != "gelu" && kind != "relu" && kind != "silu")
    return emitOpError() << "kind must be gelu, relu or silu, got '" << kind
                         << "'";
  return expectShape(*this, getResult(), typeOf(getInput()).getShape(),
                     "result");
}

LogicalResult AddOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  if (typeOf(getLhs()) != typeOf(getRhs()) ||
      typeOf(getLhs()) != typeOf(getResult()))
    return emitOpError() << "operands and result must have the same type";
  return success();
}

LogicalResult SplitHeadsOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto in = typeOf(getInput()).getShape();
  int64_t h = getHeads();
  if (in.size() != 3 || h <= 0 || in[2] % h)
    return emitOpError() << "input must be [B, N, H*D] with H = " << h;
  return expectShape(*this, getResult(), {in[0], h, in[1], in[2] / h},
                     "result");
}

LogicalResult MergeHeadsOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto in = typeOf(getInput()).getShape();
  if (in.size() != 4)
    return emitOpError() << "input must be [B, H, N, D]";
  return expectShape(*this, getResult(), {in[0], in[2], in[1] * in[3]},
                     "result");
}

LogicalResult SliceOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  int64_t c = typeOf(getInput()).getShape().back();
  if (getOffset() < 0 || getSize() <= 0 || getOffset() + getSize() > c)
    return emitOpError() << "range [" << getOffset() << ", "
                         << getOffset() + getSize() << ") is not inside the "
                         << c << " channels";
  return expectShape(*this, getResult(), withLast(getInput(), getSize()),
                     "result");
}

LogicalResult ConcatOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto a = typeOf(getLhs()).getShape(), b = typeOf(getRhs()).getShape();
  if (a.size() != b.size() || a.drop_back() != b.drop_back())
    return emitOpError() << "operands must differ only in the last axis";
  return expectShape(*this, getResult(), withLast(getLhs(), a.back() + b.back()),
                     "result");
}

LogicalResult ConvOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  StringRef kind = getKind(), mode = getMode();
  if (kind != "conv1d" && kind != "conv2d")
    return emitOpError() << "kind must be conv1d or conv2d";
  if (mode != "mul" && mode != "adder")
    return emitOpError() << "mode must be mul or adder";
  auto in = typeOf(getInput()).getShape();
  int64_t k = getWindow(), s = getStride();
  if (in.size() != 3 || k <= 0 || s <= 0)
    return emitOpError() << "input must be [B, N, C] with window, stride > 0";
  auto params = getParams();
  if (params.empty() || params.size() > 2)
    return emitOpError() << "takes [weight, bias?]";
  int64_t c = in[2];
  if (params.size() == 2 && failed(expectShape(*this, params[1], {c}, "bias")))
    return failure();
  if (kind == "conv1d") {
    if (getPadding() != "same" && getPadding() != "causal")
      return emitOpError() << "padding must be same or causal";
    if (s != 1)
      return emitOpError() << "conv1d has stride 1";
    if (failed(expectShape(*this, params[0], {c, k}, "weight")))
      return failure();
    return expectShape(*this, getResult(), in, "result");
  }
  auto grid = getGrid();
  if (!grid || grid->size() != 2 || (*grid)[0] * (*grid)[1] != in[1])
    return emitOpError() << "conv2d needs a grid [Hh, Ww] holding the "
                         << in[1] << " tokens";
  if (mode != "mul")
    return emitOpError() << "conv2d supports mode mul only";
  if (failed(expectShape(*this, params[0], {c, k, k}, "weight")))
    return failure();
  int64_t pad = k / 2;
  int64_t ho = ((*grid)[0] + 2 * pad - k) / s + 1;
  int64_t wo = ((*grid)[1] + 2 * pad - k) / s + 1;
  return expectShape(*this, getResult(), {in[0], ho * wo, c}, "result");
}

LogicalResult PoolOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  if (getMode() != "avg" && getMode() != "max")
    return emitOpError() << "mode must be avg or max";
  auto in = typeOf(getInput()).getShape();
  auto grid = getGrid();
  int64_t k = getWindow(), s = getStride();
  if (in.size() != 3 || grid.size() != 2 || grid[0] * grid[1] != in[1])
    return emitOpError() << "needs a [B, N, C] input and a grid [Hh, Ww] "
                            "holding its tokens";
  if (k <= 0 || s <= 0 || k > grid[0] || k > grid[1])
    return emitOpError() << "window must be positive and fit the grid";
  int64_t ho = (grid[0] - k) / s + 1, wo = (grid[1] - k) / s + 1;
  return expectShape(*this, getResult(), {in[0], ho * wo, in[2]}, "result");
}

namespace {

/// Checks q [B, H, N, D] against k or v [B, G, M, X] (H a multiple of G);
/// returns false after reporting.
LogicalResult checkHeads(Operation *op, ArrayRef<int64_t> q,
                         ArrayRef<int64_t> kv, StringRef what) {
  if (q.size() != 4 || kv.size() != 4)
    return op->emitOpError() << "operands must be rank-4 [B, H, N, D] tensors";
  if (q[0] != kv[0] || kv[1] <= 0 || q[1] % kv[1])
    return op->emitOpError() << "the " << what << " must have the batch of "
                             << "the queries and a head count dividing "
                             << q[1];
  return success();
}

} // namespace

LogicalResult ScoresOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto q = typeOf(getQuery()).getShape(), k = typeOf(getKey()).getShape();
  if (failed(checkHeads(*this, q, k, "keys")))
    return failure();
  if (q[3] != k[3])
    return emitOpError() << "query and key head dims differ";
  if (!(getScale().convertToDouble() > 0))
    return emitOpError() << "scale must be positive";
  return expectShape(*this, getResult(), {q[0], q[1], q[2], k[2]}, "result");
}

LogicalResult BlendOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  double w = getWeight().convertToDouble();
  if (!(w >= 0 && w <= 1))
    return emitOpError() << "weight must be in [0, 1], got " << w;
  return success();
}

LogicalResult MapConvOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto x = typeOf(getInput()).getShape(), w = typeOf(getWeight()).getShape();
  if (x.size() != 4)
    return emitOpError() << "input must be a [B, H, N, M] map";
  if (w.size() != 4 || w[0] != x[1] || w[1] != x[1] || w[2] != w[3] ||
      w[2] % 2 == 0)
    return emitOpError() << "weight must be [H, H, k, k] with H = " << x[1]
                         << " and an odd k";
  if (failed(expectShape(*this, getBias(), {x[1]}, "bias")))
    return failure();
  if (getAct() != "none" && getAct() != "leaky_relu")
    return emitOpError() << "act must be none or leaky_relu";
  return expectShape(*this, getResult(), x, "result");
}

LogicalResult SoftmaxOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  if (typeOf(getInput()).getRank() != 4)
    return emitOpError() << "input must be a [B, H, N, M] map";
  return success();
}

LogicalResult AttendOp::verify() {
  if (failed(checkStaticF32(*this)))
    return failure();
  auto a = typeOf(getWeights()).getShape(), v = typeOf(getValue()).getShape();
  if (failed(checkHeads(*this, a, v, "values")))
    return failure();
  if (a[3] != v[2])
    return emitOpError() << "the map has " << a[3] << " columns but there are "
                         << v[2] << " values";
  return expectShape(*this, getResult(), {a[0], a[1], a[2], v[3]}, "result");
}
