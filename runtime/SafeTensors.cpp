//===- SafeTensors.cpp - Reading and writing .safetensors files -----------===//
//
// nlohmann::json parses the header; its exceptions are caught here.  The
// host is assumed little-endian, like the format (x86-64, AArch64).
//
//===----------------------------------------------------------------------===//

#include "runtime/SafeTensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace attn::rt {

using Json = nlohmann::ordered_json;

const char *safeTensorsDType(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I32:
    return "I32";
  }
  return "?";
}

namespace {

std::optional<DType> parseSafeDType(const std::string &s) {
  for (DType t : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::I32})
    if (s == safeTensorsDType(t))
      return t;
  return std::nullopt;
}

/// A tensor's entry in the header, before its data is copied.
struct Entry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

/// Reads the non-negative integer `j` (a shape extent or an offset).
bool readUnsigned(const Json &j, uint64_t &out) {
  if (!j.is_number_integer())
    return false;
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  int64_t v = j.get<int64_t>();
  if (v < 0)
    return false;
  out = uint64_t(v);
  return true;
}

Status parseEntry(const std::string &key, const Json &j, Entry &e) {
  const std::string where = "tensor '" + key + "'";
  e.name = key;
  if (key.empty())
    return Status::error("a tensor has an empty name");
  if (!j.is_object())
    return Status::error(where + ": expected an object with dtype, shape and "
                                 "data_offsets");
  auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string())
    return Status::error(where + ": dtype is missing or not a string");
  std::optional<DType> t = parseSafeDType(dtype->get<std::string>());
  if (!t)
    return Status::error(where + ": unsupported dtype '" +
                         dtype->get<std::string>() +
                         "' (supported: F16, BF16, F32, F64, I32)");
  e.dtype = *t;
  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array())
    return Status::error(where + ": shape is missing or not an array");
  for (const Json &d : *shape) {
    uint64_t v;
    if (!readUnsigned(d, v) || v > uint64_t(INT64_MAX))
      return Status::error(where + ": shape " + shape->dump() +
                           " has an entry that is not a non-negative "
                           "integer");
    e.shape.push_back(int64_t(v));
  }
  auto offsets = j.find("data_offsets");
  if (offsets == j.end() || !offsets->is_array() || offsets->size() != 2 ||
      !readUnsigned((*offsets)[0], e.begin) ||
      !readUnsigned((*offsets)[1], e.end))
    return Status::error(where + ": data_offsets must be [BEGIN, END], two "
                                 "non-negative integers");
  if (e.begin > e.end)
    return Status::error(where + ": data_offsets [" + std::to_string(e.begin) +
                         ", " + std::to_string(e.end) +
                         "] end before they "
                         "begin");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" &&
        it.key() != "data_offsets")
      return Status::error(where + ": unknown field '" + it.key() + "'");
  Result<int64_t> count = checkedElementCount(e.shape, dtypeSize(e.dtype));
  if (!count)
    return count.status().withContext(where);
  const uint64_t bytes = uint64_t(*count) * dtypeSize(e.dtype);
  if (e.end - e.begin != bytes)
    return Status::error(
        where + ": " + dtype->get<std::string>() + " " + formatShape(e.shape) +
        " needs " + std::to_string(bytes) + " bytes but data_offsets [" +
        std::to_string(e.begin) + ", " + std::to_string(e.end) + "] hold " +
        std::to_string(e.end - e.begin));
  return Status::success();
}

Status parseHeader(const Json &header, uint64_t dataSize,
                   std::vector<Entry> &entries, SafeTensors &out) {
  if (!header.is_object())
    return Status::error("the header is not a JSON object");
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object())
        return Status::error("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return Status::error("__metadata__ entry '" + m.key() +
                               "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    Entry e;
    if (Status s = parseEntry(it.key(), *it, e); !s)
      return s;
    if (e.end > dataSize)
      return Status::error(
          "tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) +
          ", " + std::to_string(e.end) + "] extend past the end of the data (" +
          std::to_string(dataSize) + " bytes)");
    entries.push_back(std::move(e));
  }
  std::vector<const Entry *> order;
  for (const Entry &e : entries)
    order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end)
      return Status::error("tensors '" + order[i - 1]->name + "' and '" +
                           order[i]->name + "' overlap (data_offsets [" +
                           std::to_string(order[i - 1]->begin) + ", " +
                           std::to_string(order[i - 1]->end) + "] and [" +
                           std::to_string(order[i]->begin) + ", " +
                           std::to_string(order[i]->end) + "])");
  return Status::success();
}

} // namespace

Result<SafeTensors> parseSafeTensors(const std::string &bytes,
                                     const std::string &name) {
  auto fail = [&](const std::string &msg) {
    return Status::error(name + ": " + msg);
  };
  if (bytes.size() < 8)
    return fail("not a safetensors file: " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | uint8_t(bytes[size_t(i)]);
  if (n > bytes.size() - 8)
    return fail("the header length " + std::to_string(n) +
                " extends past the end of the file (" +
                std::to_string(bytes.size()) + " bytes)");
  const uint64_t dataSize = bytes.size() - 8 - n;
  Json header;
  try {
    header = Json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  } catch (const std::exception &e) {
    return fail(std::string("the header is not valid JSON: ") + e.what());
  }
  SafeTensors out;
  std::vector<Entry> entries;
  try {
    if (Status s = parseHeader(header, dataSize, entries, out); !s)
      return fail(s.message());
  } catch (const std::exception &e) {
    return fail(std::string("malformed header: ") + e.what());
  }
  const char *data = bytes.data() + 8 + n;
  for (const Entry &e : entries) {
    Result<Tensor> t = Tensor::create(e.dtype, e.shape);
    if (!t)
      return fail("tensor '" + e.name + "': " + t.message());
    if (e.end > e.begin)
      std::memcpy(t->data(), data + e.begin, size_t(e.end - e.begin));
    out.tensors.emplace(e.name, t.take());
  }
  return out;
}

Result<SafeTensors> readSafeTensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::error(path + ": read error");
  return parseSafeTensors(bytes, path);
}

std::string
serializeSafeTensors(const TensorMap &tensors,
                     const std::map<std::string, std::string> &metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto &[k, v] : metadata)
      m[k] = v;
    header["__metadata__"] = m;
  }
  uint64_t offset = 0;
  std::vector<std::pair<uint64_t, const Tensor *>> placed;
  for (const auto &[name, t] : tensors) {
    offset = (offset + 7) / 8 * 8;
    Json e = Json::object();
    e["dtype"] = safeTensorsDType(t.dtype());
    e["shape"] = t.shape();
    e["data_offsets"] = {offset, offset + t.sizeInBytes()};
    header[name] = e;
    placed.emplace_back(offset, &t);
    offset += t.sizeInBytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  bytes += text;
  const size_t dataStart = bytes.size();
  bytes.resize(dataStart + offset, '\0');
  for (const auto &[at, t] : placed)
    if (t->sizeInBytes())
      std::memcpy(&bytes[dataStart + at], t->data(), t->sizeInBytes());
  return bytes;
}

Status writeSafeTensors(const std::string &path, const TensorMap &tensors,
                        const std::map<std::string, std::string> &metadata) {
  std::string bytes = serializeSafeTensors(tensors, metadata);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return Status::error(path +
                         ": cannot open for writing: " + std::strerror(errno));
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out)
    return Status::error(path + ": write error");
  return Status::success();
}

} // namespace attn::rt
