# Cython finds the declarations of module engine._native under its dotted name; they live in
# _native.pxd (the name other Cython code cimports), included here verbatim.
include "_native.pxd"
