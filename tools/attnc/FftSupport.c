/*===- FftSupport.c - the Toeplitz product of rpe_fft, by FFT -------------===*
 *
 * Compiled into (and only into) libraries with an fft_toeplitz kernel
 * (docs/LinearFamily.md).  Halide calls attn_rpe_toeplitz as an extern stage:
 *
 *   G[b, h, f, i, e] = sum_j c(j - i) * phi_k[b, g, j, f] * u[b, g, j, e]
 *   c(d) = exp(bias[h, clamp(d, -W, W) + W])   (0 for d > M - N if causal)
 *   u[., e] = v[., e] for e < Dv, and 1 for e = Dv (the normalizer channel)
 *
 * For one (b, h, f) the Dv + 1 channels are Toeplitz matrix-vector products,
 * done as circular convolutions of length L >= N + M - 1 (a power of two)
 * with FFTW's double-precision real transforms: O((Dv+1) L log L).  Double,
 * not single: an FFT's round-off is relative to the whole signal, so in
 * single precision the first rows of a causal product (few keys, small
 * sums) lose digits the tolerance rule does not allow (measured: 1e-4
 * absolute at N = 256, against 1e-7 for the naive float evaluation); see
 * docs/Rationale.md.  FFTW
 * plans are created once per length under a lock (planning is not thread
 * safe); the new-array execute functions are, so Halide's parallel tasks
 * share the plans.  Arrays come from fftw_malloc, so their alignment matches
 * the planning arrays'.
 *
 *===----------------------------------------------------------------------===*/

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "HalideRuntime.h"

struct attn_fft_plans {
  int length, channels;
  fftw_plan forward1, forwardMany, inverseMany;
};

#define ATTN_FFT_CACHE 8
static struct attn_fft_plans attn_fft_cache[ATTN_FFT_CACHE];
static pthread_mutex_t attn_fft_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct attn_fft_plans *attn_fft_plans_for(int length,
                                                       int channels) {
  pthread_mutex_lock(&attn_fft_lock);
  for (int n = 0; n < ATTN_FFT_CACHE; ++n) {
    struct attn_fft_plans *p = &attn_fft_cache[n];
    if (p->length == length && p->channels == channels) {
      pthread_mutex_unlock(&attn_fft_lock);
      return p;
    }
  }
  int slot = -1;
  for (int n = 0; n < ATTN_FFT_CACHE && slot < 0; ++n)
    if (attn_fft_cache[n].length == 0)
      slot = n;
  if (slot < 0) {
    pthread_mutex_unlock(&attn_fft_lock);
    return NULL;
  }
  int spectrum = length / 2 + 1;
  double *in = fftw_malloc(sizeof(double) * (size_t)length * channels);
  fftw_complex *out =
      fftw_malloc(sizeof(fftw_complex) * (size_t)spectrum * channels);
  struct attn_fft_plans *p = &attn_fft_cache[slot];
  p->forward1 = fftw_plan_dft_r2c_1d(length, in, out, FFTW_ESTIMATE);
  p->forwardMany = fftw_plan_many_dft_r2c(1, &length, channels, in, NULL, 1,
                                           length, out, NULL, 1, spectrum,
                                           FFTW_ESTIMATE);
  p->inverseMany = fftw_plan_many_dft_c2r(1, &length, channels, out, NULL, 1,
                                           spectrum, in, NULL, 1, length,
                                           FFTW_ESTIMATE);
  fftw_free(in);
  fftw_free(out);
  p->channels = channels;
  p->length = length;
  pthread_mutex_unlock(&attn_fft_lock);
  return p;
}

/* Element (x0, x1, x2, x3) of a 4-D float buffer (Halide order). */
static inline float attn_at4(const halide_buffer_t *buf, int x0, int x1,
                             int x2, int x3) {
  const halide_dimension_t *d = buf->dim;
  int64_t off = (int64_t)(x0 - d[0].min) * d[0].stride +
                (int64_t)(x1 - d[1].min) * d[1].stride +
                (int64_t)(x2 - d[2].min) * d[2].stride +
                (int64_t)(x3 - d[3].min) * d[3].stride;
  return ((const float *)buf->host)[off];
}

/* Element (x0, x1) of a 2-D float buffer (Halide order). */
static inline float attn_at2(const halide_buffer_t *buf, int x0, int x1) {
  const halide_dimension_t *d = buf->dim;
  int64_t off = (int64_t)(x0 - d[0].min) * d[0].stride +
                (int64_t)(x1 - d[1].min) * d[1].stride;
  return ((const float *)buf->host)[off];
}

/* Declares that `buf` needs its whole extent given by `extents`. */
static void attn_require_all(halide_buffer_t *buf, const int *extents) {
  for (int n = 0; n < buf->dimensions; ++n) {
    buf->dim[n].min = 0;
    buf->dim[n].extent = extents[n];
  }
}

/* phi_k: (f, j, g, b) = (F, M, G, B); v: (e, j, g, b) = (Dv, M, G, B);
 * bias: (r, h) = (R, H); out: (e, f, i, h, b) with e in [0, Dv]. */
int attn_rpe_toeplitz(halide_buffer_t *phik, halide_buffer_t *v,
                      halide_buffer_t *bias, int32_t N, int32_t M, int32_t F,
                      int32_t Dv, int32_t G, int32_t B, int32_t H, int32_t R,
                      int32_t causal, halide_buffer_t *out) {
  if (phik->host == NULL || v->host == NULL || bias->host == NULL) {
    int pe[4] = {F, M, G, B}, ve[4] = {Dv, M, G, B}, be[2] = {R, H};
    if (phik->host == NULL)
      attn_require_all(phik, pe);
    if (v->host == NULL)
      attn_require_all(v, ve);
    if (bias->host == NULL)
      attn_require_all(bias, be);
    return 0;
  }
  if (out->host == NULL)
    return 0;
  const halide_dimension_t *od = out->dim;
  int channels = Dv + 1;
  int length = 1;
  while (length < N + M - 1)
    length <<= 1;
  if (length < 2)
    length = 2;
  const struct attn_fft_plans *plans = attn_fft_plans_for(length, channels);
  if (!plans)
    return -1;
  int spectrum = length / 2 + 1;
  int W = (R - 1) / 2;
  int group = H / (G > 0 ? G : 1);
  if (group < 1)
    group = 1;
  double *kern = fftw_malloc(sizeof(double) * length);
  fftw_complex *kspec = fftw_malloc(sizeof(fftw_complex) * spectrum);
  double *u = fftw_malloc(sizeof(double) * (size_t)length * channels);
  fftw_complex *uspec =
      fftw_malloc(sizeof(fftw_complex) * (size_t)spectrum * channels);
  if (!kern || !kspec || !u || !uspec) {
    fftw_free(kern);
    fftw_free(kspec);
    fftw_free(u);
    fftw_free(uspec);
    return -1;
  }
  float *obase = (float *)out->host;
  double scale = 1.0 / (double)length;
  for (int bb = od[4].min; bb < od[4].min + od[4].extent; ++bb) {
    for (int hh = od[3].min; hh < od[3].min + od[3].extent; ++hh) {
      int gg = hh / group;
      /* The kernel h[n]: G_i = sum_j h[(i - j) mod L] U_j, so h[n] = c(-n)
       * for n in [0, N) and h[L - n] = c(n) for n in [1, M). */
      memset(kern, 0, sizeof(double) * length);
      for (int n = -(N - 1); n <= M - 1; ++n) {
        if (causal && n > M - N)
          continue;
        int r = n < -W ? -W : (n > W ? W : n);
        double c = exp((double)attn_at2(bias, r + W, hh));
        kern[n <= 0 ? -n : length - n] = c;
      }
      fftw_execute_dft_r2c(plans->forward1, kern, kspec);
      for (int ff = od[1].min; ff < od[1].min + od[1].extent; ++ff) {
        memset(u, 0, sizeof(double) * (size_t)length * channels);
        for (int j = 0; j < M; ++j) {
          double p = attn_at4(phik, ff, j, gg, bb);
          for (int e = 0; e < Dv; ++e)
            u[(size_t)e * length + j] = p * (double)attn_at4(v, e, j, gg, bb);
          u[(size_t)Dv * length + j] = p;
        }
        fftw_execute_dft_r2c(plans->forwardMany, u, uspec);
        for (int e = 0; e < channels; ++e) {
          fftw_complex *s = uspec + (size_t)e * spectrum;
          for (int k = 0; k < spectrum; ++k) {
            double re = s[k][0] * kspec[k][0] - s[k][1] * kspec[k][1];
            double im = s[k][0] * kspec[k][1] + s[k][1] * kspec[k][0];
            s[k][0] = re * scale;
            s[k][1] = im * scale;
          }
        }
        fftw_execute_dft_c2r(plans->inverseMany, uspec, u);
        for (int i = od[2].min; i < od[2].min + od[2].extent; ++i)
          for (int e = od[0].min; e < od[0].min + od[0].extent; ++e) {
            int64_t off = (int64_t)(e - od[0].min) * od[0].stride +
                          (int64_t)(ff - od[1].min) * od[1].stride +
                          (int64_t)(i - od[2].min) * od[2].stride +
                          (int64_t)(hh - od[3].min) * od[3].stride +
                          (int64_t)(bb - od[4].min) * od[4].stride;
            obase[off] = (float)u[(size_t)e * length + i];
          }
      }
    }
  }
  fftw_free(kern);
  fftw_free(kspec);
  fftw_free(u);
  fftw_free(uspec);
  return 0;
}

/* The causal long convolution of Mega's EMA (form ema, FFT branch):
 *   y[b, t, c] = sum_{s <= t} K[c, t - s] * x[b, s, c]
 * x: (c, t, b) = (C, L, B); kern: (c, t) = (C, L); out: (c, t, b).  Per
 * channel one transform of K (shared by the batch) and, per (b, c), one of
 * x, both of length >= 2L - 1 (linear, not circular, convolution), in double
 * precision like attn_rpe_toeplitz. */
int attn_causal_conv(halide_buffer_t *x, halide_buffer_t *kern, int32_t L,
                     int32_t C, int32_t B, halide_buffer_t *out) {
  if (x->host == NULL || kern->host == NULL) {
    int xe[3] = {C, L, B}, ke[2] = {C, L};
    if (x->host == NULL)
      attn_require_all(x, xe);
    if (kern->host == NULL)
      attn_require_all(kern, ke);
    return 0;
  }
  if (out->host == NULL)
    return 0;
  const halide_dimension_t *od = out->dim;
  int length = 2;
  while (length < 2 * L - 1)
    length <<= 1;
  const struct attn_fft_plans *plans = attn_fft_plans_for(length, 1);
  if (!plans)
    return -1;
  int spectrum = length / 2 + 1;
  double *buf = fftw_malloc(sizeof(double) * length);
  fftw_complex *kspec = fftw_malloc(sizeof(fftw_complex) * spectrum);
  fftw_complex *xspec = fftw_malloc(sizeof(fftw_complex) * spectrum);
  if (!buf || !kspec || !xspec) {
    fftw_free(buf);
    fftw_free(kspec);
    fftw_free(xspec);
    return -1;
  }
  const halide_dimension_t *xd = x->dim, *kd = kern->dim;
  const float *xh = (const float *)x->host, *kh = (const float *)kern->host;
  float *oh = (float *)out->host;
  double scale = 1.0 / (double)length;
  for (int c = od[0].min; c < od[0].min + od[0].extent; ++c) {
    memset(buf, 0, sizeof(double) * length);
    for (int t = 0; t < L; ++t)
      buf[t] = kh[(int64_t)(c - kd[0].min) * kd[0].stride +
                  (int64_t)(t - kd[1].min) * kd[1].stride];
    fftw_execute_dft_r2c(plans->forward1, buf, kspec);
    for (int b = od[2].min; b < od[2].min + od[2].extent; ++b) {
      memset(buf, 0, sizeof(double) * length);
      for (int t = 0; t < L; ++t)
        buf[t] = xh[(int64_t)(c - xd[0].min) * xd[0].stride +
                    (int64_t)(t - xd[1].min) * xd[1].stride +
                    (int64_t)(b - xd[2].min) * xd[2].stride];
      fftw_execute_dft_r2c(plans->forward1, buf, xspec);
      for (int k = 0; k < spectrum; ++k) {
        double re = xspec[k][0] * kspec[k][0] - xspec[k][1] * kspec[k][1];
        double im = xspec[k][0] * kspec[k][1] + xspec[k][1] * kspec[k][0];
        xspec[k][0] = re * scale;
        xspec[k][1] = im * scale;
      }
      fftw_execute_dft_c2r(plans->inverseMany, xspec, buf);
      for (int t = od[1].min; t < od[1].min + od[1].extent; ++t)
        oh[(int64_t)(c - od[0].min) * od[0].stride +
           (int64_t)(t - od[1].min) * od[1].stride +
           (int64_t)(b - od[2].min) * od[2].stride] = (float)buf[t];
    }
  }
  fftw_free(buf);
  fftw_free(kspec);
  fftw_free(xspec);
  return 0;
}
