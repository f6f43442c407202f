//===- Npy.cpp - NumPy .npy file reading and writing ----------------------===//
//
// Format (numpy/lib/format.py documentation): magic "\x93NUMPY", major and
// minor version bytes, a little-endian header length (2 bytes in v1, 4 in
// v2/v3), then a Python dict literal with keys 'descr', 'fortran_order' and
// 'shape', padded with spaces and ending in '\n', then the raw data.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"

#include "runtime/Half.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

namespace attn::rt {

namespace {

const char kMagic[] = "\x93NUMPY";
const size_t kMagicLen = 6;

/// One parsed value of the header dict.
struct HeaderValue {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string str;
  bool boolean = false;
  std::vector<int64_t> tuple;
};

/// Recursive-descent parser for the Python literal subset used in headers.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  /// dict ::= '{' (string ':' value (',' string ':' value)* ','?)? '}'
  Status parse(std::map<std::string, HeaderValue> &out) {
    skipSpace();
    if (!consume('{'))
      return fail("expected '{' to open the header dictionary");
    skipSpace();
    while (!peek('}')) {
      std::string key;
      if (Status s = parseString(key); !s)
        return s;
      if (out.count(key))
        return fail("duplicate key '" + key + "'");
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + key + "'");
      HeaderValue value;
      if (Status s = parseValue(key, value); !s)
        return s;
      out[key] = std::move(value);
      skipSpace();
      if (consume(',')) {
        skipSpace();
        continue;
      }
      if (!peek('}'))
        return fail("expected ',' or '}' after the value of '" + key + "'");
    }
    consume('}');
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the header dictionary");
    return Status::success();
  }

private:
  Status fail(const std::string &msg) const {
    std::string shown = text.size() > 120 ? text.substr(0, 120) + "..." : text;
    return Status::error("malformed header: " + msg + " (at character " +
                         std::to_string(pos) + " of \"" + shown + "\")");
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool peek(char c) const { return pos < text.size() && text[pos] == c; }
  bool consume(char c) {
    if (!peek(c))
      return false;
    ++pos;
    return true;
  }

  Status parseString(std::string &out) {
    if (!peek('\'') && !peek('"'))
      return fail("expected a quoted string");
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return fail("unterminated string");
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return Status::success();
  }

  Status parseInt(int64_t &out) {
    size_t start = pos;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos])))
      ++pos;
    if (start == pos)
      return fail("expected a non-negative integer in the shape");
    out = 0;
    for (size_t i = start; i < pos; ++i) {
      if (__builtin_mul_overflow(out, int64_t(10), &out) ||
          __builtin_add_overflow(out, int64_t(text[i] - '0'), &out))
        return fail("shape extent does not fit in 64 bits");
    }
    consume('L'); // Python 2 long suffix.
    return Status::success();
  }

  Status parseValue(const std::string &key, HeaderValue &value) {
    skipSpace();
    if (peek('\'') || peek('"')) {
      value.kind = HeaderValue::String;
      return parseString(value.str);
    }
    if (text.compare(pos, 4, "True") == 0) {
      pos += 4;
      value.kind = HeaderValue::Bool;
      value.boolean = true;
      return Status::success();
    }
    if (text.compare(pos, 5, "False") == 0) {
      pos += 5;
      value.kind = HeaderValue::Bool;
      value.boolean = false;
      return Status::success();
    }
    if (consume('(')) {
      value.kind = HeaderValue::Tuple;
      skipSpace();
      while (!peek(')')) {
        int64_t v;
        if (Status s = parseInt(v); !s)
          return s;
        value.tuple.push_back(v);
        skipSpace();
        if (consume(',')) {
          skipSpace();
          continue;
        }
        if (!peek(')'))
          return fail("expected ',' or ')' in the shape tuple");
      }
      consume(')');
      return Status::success();
    }
    return fail("unsupported value for key '" + key + "'");
  }

  const std::string &text;
  size_t pos = 0;
};

std::optional<DType> dtypeFromDescr(const std::string &descr) {
  if (descr == "<f2")
    return DType::F16;
  if (descr == "<f4")
    return DType::F32;
  if (descr == "<f8")
    return DType::F64;
  if (descr == "<i4")
    return DType::I32;
  return std::nullopt;
}

const char *descrFor(DType t) {
  switch (t) {
  case DType::F16:
    return "<f2";
  case DType::BF16: // Written as f32.
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  }
  return "<f4";
}

uint32_t readLE(const std::string &bytes, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= uint32_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

Result<Tensor> parseNpyImpl(const std::string &bytes) {
  if (bytes.size() < kMagicLen ||
      bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    return Status::error(
        "not a NumPy .npy file (missing the \\x93NUMPY magic)");
  if (bytes.size() < kMagicLen + 2)
    return Status::error("truncated: the file ends inside the version field");
  int major = static_cast<unsigned char>(bytes[6]);
  int minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    return Status::error("unsupported .npy format version " +
                         std::to_string(major) + "." + std::to_string(minor) +
                         " (supported: 1.0, 2.0, 3.0)");
  size_t lenBytes = major == 1 ? 2 : 4;
  size_t prefix = kMagicLen + 2 + lenBytes;
  if (bytes.size() < prefix)
    return Status::error("truncated: the file ends inside the header length");
  size_t headerLen = readLE(bytes, kMagicLen + 2, lenBytes);
  if (bytes.size() - prefix < headerLen)
    return Status::error("truncated: the header says " +
                         std::to_string(headerLen) + " bytes but only " +
                         std::to_string(bytes.size() - prefix) + " follow");
  std::string header = bytes.substr(prefix, headerLen);
  if (major < 3) {
    for (char c : header)
      if (static_cast<unsigned char>(c) >= 0x80)
        return Status::error("malformed header: non-ASCII byte in a version " +
                             std::to_string(major) + ".0 header");
  }

  std::map<std::string, HeaderValue> dict;
  if (Status s = HeaderParser(header).parse(dict); !s)
    return s;
  for (const char *key : {"descr", "fortran_order", "shape"})
    if (!dict.count(key))
      return Status::error(std::string("malformed header: missing key '") +
                           key + "'");
  for (const auto &entry : dict)
    if (entry.first != "descr" && entry.first != "fortran_order" &&
        entry.first != "shape")
      return Status::error("malformed header: unexpected key '" + entry.first +
                           "'");

  const HeaderValue &descr = dict["descr"];
  if (descr.kind != HeaderValue::String)
    return Status::error("malformed header: 'descr' must be a string "
                         "(structured dtypes are not supported)");
  std::optional<DType> dtype = dtypeFromDescr(descr.str);
  if (!dtype) {
    if (!descr.str.empty() && descr.str[0] == '>')
      return Status::error("big-endian data ('" + descr.str +
                           "') is not supported; convert with "
                           "a.astype(a.dtype.newbyteorder('<'))");
    return Status::error("unsupported dtype '" + descr.str +
                         "' (supported: <f2, <f4, <f8, <i4)");
  }
  const HeaderValue &fortran = dict["fortran_order"];
  if (fortran.kind != HeaderValue::Bool)
    return Status::error(
        "malformed header: 'fortran_order' must be True or False");
  if (fortran.boolean)
    return Status::error("Fortran-order arrays are not supported; save "
                         "np.ascontiguousarray(a) instead");
  const HeaderValue &shape = dict["shape"];
  if (shape.kind != HeaderValue::Tuple)
    return Status::error(
        "malformed header: 'shape' must be a tuple of integers");

  Result<int64_t> count = checkedElementCount(shape.tuple, dtypeSize(*dtype));
  if (!count)
    return count.status();
  size_t want = size_t(*count) * dtypeSize(*dtype);
  size_t have = bytes.size() - prefix - headerLen;
  if (have < want)
    return Status::error("truncated data: shape " + formatShape(shape.tuple) +
                         " of '" + descr.str + "' needs " +
                         std::to_string(want) + " bytes but the file has " +
                         std::to_string(have));
  if (have > want)
    return Status::error("unexpected " + std::to_string(have - want) +
                         " trailing bytes after the " + std::to_string(want) +
                         " bytes of data for shape " +
                         formatShape(shape.tuple));

  Result<Tensor> tensor = Tensor::create(*dtype, shape.tuple);
  if (!tensor)
    return tensor.status();
  if (want)
    std::memcpy(tensor->data(), bytes.data() + prefix + headerLen, want);
  return tensor;
}

} // namespace

Result<Tensor> parseNpy(const std::string &bytes, const std::string &name) {
  Result<Tensor> t = parseNpyImpl(bytes);
  if (!t)
    return Status::error(name + ": " + t.message());
  return t;
}

Result<Tensor> readNpy(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::error(path + ": is a directory, not an .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open file: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::error(path + ": read error");
  return parseNpy(bytes, path);
}

std::string serializeNpy(const Tensor &tensor) {
  std::ostringstream dict;
  dict << "{'descr': '" << descrFor(tensor.dtype())
       << "', 'fortran_order': False, 'shape': (";
  const std::vector<int64_t> &shape = tensor.shape();
  for (size_t i = 0; i < shape.size(); ++i)
    dict << (i ? ", " : "") << shape[i];
  dict << (shape.size() == 1 ? ",)" : ")");
  dict << ", }";
  std::string header = dict.str();

  // Pad so that the data starts at a multiple of 64 bytes, ending in '\n'.
  size_t lenBytes = 2;
  int major = 1;
  if (kMagicLen + 2 + 2 + header.size() + 1 > 65535) {
    lenBytes = 4;
    major = 2;
  }
  size_t total = kMagicLen + 2 + lenBytes + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');

  std::string out(kMagic, kMagicLen);
  out.push_back(char(major));
  out.push_back(0);
  for (size_t i = 0; i < lenBytes; ++i)
    out.push_back(char((header.size() >> (8 * i)) & 0xff));
  out += header;

  if (tensor.dtype() == DType::BF16) {
    std::string data(size_t(tensor.numElements()) * 4, '\0');
    for (int64_t i = 0; i < tensor.numElements(); ++i) {
      float f = float(tensor.getDouble(i));
      std::memcpy(&data[size_t(i) * 4], &f, 4);
    }
    out += data;
  } else if (tensor.sizeInBytes()) {
    out.append(static_cast<const char *>(tensor.data()), tensor.sizeInBytes());
  }
  return out;
}

Status writeNpy(const std::string &path, const Tensor &tensor) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return Status::error(path +
                         ": cannot open for writing: " + std::strerror(errno));
  std::string bytes = serializeNpy(tensor);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out)
    return Status::error(path + ": write failed");
  return Status::success();
}

} // namespace attn::rt
