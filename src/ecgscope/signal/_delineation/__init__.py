"""Private parts of :mod:`ecgscope.signal.delineation`: wavelet transform, row searches, wave rules."""
