//===- ReferenceTestUtil.h - Helpers of the reference tests -----*- C++ -*-===//
//
// Scaffolding shared by the tests of the "linear", "luna" and "ema"
// reference kinds: one-kernel manifests around a reference, deterministic
// inputs, and the checks they all make of an evaluated reference.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_UNIT_RUNTIME_REFERENCETESTUTIL_H
#define ATTN_TEST_UNIT_RUNTIME_REFERENCETESTUTIL_H

#include "runtime/Check.h"
#include "runtime/Manifest.h"
#include "runtime/Reference.h"

#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace attn::rt::test {

using Json = nlohmann::ordered_json;

/// Completes the one-kernel manifest `manifest`: sets the dims named in
/// `dims` (the others keep their values) and `ref` as the kernel's
/// reference.
inline Json withReference(Json manifest, const Json &ref, const Json &dims) {
  Json &k = manifest["kernels"][0];
  for (auto it = dims.begin(); it != dims.end(); ++it)
    k["dims"][it.key()] = it.value();
  k["reference"] = ref;
  return manifest;
}

/// The kernel of the one-kernel `manifest`, parsed as `fileName`; a manifest
/// that does not parse fails the test and gives an empty kernel.
inline KernelSpec parseKernel(const Json &manifest,
                              const std::string &fileName) {
  Result<Manifest> m = parseManifest(manifest.dump(), fileName);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m->kernels[0] : KernelSpec();
}

/// Expects `manifest`, parsed as `fileName`, to be rejected with a message
/// containing `needle`.
inline void expectManifestRejected(const Json &manifest,
                                   const std::string &fileName,
                                   const std::string &needle) {
  Result<Manifest> m = parseManifest(manifest.dump(), fileName);
  ASSERT_FALSE(m.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(m.message().find(needle), std::string::npos) << m.message();
}

/// A deterministic value in [-1.3, 1.3] for element `n` of input `seed`.
inline double pseudo(int64_t seed, int64_t n) {
  return std::sin(double(seed * 7919 + n) * 0.6180339887) * 1.3;
}

/// An f32 tensor of `shape` whose element n is
/// offset + factor * pseudo(seed, n).
inline Tensor filled(std::vector<int64_t> shape, int64_t seed,
                     double factor = 1, double offset = 0) {
  Tensor t = Tensor::create(DType::F32, shape).take();
  for (int64_t n = 0; n < t.numElements(); ++n)
    t.setDouble(n, offset + factor * pseudo(seed, n));
  return t;
}

/// The last-dim row [idx..., :] of a tensor.
inline std::vector<double> row(const Tensor &t, std::vector<int64_t> idx) {
  int64_t d = t.shape().back();
  std::vector<double> out(static_cast<size_t>(d));
  idx.push_back(0);
  for (int64_t e = 0; e < d; ++e) {
    idx.back() = e;
    out[size_t(e)] = t.getDouble(t.flatIndex(idx));
  }
  return out;
}

/// The dot product of two rows of the same length.
inline double dotv(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0;
  for (size_t n = 0; n < a.size(); ++n)
    s += a[n] * b[n];
  return s;
}

/// The float32 baseline is close to (but not a copy of) the reference, and
/// the reference is finite.
inline void expectBaselineClose(const ReferenceOutput &r, double tol = 1e-4) {
  EXPECT_EQ(r.baseline.dtype(), DType::F32);
  for (int64_t n = 0; n < r.ref64.numElements(); ++n) {
    ASSERT_TRUE(std::isfinite(r.ref64.getDouble(n))) << "element " << n;
    EXPECT_NEAR(r.baseline.getDouble(n), r.ref64.getDouble(n),
                tol * (1 + std::fabs(r.ref64.getDouble(n))))
        << "element " << n;
  }
}

/// Expects the reference of `kernel` on `args` to fail with `message`.
inline void expectReferenceError(const KernelSpec &kernel,
                                 const TensorMap &args,
                                 const std::string &message) {
  Result<ReferenceOutput> r = computeReference(kernel, args);
  ASSERT_FALSE(r.ok()) << "expected: " << message;
  EXPECT_EQ(r.message(), message);
}

/// Expects the reference of `kernel` on `args` (one batch, `heads` heads,
/// 10 query rows of `width`) evaluated on at most 3 rows to evaluate rows 0,
/// 4, 8 and 9, each as the full reference does (in the baseline too when
/// `compareBaseline`), and the check to pass the full reference with it.
inline void expectSampledRowsMatch(const KernelSpec &kernel,
                                   const TensorMap &args, int64_t heads,
                                   int64_t width, bool compareBaseline) {
  Result<ReferenceOutput> full = computeReference(kernel, args);
  Result<ReferenceOutput> some = computeReference(kernel, args, /*maxRows=*/3);
  ASSERT_TRUE(full.ok() && some.ok()) << full.message() << some.message();
  std::vector<char> expected{1, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  EXPECT_EQ(some->rowsEvaluated, expected);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i : {0, 4, 8, 9})
      for (int64_t d = 0; d < width; ++d) {
        std::vector<int64_t> at = {0, h, i, d};
        EXPECT_EQ(some->ref64.getDouble(some->ref64.flatIndex(at)),
                  full->ref64.getDouble(full->ref64.flatIndex(at)));
        if (compareBaseline) {
          EXPECT_EQ(some->baseline.getDouble(some->baseline.flatIndex(at)),
                    full->baseline.getDouble(full->baseline.flatIndex(at)));
        }
      }
  // The check passes a kernel equal to the reference on the sampled rows.
  Result<CheckResult> c = checkAgainstReference(full->ref64, *some);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(c->pass);
}

} // namespace attn::rt::test

#endif // ATTN_TEST_UNIT_RUNTIME_REFERENCETESTUTIL_H
