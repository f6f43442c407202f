#!/usr/bin/env python3
"""Edits a .safetensors file for the weight-loading tests (stdlib only).

edit_safetensors.py IN OUT drop NAME        remove tensor NAME
edit_safetensors.py IN OUT add NAME         add an extra f32 tensor [2]
edit_safetensors.py IN OUT reshape NAME     flip the shape of a 2-D tensor
edit_safetensors.py IN OUT scale NAME F     multiply an F32 tensor by F
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    return header, data[8 + n:]


def write(path, header, blobs):
    out = {k: v for k, v in header.items() if k == "__metadata__"}
    body = b""
    for name, (dtype, shape, blob) in blobs.items():
        out[name] = {"dtype": dtype, "shape": shape,
                     "data_offsets": [len(body), len(body) + len(blob)]}
        body += blob
    text = json.dumps(out).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def main():
    src, dst, action, name = sys.argv[1:5]
    header, data = read(src)
    blobs = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        blobs[k] = (v["dtype"], v["shape"], data[b:e])
    if name not in blobs and action != "add":
        sys.exit("no tensor " + name)
    if action == "drop":
        del blobs[name]
    elif action == "add":
        blobs[name] = ("F32", [2], struct.pack("<2f", 1.0, 2.0))
    elif action == "reshape":
        dtype, shape, blob = blobs[name]
        blobs[name] = (dtype, shape[::-1] + [1], blob)
    elif action == "scale":
        dtype, shape, blob = blobs[name]
        n = len(blob) // 4
        values = struct.unpack("<%df" % n, blob)
        factor = float(sys.argv[5])
        blobs[name] = (dtype, shape,
                       struct.pack("<%df" % n, *[x * factor for x in values]))
    write(dst, header, blobs)


if __name__ == "__main__":
    main()
