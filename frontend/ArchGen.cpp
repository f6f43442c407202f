//===- ArchGen.cpp - elaborated architectures to attn.arch functions ------===//
//
// One `func.func` per ArchGraph, marked `attn.arch`: its arguments are the
// architecture's inputs and then its weights (argument attribute
// `attn.name` = the block path, `attn.init` = how attn-run fills it), its
// body the block ops of AttnBlockOps.td and `func.call`s of the synthetic
// attention kernels.
//
//===----------------------------------------------------------------------===//

#include "frontend/ArchGen.h"
#include "frontend/Lexer.h"

#include "dialect/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace ::attn::frontend;

namespace {

class ArchGen {
public:
  ArchGen(ModuleOp module, const ArchGraph &graph)
      : module(module), graph(graph), builder(module.getContext()) {}

  void generate();

private:
  mlir::Location loc(const ::attn::frontend::Location &l) {
    return toMLIRLoc(*module.getContext(), l);
  }
  RankedTensorType typeOf(int value) {
    const ArchTensor &t = graph.values[value];
    Type element = t.dtype == "i32" ? Type(builder.getI32Type())
                                    : Type(builder.getF32Type());
    return RankedTensorType::get(t.shape, element);
  }
  Value genNode(const ArchNode &node);

  ModuleOp module;
  const ArchGraph &graph;
  OpBuilder builder;
  DenseMap<int, Value> values;
};

} // namespace

void ArchGen::generate() {
  builder.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  auto nameAttr = builder.getStringAttr(mlir::attn::kArgNameAttr);
  for (auto &[name, id] : graph.inputs) {
    argTypes.push_back(typeOf(id));
    argAttrs.push_back(builder.getDictionaryAttr(
        {NamedAttribute(nameAttr, builder.getStringAttr(name))}));
  }
  for (const ArchWeight &w : graph.weights) {
    argTypes.push_back(typeOf(w.value));
    DictionaryAttr init = builder.getDictionaryAttr(
        {builder.getNamedAttr("dist", builder.getStringAttr(w.init.dist)),
         builder.getNamedAttr("a", builder.getF64FloatAttr(w.init.a)),
         builder.getNamedAttr("b", builder.getF64FloatAttr(w.init.b))});
    argAttrs.push_back(builder.getDictionaryAttr(
        {NamedAttribute(nameAttr, builder.getStringAttr(w.name)),
         builder.getNamedAttr(mlir::attn::kArgInitAttr, init)}));
  }
  auto func = builder.create<func::FuncOp>(
      loc(graph.loc), graph.name,
      builder.getFunctionType(argTypes, {typeOf(graph.output)}));
  for (auto [n, attrs] : llvm::enumerate(argAttrs))
    func.setArgAttrs(n, attrs);
  func.setResultAttrs(0, builder.getDictionaryAttr({NamedAttribute(
                             nameAttr,
                             builder.getStringAttr(graph.outputName))}));
  func->setAttr(mlir::attn::kArchAttr, builder.getUnitAttr());
  SmallVector<NamedAttribute> config;
  for (auto &[name, label] : graph.config)
    config.push_back(
        builder.getNamedAttr(name, builder.getStringAttr(label)));
  func->setAttr(mlir::attn::kArchConfigAttr,
                builder.getDictionaryAttr(config));

  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  unsigned arg = 0;
  for (auto &input : graph.inputs)
    values[input.second] = entry->getArgument(arg++);
  for (const ArchWeight &w : graph.weights)
    values[w.value] = entry->getArgument(arg++);
  for (const ArchNode &node : graph.nodes)
    values[node.result] = genNode(node);
  builder.create<func::ReturnOp>(loc(graph.loc), values[graph.output]);
}

Value ArchGen::genNode(const ArchNode &node) {
  mlir::Location l = loc(node.loc);
  if (!node.path.empty())
    l = NameLoc::get(builder.getStringAttr(node.path), l);
  RankedTensorType type = typeOf(node.result);
  SmallVector<Value> in;
  for (int id : node.inputs)
    in.push_back(values[id]);
  ValueRange params = ValueRange(in).drop_front();
  const std::string &op = node.op;
  if (op == "linear")
    return builder.create<mlir::attn::LinearOp>(l, type, node.mode, in[0],
                                                params);
  if (op == "layernorm" || op == "rmsnorm")
    return builder.create<mlir::attn::NormOp>(
        l, type, builder.getStringAttr(op), in[0], params,
        builder.getF64FloatAttr(node.eps));
  if (op == "gelu" || op == "relu" || op == "silu")
    return builder.create<mlir::attn::ActOp>(l, type, op, in[0]);
  if (op == "add")
    return builder.create<mlir::attn::AddOp>(l, type, in[0], in[1]);
  if (op == "split_heads")
    return builder.create<mlir::attn::SplitHeadsOp>(l, type, in[0],
                                                    node.heads);
  if (op == "merge_heads")
    return builder.create<mlir::attn::MergeHeadsOp>(l, type, in[0]);
  if (op == "slice")
    return builder.create<mlir::attn::SliceOp>(l, type, in[0], node.offset,
                                               node.size);
  if (op == "concat")
    return builder.create<mlir::attn::ConcatOp>(l, type, in[0], in[1]);
  if (op == "conv1d" || op == "conv2d")
    return builder.create<mlir::attn::ConvOp>(
        l, type, op, in[0], params, node.mode, node.padding, node.window,
        node.stride,
        node.grid.empty() ? DenseI64ArrayAttr()
                          : builder.getDenseI64ArrayAttr(node.grid));
  if (op == "pool")
    return builder.create<mlir::attn::PoolOp>(
        l, type, node.mode, in[0], builder.getDenseI64ArrayAttr(node.grid),
        node.window, node.stride);
  if (op == "scores")
    return builder.create<mlir::attn::ScoresOp>(
        l, type, in[0], in[1], builder.getF64FloatAttr(node.scale));
  if (op == "blend")
    return builder.create<mlir::attn::BlendOp>(
        l, type, in[0], in[1], builder.getF64FloatAttr(node.scale));
  if (op == "map_conv")
    return builder.create<mlir::attn::MapConvOp>(l, type, in[0], in[1], in[2],
                                                 node.act);
  if (op == "softmax")
    return builder.create<mlir::attn::SoftmaxOp>(l, type, in[0], node.causal);
  if (op == "attend")
    return builder.create<mlir::attn::AttendOp>(l, type, in[0], in[1]);
  assert(op == "attention" && "unknown architecture node");
  return builder
      .create<func::CallOp>(l, node.kernel, TypeRange{type}, ValueRange(in))
      .getResult(0);
}

void ::attn::frontend::generateArch(ModuleOp module, const ArchGraph &graph) {
  ArchGen(module, graph).generate();
}
