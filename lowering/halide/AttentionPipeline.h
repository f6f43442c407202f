//===- AttentionPipeline.h - fused softmax attention in Halide --*- C++ -*-===//
//
// Private to lowering/halide.  The algorithm (define()) and the schedule
// (schedule()) are kept apart, Halide-generator style; Funcs and Vars are
// members so the schedule can name them.
//
// Form "two_pass_tiled": queries are cut into tiles of `query_tile` rows.
// Per tile, only the key range [lo, hi) that the masks allow is visited
// (KeyRange.h); within it scores are computed into a tile-sized buffer
// (query_tile x range, never N x M), then max, exp, sum and P.V run over it.
// Score tiles are stored query-minor, so row max/sum and exp vectorize
// across queries, and Q.K^T is register-blocked with queries in vector lanes
// and keys unrolled.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_ATTENTIONPIPELINE_H
#define ATTN_LOWERING_HALIDE_ATTENTIONPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/KeyRange.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/HalideBackend.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace attn::halide {

/// One ImageParam per input of `desc`, in ABI order (so input argument
/// indices index it), dims reversed (innermost first), static extents set.
/// Throws Halide::CompileError for extents Halide buffers cannot hold or
/// query/key/value that are not rank 4.
std::vector<Halide::ImageParam> makeInputParams(const AttentionKernelDesc &desc);

/// How ScalarExprs read kernel arguments (`load NAME idx...`): elements of
/// the input ImageParams (C-order indices reversed to Halide's order).
std::function<Halide::Expr(const std::string &,
                           const std::vector<Halide::Expr> &)>
argumentLoader(const AttentionKernelDesc &desc,
               const std::vector<Halide::ImageParam> &params);

/// How a kernel's ScalarExprs read its dims and arguments: the dims B, H,
/// N, M, D and G from the query and key params, D being `headDim` when it
/// is defined (a static head dim a schedule relies on); loads through
/// argumentLoader.  The variables (s, b, h, i, j) are the caller's.
ExprEnv kernelEnv(const AttentionKernelDesc &desc,
                  const std::vector<Halide::ImageParam> &params,
                  Halide::Expr headDim = Halide::Expr());

/// The key range [lo, hi) that query rows `firstRow` to `lastRow` visit:
/// each linear bound of `bounds` taken at the row where it admits the most
/// keys, clamped to [0, M) (M from `env`), which it is without bounds.
std::pair<Halide::Expr, Halide::Expr> keyRange(const KeyBounds &bounds,
                                               const ExprEnv &env,
                                               Halide::Expr firstRow,
                                               Halide::Expr lastRow);

/// One score with the kernel's score modifiers applied in order (each sees
/// the previous value as `s`), and whether the kernel's masks keep it; the
/// variables b, h, i, j of `env` name the score's batch, head, query row
/// and key.
struct ModifiedScore {
  Halide::Expr score;
  Halide::Expr keep;
};
ModifiedScore modifyScore(const AttentionKernelDesc &desc, ExprEnv env,
                          Halide::Expr rawScore);

class AttentionPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  void define();
  void schedule();

  Halide::Var d{"d"}, dv{"dv"}, ii{"ii"}, io{"io"}, j{"j"}, h{"h"}, b{"b"},
      i{"i"}, g{"g"}, tile{"tile"};
  Halide::RDom rd, r;
  Halide::Func qTile{"q_tile"}, dot{"dot"}, score{"score"},
      rowMax{"row_max"}, prob{"prob"}, rowSum{"row_sum"}, acc{"acc"},
      normed{"normed"};
};

/// Constrains `out`'s output buffer: every dim starts at 0, and the static
/// extents of the kernel's result are part of the contract.
void constrainOutput(const AttentionKernelDesc &desc, Halide::Func &out);

/// The Halide type of an attnc dtype ("f32", ...); throws on others.
Halide::Type halideType(const std::string &dtype);

/// Generator-style text of a pipeline: a header naming the kernel, form,
/// target and knobs, every definition of `funcs` in order, then the
/// schedule directives `scheduleLog`.
std::string describePipeline(const AttentionKernelDesc &desc,
                             const TargetInfo &target,
                             const std::map<std::string, int64_t> &knobs,
                             const std::vector<Halide::Func> &funcs,
                             const std::vector<std::string> &scheduleLog);

/// Prints `name(args) = value;` for one definition (describe()'s format).
void printHalideDefinition(std::ostream &os, const std::string &name,
                           const std::vector<Halide::Expr> &args,
                           const std::vector<Halide::Expr> &values);

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_ATTENTIONPIPELINE_H
