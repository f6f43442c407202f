"""delta_weights.py OUT.npy H K: writes float32 [H, H, K, K] weights that
select the same head with a centred delta kernel (w[i, i, K//2, K//2] = 1,
every other entry 0), as a C-order .npy without NumPy: emha's ISI and CSI
then reduce it to multi-head attention (spec §6.12)."""
import struct
import sys

path, heads, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
values = [0.0] * (heads * heads * size * size)
for i in range(heads):
    values[((i * heads + i) * size + size // 2) * size + size // 2] = 1.0
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }" % (
    heads, heads, size, size)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
    f.write(header.encode("latin1"))
    f.write(struct.pack("<%df" % len(values), *values))
