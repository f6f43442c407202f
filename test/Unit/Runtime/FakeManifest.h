//===- FakeManifest.h - Manifest of the fake kernel library -----*- C++ -*-===//
//
// The hand-written manifest describing FakeKernels.c.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_UNIT_RUNTIME_FAKEMANIFEST_H
#define ATTN_TEST_UNIT_RUNTIME_FAKEMANIFEST_H

#include <string>

namespace attn::rt::test {

/// The source hash FakeKernels.c returns.
inline const char *kFakeHash = "0123456789abcdef";

/// Returns the manifest text; `hash` replaces the source hash.
inline std::string fakeManifest(const std::string &hash = kFakeHash) {
  const std::string attnDims =
      R"J("dims": {"B": null, "H": null, "G": null, "N": null, "M": null, "D": 8},)J";
  const std::string attnArgs = R"J(
        {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
        {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
        {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},)J";
  const std::string outArg =
      R"J({"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "D"]})J";
  auto reference = [](const std::string &extra) {
    return R"J("reference": {"kind": "attention", "query": "q", "key": "k",
        "value": "v", "out": "out", "normalize": "softmax",
        "scale": "(rsqrt (float (dim D)))", )J" +
           extra + "}";
  };
  auto attnKernel = [&](const std::string &name, const std::string &masks,
                        bool causal) {
    return R"J({"name": ")J" + name + R"J(", "entry": ")J" + name + R"J(", )J" +
           attnDims + R"J( "args": [)J" + attnArgs + outArg + "], " +
           reference(std::string("\"causal\": ") + (causal ? "true" : "false") +
                     ", \"masks\": [" + masks + "]") +
           "}";
  };
  return R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "fake",
  "source": "FakeKernels.c", "source_hash": ")J" +
         hash + R"J(", "target": "host", "library": "fake.so",
  "kernels": [
    {"name": "add_one", "entry": "add_one", "dims": {"N": null, "D": null},
     "args": [
       {"name": "q", "role": "input", "dtype": "f32", "shape": ["N", "D"]},
       {"name": "out", "role": "output", "dtype": "f32", "shape": ["N", "D"]}]},
    {"name": "fail", "entry": "fail", "dims": {"N": 4},
     "args": [
       {"name": "q", "role": "input", "dtype": "f32", "shape": ["N"]},
       {"name": "out", "role": "output", "dtype": "f32", "shape": ["N"]}]},
    )J" + attnKernel("attn", "", false) +
         ",\n    " +
         attnKernel("attn_causal",
                    R"J("(le j (add i (sub (dim M) (dim N))))")J", true) +
         ",\n    " + attnKernel("attn_wrong", "", false) + R"J(,
    {"name": "attn_kv", "entry": "attn_kv", )J" +
         attnDims + R"J( "args": [)J" + attnArgs +
         R"J({"name": "kv_len", "role": "input", "dtype": "i32", "shape": ["B"]},
        )J" +
         outArg + "], " +
         reference(
             R"J("kv_lengths": "kv_len", "masks": ["(lt j (load kv_len b))"])J") +
         R"J(}
  ]
})J";
}

/// A manifest with block kernels and architectures over FakeKernels.c:
///   blk_linear, blk_linear_wrong: x [1, 2, 5, 8], w [8, 8], b [8] -> out
///   attn: softmax attention, q, k, v [B, H, N, 8] -> out
///   blk_add_relu: a, b [1, 2, 5, 8] -> sum = a + b, act = relu(sum)
/// and the archs "net" and "net_wrong" (the latter calls blk_linear_wrong):
///   %q = linear(x; wq, bq); %a = attn(%q, x, x); y, z = add_relu(x, %a).
inline std::string fakeArchManifest(const std::string &hash = kFakeHash) {
  const std::string t =
      R"J({"name": "NAME", "role": "ROLE", "dtype": "f32", "shape": SHAPE})J";
  auto arg = [&](const std::string &name, const std::string &role,
                 const std::string &shape) {
    std::string s = t;
    s.replace(s.find("NAME"), 4, name);
    s.replace(s.find("ROLE"), 4, role);
    s.replace(s.find("SHAPE"), 5, shape);
    return s;
  };
  const std::string x = "[1, 2, 5, 8]";
  auto linear = [&](const std::string &name) {
    return R"J({"name": ")J" + name + R"J(", "entry": ")J" + name +
           R"J(", "dims": {}, "args": [)J" + arg("x", "input", x) + ", " +
           arg("w", "input", "[8, 8]") + ", " + arg("b", "input", "[8]") +
           ", " + arg("out", "output", x) +
           R"J(], "reference": {"kind": "block", "ops": [
             {"op": "linear", "inputs": ["x", "w", "b"], "out": "out",
              "shape": [1, 2, 5, 8], "mode": "mul"}]}})J";
  };
  auto net = [&](const std::string &name, const std::string &linearKernel) {
    return R"J({"name": ")J" + name + R"J(",
      "inputs": [{"name": "x", "dtype": "f32", "shape": [1, 2, 5, 8]}],
      "outputs": [{"name": "y", "dtype": "f32", "shape": [1, 2, 5, 8]},
                  {"name": "z", "dtype": "f32", "shape": [1, 2, 5, 8]}],
      "weights": [
        {"name": "wq", "dtype": "f32", "shape": [8, 8],
         "init": {"dist": "uniform", "bound": 0.35}},
        {"name": "bq", "dtype": "f32", "shape": [8],
         "init": {"dist": "normal", "mean": 0.0, "std": 0.1}}],
      "values": [{"name": "%q", "dtype": "f32", "shape": [1, 2, 5, 8]},
                 {"name": "%a", "dtype": "f32", "shape": [1, 2, 5, 8]}],
      "calls": [
        {"kernel": ")J" +
           linearKernel + R"J(", "args": ["x", "wq", "bq", "%q"]},
        {"kernel": "attn", "args": ["%q", "x", "x", "%a"]},
        {"kernel": "blk_add_relu", "args": ["x", "%a", "y", "z"]}]})J";
  };
  return R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "fake",
  "source": "FakeKernels.c", "source_hash": ")J" +
         hash + R"J(", "target": "host", "library": "fake.so",
  "kernels": [
    )J" + linear("blk_linear") +
         ",\n    " + linear("blk_linear_wrong") +
         R"J(,
    {"name": "attn", "entry": "attn",
     "dims": {"B": null, "H": null, "G": null, "N": null, "M": null, "D": 8},
     "args": [
        {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
        {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
        {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
        {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "D"]}],
     "reference": {"kind": "attention", "query": "q", "key": "k", "value": "v",
        "out": "out", "normalize": "softmax", "scale": "(rsqrt (float (dim D)))",
        "causal": false, "masks": []}},
    {"name": "blk_add_relu", "entry": "blk_add_relu", "dims": {}, "args": [)J" +
         arg("a", "input", x) + ", " + arg("b", "input", x) + ", " +
         arg("sum", "output", x) + ", " + arg("act", "output", x) +
         R"J(], "reference": {"kind": "block", "ops": [
       {"op": "add", "inputs": ["a", "b"], "out": "sum", "shape": [1, 2, 5, 8]},
       {"op": "relu", "inputs": ["sum"], "out": "act", "shape": [1, 2, 5, 8]}]}}
  ],
  "archs": [
    )J" + net("net", "blk_linear") +
         ",\n    " + net("net_wrong", "blk_linear_wrong") + R"J(
  ]
})J";
}

} // namespace attn::rt::test

#endif // ATTN_TEST_UNIT_RUNTIME_FAKEMANIFEST_H
