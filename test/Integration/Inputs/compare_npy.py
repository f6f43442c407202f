"""compare_npy.py A.npy B.npy TOL: reads two C-order float32 .npy files
without NumPy and prints whether they have the same shape and every element
differs by at most TOL (and none is NaN)."""
import ast
import math
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    assert data[:6] == b"\x93NUMPY", "not an .npy file"
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        start = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    assert header["descr"] == "<f4" and not header["fortran_order"], header
    shape = tuple(header["shape"])
    count = math.prod(shape)
    begin = start + hlen
    return shape, struct.unpack("<%df" % count, data[begin:begin + 4 * count])


(shape_a, a), (shape_b, b) = read(sys.argv[1]), read(sys.argv[2])
tol = float(sys.argv[3])
if shape_a != shape_b:
    print("shapes differ: %s vs %s" % (shape_a, shape_b))
    sys.exit(1)
nan = any(math.isnan(x) for x in a + b)
diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
print("max_abs_diff=%.3g %s" % (diff, "SAME" if diff <= tol and not nan
                                 else "DIFFER"))
