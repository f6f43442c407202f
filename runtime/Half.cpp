//===- Half.cpp - IEEE half and bfloat16 conversions ----------------------===//
//
// Written from the IEEE 754 binary16 layout: 1 sign bit, 5 exponent bits
// (bias 15), 10 mantissa bits.  bfloat16 is the top half of a float.
//
//===----------------------------------------------------------------------===//

#include "runtime/Half.h"

#include <cstring>

namespace attn::rt {

static uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

static float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) // Inf or NaN.
    return bitsToFloat(sign | 0x7f800000u | (man << 13));
  if (exp != 0) // Normal.
    return bitsToFloat(sign | ((exp + 112) << 23) | (man << 13));
  if (man == 0) // Signed zero.
    return bitsToFloat(sign);
  // Subnormal: value = man * 2^-24, exact in float.
  float mag = float(man) * (1.0f / 16777216.0f);
  return sign ? -mag : mag;
}

uint16_t floatToHalf(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t exp = (u >> 23) & 0xffu;
  uint32_t man = u & 0x7fffffu;
  if (exp == 0xff) // Inf or NaN (keep NaN quiet and non-zero).
    return uint16_t(sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0u));
  int32_t e = int32_t(exp) - 127 + 15;
  if (e >= 0x1f) // Overflow to infinity.
    return uint16_t(sign | 0x7c00u);
  if (e <= 0) {
    // Subnormal half or zero.
    if (e < -10)
      return sign;
    uint32_t full = man | 0x800000u; // 24-bit significand.
    uint32_t shift = uint32_t(14 - e);
    uint32_t half = full >> shift;
    uint32_t rem = full & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(e) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u)))
    ++half; // May carry into the exponent, up to infinity: correct.
  return uint16_t(sign | half);
}

float bfloat16ToFloat(uint16_t b) { return bitsToFloat(uint32_t(b) << 16); }

uint16_t floatToBfloat16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet.
    return uint16_t((u >> 16) | 0x40u);
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return uint16_t(u >> 16);
}

} // namespace attn::rt
