//===- Half.h - IEEE half and bfloat16 conversions --------------*- C++ -*-===//
//
// Bit-exact conversions between float and the 16-bit float formats, rounding
// to nearest even.  NaN stays NaN, infinities and subnormals are preserved.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_HALF_H
#define ATTN_RUNTIME_HALF_H

#include <cstdint>

namespace attn::rt {

/// Converts IEEE binary16 bits to float (exact).
float halfToFloat(uint16_t bits);
/// Converts a float to IEEE binary16 bits, rounding to nearest even.
uint16_t floatToHalf(float value);
/// Converts bfloat16 bits to float (exact).
float bfloat16ToFloat(uint16_t bits);
/// Converts a float to bfloat16 bits, rounding to nearest even.
uint16_t floatToBfloat16(float value);

} // namespace attn::rt

#endif // ATTN_RUNTIME_HALF_H
