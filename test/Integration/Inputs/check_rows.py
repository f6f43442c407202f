"""check_rows.py FILE.npy BATCH VALUE: reads a C-order float32 .npy without
NumPy and says whether every element of batch BATCH equals VALUE (and that
no element anywhere is NaN)."""
import ast
import math
import struct
import sys

path, batch, value = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
data = open(path, "rb").read()
assert data[:6] == b"\x93NUMPY", "not an .npy file"
major = data[6]
hlen = struct.unpack("<H" if major == 1 else "<I", data[8:10] if major == 1 else data[8:12])[0]
start = (10 if major == 1 else 12) + hlen
header = ast.literal_eval(data[(10 if major == 1 else 12):start].decode("latin1"))
assert header["descr"] == "<f4" and not header["fortran_order"], header
shape = header["shape"]
count = math.prod(shape)
values = struct.unpack("<%df" % count, data[start:start + 4 * count])
per_batch = count // shape[0]
nan = any(math.isnan(x) for x in values)
chunk = values[batch * per_batch:(batch + 1) * per_batch]
if all(x == value for x in chunk) and not nan:
    print("batch %d: all %s, no NaN" % (batch, value))
else:
    print("batch %d: differs (nan anywhere: %s)" % (batch, nan))
