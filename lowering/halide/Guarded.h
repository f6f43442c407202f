//===- Guarded.h - Halide exceptions to messages ----------------*- C++ -*-===//
//
// Private to lowering/halide: Halide reports errors by throwing; the
// backend's entry points return messages instead.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_GUARDED_H
#define ATTN_LOWERING_HALIDE_GUARDED_H

#include "Halide.h"

#include <string>

namespace attn::halide {

/// Runs `fn`; returns "" or the message of what it threw.
template <typename Fn> std::string guarded(Fn &&fn) {
  try {
    fn();
  } catch (const Halide::CompileError &e) {
    return std::string("Halide compile error: ") + e.what();
  } catch (const Halide::InternalError &e) {
    return std::string("Halide internal error: ") + e.what();
  } catch (const Halide::RuntimeError &e) {
    return std::string("Halide error: ") + e.what();
  } catch (const std::exception &e) {
    return std::string("error: ") + e.what();
  }
  return "";
}

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_GUARDED_H
