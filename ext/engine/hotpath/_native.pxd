# Cython looks for the declarations of module engine.hotpath._native at <pyx dir>/engine/hotpath/_native.pxd.
# They live in ext/_native.pxd (beside the .pyx they describe), included here verbatim.
include "../../_native.pxd"
