"""A negative result kept reproducible: gbm-summary plus four more feature families, in the same CV harness.

    OMP_NUM_THREADS=1 ECGSCOPE_DATA=../shared/data .venv/bin/python benchmarks/rhythm_summary_extra.py   # ~5 min

The extra 36 values per record (not in ``features.rhythm_summary``, not shipped): the median QRS
(-0.1 to +0.15 s) at 100 Hz in units of its amplitude, the relative power of five bands of the
0.5-40 Hz spectrum and its entropy, the shares of RR intervals below 85 % and above 115 % of the
median, the share of alternating successive differences, and the R-amplitude coefficient of
variation. On 2026-11-22: challenge F1 82.8 [81.6, 84.1], the same as gbm-summary alone (82.8).
Per-run report in ``runs/gbm-summary-extra``.
"""

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy.signal import welch

from ecgscope.datasets.rhythm import load_cinc2017
from ecgscope.evaluation.rhythm_protocols import cross_validate_rhythm
from ecgscope.models.rhythm.baselines import _MEMO, GBMSummary, record_features
from ecgscope.signal import find_rpeaks
from ecgscope.signal.filters import bandpass


def extra(x, fs):
    """The 36 extra values of one record (NaN where unmeasured)."""
    x = np.atleast_2d(np.asarray(x, np.float64))[0]
    x = np.nan_to_num(x)
    out = np.full(26 + 6 + 3 + 1, np.nan)
    if x.size < 2 * fs:
        return out
    r = np.unique(find_rpeaks(x, fs))
    xb = bandpass(x, fs, 0.5, min(40, 0.45 * fs))
    f, p = welch(xb, fs, nperseg=min(xb.size, int(4 * fs)))
    tot = p[(f >= 0.5) & (f <= 40)].sum()
    if tot > 0:
        bands = [(0.5, 3), (3, 8), (8, 15), (15, 25), (25, 40)]
        out[26:31] = [p[(f >= a) & (f < b)].sum() / tot for a, b in bands]
        q = p[(f >= 0.5) & (f <= 40)] / tot
        q = q[q > 0]
        out[31] = -(q * np.log(q)).sum() / np.log(q.size)
    off = np.arange(round(-0.1 * fs), round(0.15 * fs) + 1)
    rr_ok = r[(r + off[0] >= 0) & (r + off[-1] < x.size)]
    if rr_ok.size >= 3:
        seg = xb[rr_ok[:, None] + off[None]]
        seg -= np.median(seg[:, :3], 1, keepdims=True)
        tpl = np.median(seg, 0)
        amp = np.ptp(tpl)
        if amp > 1e-6:
            out[:26] = np.interp(np.linspace(-0.1, 0.15, 26), off / fs, tpl) / amp
        ra = xb[rr_ok]
        out[35] = np.std(ra) / max(abs(np.mean(ra)), 1e-6)
    rr = np.diff(r) / fs
    if rr.size >= 4:
        m = np.median(rr)
        d = np.diff(rr)
        out[32] = np.mean(rr < 0.85 * m)
        out[33] = np.mean(rr > 1.15 * m)
        out[34] = np.mean(np.sign(d[1:]) * np.sign(d[:-1]) < 0)
    return out


class GBMSummaryExtra(GBMSummary):
    """gbm-summary on the summary followed by :func:`extra`."""

    def _features(self, data, progress):
        base = record_features(data, "summary", progress)
        ext = np.stack(
            [
                _MEMO.get(np.asarray(s, np.float32), ("extra", float(data.fs)), lambda s=s: extra(s, data.fs))
                for s in data.signals
            ]
        )
        return np.c_[base, ext].astype(np.float32)


def main() -> None:
    t = time.time()
    cinc = load_cinc2017(progress=False)
    cv = cross_validate_rhythm(GBMSummaryExtra, cinc, "cinc2017", progress=False, out_dir="runs/gbm-summary-extra",
                               n_boot=1000)
    print(cv.to_markdown("gbm-summary-extra"), f"\n{time.time() - t:.0f} s")


if __name__ == "__main__":
    main()
