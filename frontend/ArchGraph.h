//===- ArchGraph.h - an elaborated architecture -----------------*- C++ -*-===//
//
// What the elaborator (Elaborate.cpp) makes of one `arch` under one
// configuration: straight-line dataflow over tensors of static shape, with
// every `repeat` unrolled and every `choose` pinned.  Nodes are the block
// ops of docs/Architectures.md §2 plus "attention", a call of a synthetic
// attention kernel.  ArchGen.cpp turns it into an `attn.arch` function.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_ARCHGRAPH_H
#define ATTN_FRONTEND_ARCHGRAPH_H

#include "frontend/Token.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attn::frontend {

/// A tensor of the graph.
struct ArchTensor {
  std::vector<int64_t> shape;
  /// "f32" or "i32" (the sign and shift weights of `shift` projections).
  std::string dtype = "f32";
};

/// How attn-run fills a weight when no weights file is given
/// (docs/Architectures.md §4).
struct WeightInit {
  /// "uniform" (U(-a, a)), "normal" (mean a, std b), "shift" (integers in
  /// [a, b]) or "sign" ({-1, 0, 1}).
  std::string dist = "uniform";
  double a = 0.0, b = 0.0;
};

/// A weight: a graph input named by its block path.
struct ArchWeight {
  std::string name;
  int value = -1;
  WeightInit init;
};

/// One op.  Attributes not used by an op keep their defaults.
struct ArchNode {
  /// A block op of docs/Architectures.md §2, or "attention".
  std::string op;
  std::vector<int> inputs;
  int result = -1;
  Location loc;
  /// The block path of the op (`layers.3.attention`), for messages and
  /// kernel names.
  std::string path;
  std::string mode, padding;
  double eps = 0.0;
  int64_t heads = 0, offset = 0, size = 0, window = 0, stride = 1;
  std::vector<int64_t> grid;
  /// scores: the scale; blend: the weight of the second operand.
  double scale = 0.0;
  /// map_conv: "none" or "leaky_relu".
  std::string act;
  /// softmax: causal.
  bool causal = false;
  /// "attention": the synthetic kernel it calls.
  std::string kernel;
};

/// One elaborated architecture.
struct ArchGraph {
  std::string name;
  Location loc;
  std::vector<ArchTensor> values;
  /// The architecture's parameters: (name, value).
  std::vector<std::pair<std::string, int>> inputs;
  std::vector<ArchWeight> weights;
  std::vector<ArchNode> nodes;
  int output = -1;
  std::string outputName = "out";
  /// The configuration used, one entry per choice: name -> the label taken
  /// (per-layer choices: "[a,b,...]").
  std::map<std::string, std::string> config;
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_ARCHGRAPH_H
