"""The hot path: clock, HDR histogram, recorder and the native HTTP connection.

Import through ``engine.hotpath.native`` (the selector): it returns the Cython
extension ``engine.hotpath._native`` or, with ``PERFOPT_PURE=1``, the pure-Python twin
``engine.hotpath._pyhdr``. ``codec`` is the histogram layout and wire format both use;
``snapshot`` the per-interval snapshots both recorders keep.
"""
