/*===- FakeKernels.c - A stand-in for an attnc-built kernel library -----===*
 *
 * Exports the same ABI as a library built by `attnc compile` (see
 * docs/Manifest.md) so that the runtime's loading, binding, calling and
 * checking can be tested without the compiler:
 *
 *   attnc_source_hash()        "0123456789abcdef"
 *   add_one_argv(q, out)       out = q + 1, f32, any rank, equal shapes
 *   fail_argv(q, out)          reports an error and returns -27
 *   attn_argv(q, k, v, out)    softmax attention, q [B,H,N,D], k/v [B,G,M,D*]
 *   attn_causal_argv(...)      the same with the bottom-right causal mask
 *   attn_kv_argv(q,k,v,len,out) the same with per-batch key lengths
 *   attn_wrong_argv(...)       attention + 1e-3 (must FAIL the check)
 *   blk_linear_argv(x, w, b, out)  out = x·wᵀ + b (block op linear, mode mul)
 *   blk_linear_wrong_argv(...)     the same + 1e-3 (must FAIL the check)
 *   blk_add_relu_argv(a, b, sum, act)  sum = a + b, act = relu(a + b)
 *
 * plus the Halide runtime hooks the runtime looks up with dlsym:
 * halide_set_error_handler, halide_set_num_threads.
 *
 *===--------------------------------------------------------------------===*/

#include <HalideRuntime.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static halide_error_handler_t errorHandler;
static int numThreads;

halide_error_handler_t
halide_set_error_handler(halide_error_handler_t handler) {
  halide_error_handler_t old = errorHandler;
  errorHandler = handler;
  return old;
}

int halide_set_num_threads(int n) {
  int old = numThreads;
  numThreads = n;
  return old;
}

/* Test hook: the last value given to halide_set_num_threads. */
int fake_num_threads(void) { return numThreads; }

const char *attnc_source_hash(void) { return "0123456789abcdef"; }

static int reportError(const char *msg, int code) {
  if (errorHandler)
    errorHandler(NULL, msg);
  return code;
}

static int isF32(const halide_buffer_t *b) {
  return b->type.code == halide_type_float && b->type.bits == 32 &&
         b->type.lanes == 1;
}

int add_one_argv(void **args) {
  const halide_buffer_t *q = (const halide_buffer_t *)args[0];
  halide_buffer_t *out = (halide_buffer_t *)args[1];
  if (!isF32(q) || !isF32(out) || q->dimensions != out->dimensions)
    return reportError("add_one: bad buffer types", halide_error_code_bad_type);
  int64_t count = 1;
  for (int d = 0; d < q->dimensions; ++d) {
    if (q->dim[d].extent != out->dim[d].extent)
      return reportError("add_one: shapes differ",
                         halide_error_code_bad_dimensions);
    count *= q->dim[d].extent;
  }
  /* Buffers from the runtime are dense C order: walk them linearly, but
   * check the strides first. */
  int64_t stride = 1;
  for (int d = 0; d < q->dimensions; ++d) {
    if (q->dim[d].stride != stride || out->dim[d].stride != stride)
      return reportError("add_one: not dense",
                         halide_error_code_bad_dimensions);
    stride *= q->dim[d].extent;
  }
  const float *src = (const float *)q->host;
  float *dst = (float *)out->host;
  for (int64_t i = 0; i < count; ++i)
    dst[i] = src[i] + 1.0f;
  return 0;
}

int fail_argv(void **args) {
  (void)args;
  return reportError("fail: requirement failed on purpose",
                     halide_error_code_requirement_failed);
}

/* Softmax attention with double accumulation.  Halide dims are reversed
 * relative to C order: dim[0] = D, dim[1] = N, dim[2] = H, dim[3] = B. */
static int attention(void **args, int causal, int hasLengths, double bias) {
  const halide_buffer_t *q = (const halide_buffer_t *)args[0];
  const halide_buffer_t *k = (const halide_buffer_t *)args[1];
  const halide_buffer_t *v = (const halide_buffer_t *)args[2];
  const halide_buffer_t *len =
      hasLengths ? (const halide_buffer_t *)args[3] : NULL;
  halide_buffer_t *out = (halide_buffer_t *)args[hasLengths ? 4 : 3];
  if (q->dimensions != 4 || k->dimensions != 4 || v->dimensions != 4 ||
      out->dimensions != 4)
    return reportError("attention: rank must be 4",
                       halide_error_code_bad_dimensions);
  int D = q->dim[0].extent, N = q->dim[1].extent, H = q->dim[2].extent,
      B = q->dim[3].extent;
  int M = k->dim[1].extent, G = k->dim[2].extent, Dv = v->dim[0].extent;
  if (G <= 0 || H % G != 0)
    return reportError("attention: H is not a multiple of G",
                       halide_error_code_bad_dimensions);
  const float *qp = (const float *)q->host, *kp = (const float *)k->host,
              *vp = (const float *)v->host;
  const int32_t *lp = len ? (const int32_t *)len->host : NULL;
  float *op = (float *)out->host;
  double scale = 1.0 / sqrt((double)D);
  double scores[4096];
  if (M > 4096)
    return reportError("attention: M too large for the fake kernel",
                       halide_error_code_generic_error);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      int g = h / (H / G);
      for (int i = 0; i < N; ++i) {
        const float *qi = qp + (((int64_t)b * H + h) * N + i) * D;
        float *oi = op + (((int64_t)b * H + h) * N + i) * Dv;
        double mx = -INFINITY;
        for (int j = 0; j < M; ++j) {
          int keep = 1;
          if (causal && j > i + M - N)
            keep = 0;
          if (lp && j >= lp[b])
            keep = 0;
          if (!keep) {
            scores[j] = -INFINITY;
            continue;
          }
          const float *kj = kp + (((int64_t)b * G + g) * M + j) * D;
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot += (double)qi[d] * kj[d];
          scores[j] = scale * dot;
          if (scores[j] > mx)
            mx = scores[j];
        }
        for (int d = 0; d < Dv; ++d)
          oi[d] = 0.0f;
        if (mx == -INFINITY)
          continue;
        double sum = 0, acc[1024];
        if (Dv > 1024)
          return reportError("attention: Dv too large",
                             halide_error_code_generic_error);
        for (int d = 0; d < Dv; ++d)
          acc[d] = 0;
        for (int j = 0; j < M; ++j) {
          if (scores[j] == -INFINITY)
            continue;
          double e = exp(scores[j] - mx);
          const float *vj = vp + (((int64_t)b * G + g) * M + j) * Dv;
          sum += e;
          for (int d = 0; d < Dv; ++d)
            acc[d] += e * vj[d];
        }
        for (int d = 0; d < Dv; ++d)
          oi[d] = (float)(acc[d] / sum + bias);
      }
    }
  return 0;
}

int attn_argv(void **args) { return attention(args, 0, 0, 0.0); }
int attn_causal_argv(void **args) { return attention(args, 1, 0, 0.0); }
int attn_kv_argv(void **args) { return attention(args, 0, 1, 0.0); }
int attn_wrong_argv(void **args) { return attention(args, 0, 0, 1e-3); }

/* Number of elements of a dense buffer. */
static int64_t elements(const halide_buffer_t *b) {
  int64_t n = 1;
  for (int d = 0; d < b->dimensions; ++d)
    n *= b->dim[d].extent;
  return n;
}

/* x [..., K], w [F, K], b [F] -> out [..., F]: double accumulation. */
static int blockLinear(void **args, double bias) {
  const halide_buffer_t *x = (const halide_buffer_t *)args[0];
  const halide_buffer_t *w = (const halide_buffer_t *)args[1];
  const halide_buffer_t *b = (const halide_buffer_t *)args[2];
  halide_buffer_t *out = (halide_buffer_t *)args[3];
  if (!isF32(x) || !isF32(w) || !isF32(b) || !isF32(out) ||
      w->dimensions != 2 || x->dimensions < 1)
    return reportError("blk_linear: bad buffers", halide_error_code_bad_type);
  int64_t K = x->dim[0].extent, F = w->dim[1].extent;
  if (w->dim[0].extent != K || out->dim[0].extent != F)
    return reportError("blk_linear: shapes differ",
                       halide_error_code_bad_dimensions);
  int64_t rows = elements(x) / K;
  const float *xp = (const float *)x->host, *wp = (const float *)w->host,
              *bp = (const float *)b->host;
  float *op = (float *)out->host;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < F; ++f) {
      double acc = bp[f];
      for (int64_t k = 0; k < K; ++k)
        acc += (double)xp[r * K + k] * wp[f * K + k];
      op[r * F + f] = (float)(acc + bias);
    }
  return 0;
}

int blk_linear_argv(void **args) { return blockLinear(args, 0.0); }
int blk_linear_wrong_argv(void **args) { return blockLinear(args, 1e-3); }

int blk_add_relu_argv(void **args) {
  const halide_buffer_t *a = (const halide_buffer_t *)args[0];
  const halide_buffer_t *b = (const halide_buffer_t *)args[1];
  halide_buffer_t *sum = (halide_buffer_t *)args[2];
  halide_buffer_t *act = (halide_buffer_t *)args[3];
  int64_t n = elements(a);
  if (elements(b) != n || elements(sum) != n || elements(act) != n)
    return reportError("blk_add_relu: shapes differ",
                       halide_error_code_bad_dimensions);
  const float *ap = (const float *)a->host, *bp = (const float *)b->host;
  float *sp = (float *)sum->host, *rp = (float *)act->host;
  for (int64_t i = 0; i < n; ++i) {
    float v = ap[i] + bp[i];
    sp[i] = v;
    rp[i] = v > 0.0f ? v : 0.0f;
  }
  return 0;
}
