"""Private parts of :mod:`ecgscope.signal.heart_rate_variability`: NN cleaning, time, frequency and non-linear indices."""
