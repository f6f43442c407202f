//===- ManifestJson.h - JSON field helpers of the manifest parser -*- C++
//-*-===//
//
// Internal to the runtime (included by Manifest.cpp and ManifestArch.cpp
// only): reading typed members of nlohmann::json objects into Status-returning
// results whose messages name the field, e.g. "kernels[0].name: missing".
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_MANIFESTJSON_H
#define ATTN_RUNTIME_MANIFESTJSON_H

#include "runtime/Manifest.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace attn::rt::manifest {

using Json = nlohmann::ordered_json;

/// "null", "a boolean", "a number", "a string", "an array" or "an object".
const char *jsonTypeName(const Json &j);

/// True when `j` is an integer that fits in int64_t.
bool isInt64(const Json &j);

/// The error "FIELD: MSG".
Status fieldError(const std::string &field, const std::string &msg);

/// An error "FIELD: expected WANT, found ..." unless `ok`.
Status expectType(const Json &j, const std::string &field, bool ok,
                  const char *want);

/// Reads a required string member.
Status getString(const Json &obj, const std::string &key,
                 const std::string &field, std::string &out);

/// Reads an optional string member (absent or null leaves `out` unchanged).
Status getOptionalString(const Json &obj, const std::string &key,
                         const std::string &field, std::string &out);

/// Reads a number member: `required` makes absence (or null) an error;
/// otherwise absence leaves `out` unchanged.  NaN and infinities are errors.
Status getNumber(const Json &obj, const std::string &key,
                 const std::string &field, bool required, double &out);

/// The fixed value of shape entry `e` (a literal, or a dim with a fixed
/// value); std::nullopt when symbolic.
std::optional<int64_t> fixedExtent(const KernelSpec &kernel,
                                   const ShapeEntry &e);

/// Parses the fields of a "block" reference (docs/Architectures.md §2 and
/// §4) after `kind` into `ref.ops`; `ref.out` becomes the kernel's first
/// output argument.  Defined in ManifestArch.cpp.
Status parseBlockReference(const Json &j, const std::string &field,
                           const KernelSpec &kernel, ReferenceSpec &ref);

/// Parses the optional top-level `archs` array into `m.archs`, checking each
/// call against the kernels already in `m`.  Defined in ManifestArch.cpp.
Status parseArchs(const Json &top, Manifest &m);

} // namespace attn::rt::manifest

#endif // ATTN_RUNTIME_MANIFESTJSON_H
