//===- OutlineBlocks.cpp - architectures to programs of block kernels -----===//
//
// Implements --attn-outline-blocks (docs/Architectures.md §3).  Groups are
// formed in program order around anchors; each group is outlined into a
// function marked attn.block_kernel whose arguments are the values the
// group reads (weights named after the leaf of their block path) and whose
// results are the values it defines that are used elsewhere.  Structurally
// identical groups share one function.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNOUTLINEBLOCKSPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

bool isBlockOp(Operation *op) {
  return isa<LinearOp, NormOp, ActOp, AddOp, SplitHeadsOp, MergeHeadsOp,
             SliceOp, ConcatOp, ConvOp, PoolOp, ScoresOp, BlendOp, MapConvOp,
             SoftmaxOp, AttendOp>(op);
}
/// Ops of a materialized attention map (evolving attention).
bool isMapOp(Operation *op) {
  return isa<BlendOp, MapConvOp, SoftmaxOp, AttendOp>(op);
}
bool isAnchor(Operation *op) { return isa<LinearOp, ConvOp, PoolOp>(op); }
/// Elementwise and layout ops an anchor's epilogue may absorb.
bool isEpilogue(Operation *op) { return isa<ActOp, AddOp, SplitHeadsOp>(op); }

/// The single user of `v`, or null.
Operation *singleUser(Value v) {
  if (!v.hasOneUse())
    return nullptr;
  return *v.getUsers().begin();
}

/// The last op outside `group` whose result the group reads (null when it
/// reads only function arguments).
Operation *lastInputDef(ArrayRef<Operation *> group,
                        llvm::function_ref<bool(Operation *, Operation *)>
                            before) {
  Operation *last = nullptr;
  for (Operation *op : group)
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (def && !llvm::is_contained(group, def) &&
          (!last || before(last, def)))
        last = def;
    }
  return last;
}

/// True when one call can replace `group`: every value it reads is
/// computed before every op outside it that reads its results.
bool canOutline(ArrayRef<Operation *> group,
                DenseMap<Operation *, unsigned> &order) {
  Operation *last = lastInputDef(group, [&](Operation *a, Operation *b) {
    return order[a] < order[b];
  });
  for (Operation *op : group)
    for (Operation *user : op->getUsers())
      if (!llvm::is_contained(group, user) && last &&
          order[user] <= order[last])
        return false;
  return true;
}

/// Forms the fusion groups of `fn`, each in program order.
std::vector<SmallVector<Operation *>> formGroups(func::FuncOp fn, bool fuse) {
  DenseMap<Operation *, int> groupOf;
  std::vector<SmallVector<Operation *>> groups;
  auto add = [&](int g, Operation *op) {
    groupOf[op] = g;
    groups[g].push_back(op);
  };
  SmallVector<Operation *> ops;
  fn.walk([&](Operation *op) {
    if (isBlockOp(op))
      ops.push_back(op);
  });
  if (fuse) {
    // A materialized map: from the scores, every map op that reads it
    // (directly or through other map ops) is one kernel, whose results are
    // the attention output and any map used elsewhere (the carried map).
    for (Operation *op : ops) {
      if (!isa<ScoresOp>(op) || groupOf.count(op))
        continue;
      int g = static_cast<int>(groups.size());
      groups.emplace_back();
      add(g, op);
      SmallVector<Operation *> work{op};
      while (!work.empty()) {
        Operation *cur = work.pop_back_val();
        for (Operation *user : cur->getUsers()) {
          if (!isMapOp(user) || groupOf.count(user))
            continue;
          // Join when every map the user reads is already grouped (here,
          // or an earlier layer's carried map): the next layer's blend of
          // its own scores with this layer's map is not.
          bool ready = llvm::all_of(user->getOperands(), [&](Value v) {
            Operation *def = v.getDefiningOp();
            bool isMap = def && (isa<ScoresOp>(def) || isMapOp(def));
            return !isMap || groupOf.count(def);
          });
          if (ready) {
            add(g, user);
            work.push_back(user);
          }
        }
      }
    }
    for (Operation *op : ops) {
      if (!isAnchor(op) || groupOf.count(op))
        continue;
      int g = static_cast<int>(groups.size());
      groups.emplace_back();
      SmallVector<Operation *> anchors{op};
      Value in = op->getOperand(0);
      Operation *pro = in.getDefiningOp();
      if (pro && !groupOf.count(pro) &&
          (isa<NormOp>(pro) ||
           (isa<MergeHeadsOp>(pro) && in.hasOneUse()))) {
        // A prologue joins when every user is an ungrouped anchor reading
        // it as its input; those anchors join too (Q, K, V).
        bool allAnchors = llvm::all_of(in.getUses(), [&](OpOperand &use) {
          return isAnchor(use.getOwner()) && use.getOperandNumber() == 0 &&
                 !groupOf.count(use.getOwner());
        });
        if (allAnchors) {
          add(g, pro);
          for (Operation *user : in.getUsers())
            if (user != op && !llvm::is_contained(anchors, user))
              anchors.push_back(user);
        }
      }
      for (Operation *anchor : anchors) {
        add(g, anchor);
        Value cur = anchor->getResult(0);
        while (Operation *user = singleUser(cur)) {
          if (!isEpilogue(user) || groupOf.count(user))
            break;
          add(g, user);
          cur = user->getResult(0);
          if (isa<SplitHeadsOp>(user))
            break;
        }
      }
    }
  }
  for (Operation *op : ops)
    if (!groupOf.count(op)) {
      groups.emplace_back();
      add(static_cast<int>(groups.size()) - 1, op);
    }
  // Program order inside each group, groups by their last op.
  DenseMap<Operation *, unsigned> order;
  for (auto [n, op] : llvm::enumerate(fn.getBody().front()))
    order[&op] = n;
  std::vector<SmallVector<Operation *>> result;
  for (auto &group : groups) {
    llvm::sort(group, [&](Operation *a, Operation *b) {
      return order[a] < order[b];
    });
    if (canOutline(group, order)) {
      result.push_back(std::move(group));
      continue;
    }
    // A value the group reads is computed from one of its results by an
    // op outside it: one call cannot replace it, so its ops stay apart.
    for (Operation *op : group)
      result.push_back({op});
  }
  llvm::sort(result, [&](const auto &a, const auto &b) {
    return order[a.back()] < order[b.back()];
  });
  return result;
}

/// The argument name of a group input: the leaf of a weight's block path,
/// or "x" for activations; unique within the kernel.
std::string inputName(Value v, llvm::StringSet<> &taken) {
  std::string base = "x";
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
      if (auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      kArgNameAttr))
        if (fn.getArgAttr(arg.getArgNumber(), kArgInitAttr))
          base = name.getValue().rsplit('.').second.str();
  std::string name = base;
  for (int n = 1; !taken.insert(name).second; ++n)
    name = base + std::to_string(n);
  return name;
}

struct OutlineBlocksPass
    : public mlir::attn::impl::AttnOutlineBlocksPassBase<OutlineBlocksPass> {
  using AttnOutlineBlocksPassBase::AttnOutlineBlocksPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> archs;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr(kArchAttr))
        archs.push_back(fn);
    for (func::FuncOp fn : archs)
      outline(module, fn);
  }

  void outline(ModuleOp module, func::FuncOp fn) {
    OpBuilder builder(module.getContext());
    int counter = 0;
    for (SmallVector<Operation *> &group : formGroups(fn, fuse)) {
      llvm::SmallPtrSet<Operation *, 8> members(group.begin(), group.end());
      llvm::SetVector<Value> inputs;
      SmallVector<Value> outputs;
      for (Operation *op : group) {
        for (Value operand : op->getOperands())
          if (!members.count(operand.getDefiningOp()))
            inputs.insert(operand);
        for (Value result : op->getResults())
          if (llvm::any_of(result.getUsers(), [&](Operation *user) {
                return !members.count(user);
              }))
            outputs.push_back(result);
      }

      // The kernel function.
      SmallVector<Type> inTypes, outTypes;
      for (Value v : inputs)
        inTypes.push_back(v.getType());
      for (Value v : outputs)
        outTypes.push_back(v.getType());
      builder.setInsertionPoint(fn);
      auto kernel = builder.create<func::FuncOp>(
          group.front()->getLoc(), "attn.outlined",
          builder.getFunctionType(inTypes, outTypes));
      kernel->setAttr(kBlockKernelAttr, builder.getUnitAttr());
      llvm::StringSet<> taken;
      auto nameAttr = builder.getStringAttr(kArgNameAttr);
      for (auto [n, v] : llvm::enumerate(inputs))
        kernel.setArgAttrs(n, builder.getDictionaryAttr({NamedAttribute(
                                  nameAttr, builder.getStringAttr(
                                                inputName(v, taken)))}));
      for (unsigned n = 0; n < outputs.size(); ++n)
        kernel.setResultAttrs(
            n, builder.getDictionaryAttr({NamedAttribute(
                   nameAttr, builder.getStringAttr(
                                 n ? "out" + std::to_string(n) : "out"))}));
      Block *entry = kernel.addEntryBlock();
      IRMapping map;
      for (auto [v, arg] : llvm::zip(inputs, entry->getArguments()))
        map.map(v, arg);
      OpBuilder body = OpBuilder::atBlockEnd(entry);
      for (Operation *op : group)
        body.clone(*op, map);
      SmallVector<Value> results;
      for (Value v : outputs)
        results.push_back(map.lookup(v));
      body.create<func::ReturnOp>(group.back()->getLoc(), results);

      func::FuncOp callee = deduplicate(module, kernel);
      if (callee == kernel)
        kernel.setName((fn.getName() + "_blk" + std::to_string(counter++)).str());

      // Replace the group by a call placed right after the last value it
      // reads (formGroups checked that its results are used after that).
      if (Operation *last = lastInputDef(group, [](Operation *a,
                                                   Operation *b) {
            return a->isBeforeInBlock(b);
          }))
        builder.setInsertionPointAfter(last);
      else
        builder.setInsertionPointToStart(&fn.getBody().front());
      auto call = builder.create<func::CallOp>(group.back()->getLoc(), callee,
                                               inputs.getArrayRef());
      for (auto [v, r] : llvm::zip(outputs, call.getResults()))
        v.replaceAllUsesWith(r);
      for (Operation *op : llvm::reverse(group))
        op->erase();
    }
  }

  /// Returns an existing block kernel identical to `kernel` (erasing
  /// `kernel`), or `kernel`.
  func::FuncOp deduplicate(ModuleOp module, func::FuncOp kernel) {
    std::string key = structuralKey(kernel);
    auto it = seen.find(key);
    if (it != seen.end()) {
      kernel.erase();
      return it->second;
    }
    seen[key] = kernel;
    return kernel;
  }

  /// What `kernel` computes: its body and types printed in its own scope,
  /// without its name and argument names (kernels that differ only in those
  /// compute the same).
  static std::string structuralKey(func::FuncOp kernel) {
    func::FuncOp copy = kernel.clone();
    copy.setName("kernel");
    for (unsigned n = 0; n < copy.getNumArguments(); ++n)
      copy.setArgAttrs(n, DictionaryAttr::get(copy.getContext()));
    for (unsigned n = 0; n < copy.getNumResults(); ++n)
      copy.setResultAttrs(n, DictionaryAttr::get(copy.getContext()));
    std::string text;
    llvm::raw_string_ostream os(text);
    copy->print(os, OpPrintingFlags().useLocalScope());
    copy.erase();
    return text;
  }

  llvm::StringMap<func::FuncOp> seen;
};

} // namespace
