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

} // namespace attn::rt::test

#endif // ATTN_TEST_UNIT_RUNTIME_FAKEMANIFEST_H
