"""R-peak detectors, one module per method; each defines ``detect(x, fs) -> (positions, confidence)``.

``x`` is a prepared float64 ``(leads, samples)`` array (see ``_common.prepare_signal``);
use :func:`ecgscope.signal.find_rpeaks` rather than these modules directly.
"""
