"""Time-domain and geometric HRV indices (Task Force of the ESC and NASPE, Circulation 93(5), 1996)."""

from __future__ import annotations

import numpy as np

from .clean import NNSeries

__all__ = ["time_indices", "HISTOGRAM_BIN_MS"]

#: Histogram bin of the triangular index and TINN: 1/128 s (Task Force).
HISTOGRAM_BIN_MS = 1000.0 / 128.0
_SEGMENT_S = 300.0


def _tinn(nn: np.ndarray, bin_ms: float) -> float:
    """Baseline width (ms) of the least-squares triangle fitted to the NN histogram (Task Force).

    The triangle rises from a left foot ``n`` to the histogram's mode and falls to a right foot ``m``; its
    squared error splits into a part that depends on ``n`` only (bins up to the mode) and one that depends
    on ``m`` only (bins after it), so each foot is chosen on its own: O(bins²), not O(bins³).
    Of equally good triangles the narrowest-from-the-left is taken (leftmost left foot, then nearest right).
    """
    edges = np.arange(nn.min(), nn.max() + bin_ms, bin_ms)
    if edges.size < 3:
        return float("nan")
    counts, edges = np.histogram(nn, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    c = counts.astype(np.float64)
    x = int(np.argmax(c))
    y = c[x]
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.arange(x + 1)[:, None]  # candidate left feet; bins 0..x
        pos = np.arange(x + 1)[None, :]
        left = np.where(pos < n, 0.0, np.where(x > n, (pos - n) / np.maximum(x - n, 1) * y, y))
        m = np.arange(x, c.size)[:, None]  # candidate right feet; bins x+1..
        pos = np.arange(x + 1, c.size)[None, :]
        right = np.where(pos > m, 0.0, (m - pos) / np.maximum(m - x, 1) * y)
    i = _first_minimum(((c[None, :x + 1] - left) ** 2).sum(axis=1))
    j = _first_minimum(((c[None, x + 1:] - right) ** 2).sum(axis=1))
    return float(centres[x + j] - centres[i])


def _first_minimum(err: np.ndarray) -> int:
    """Index of the first value equal to the minimum up to rounding (triangles that fit equally well: the
    leftmost left foot, the nearest right foot)."""
    return int(np.argmax(err <= err.min() * (1 + 1e-9) + 1e-9))


def time_indices(series: NNSeries, tinn: bool = True) -> dict[str, float]:
    """Time-domain indices of a cleaned NN series (ms, %, bpm).

    MeanNN, SDNN (ddof=1), RMSSD and SDSD over successive pairs, NN50/NN20 and
    pNN50/pNN20 (percent of all NN intervals, Task Force), MedianNN, CVNN,
    CVSD, MeanHR/SDHR/MinHR/MaxHR, HTI (triangular index, 1/128-s bins), TINN
    and, for recordings of at least two 5-minute segments, SDANN and SDNNI.
    """
    nn = series.nn
    nan = float("nan")
    out: dict[str, float] = {"N": float(nn.size)}
    if nn.size < 2:
        return out | {k: nan for k in ("MeanNN", "SDNN", "RMSSD", "SDSD", "pNN50", "pNN20", "MeanHR")}
    d = series.successive_diff
    hr = 60000.0 / nn
    out["MeanNN"] = float(nn.mean())
    out["SDNN"] = float(nn.std(ddof=1))
    out["RMSSD"] = float(np.sqrt(np.mean(d**2))) if d.size else nan
    out["SDSD"] = float(d.std(ddof=1)) if d.size > 1 else nan
    out["NN50"] = float(np.sum(np.abs(d) > 50))
    out["NN20"] = float(np.sum(np.abs(d) > 20))
    out["pNN50"] = 100.0 * out["NN50"] / nn.size
    out["pNN20"] = 100.0 * out["NN20"] / nn.size
    out["MedianNN"] = float(np.median(nn))
    out["CVNN"] = out["SDNN"] / out["MeanNN"]
    out["CVSD"] = out["RMSSD"] / out["MeanNN"]
    out["MeanHR"] = float(hr.mean())
    out["SDHR"] = float(hr.std(ddof=1))
    out["MinHR"] = float(hr.min())
    out["MaxHR"] = float(hr.max())
    counts, _ = np.histogram(nn, bins=np.arange(nn.min(), nn.max() + HISTOGRAM_BIN_MS, HISTOGRAM_BIN_MS))
    out["HTI"] = float(nn.size / counts.max()) if counts.size and counts.max() else nan
    out["TINN"] = _tinn(nn, HISTOGRAM_BIN_MS) if tinn else nan
    span = float(series.time[-1] - series.time[0])
    full = int(span // _SEGMENT_S)  # complete 5-minute segments
    if full >= 2:
        seg = np.floor((series.time - series.time[0]) / _SEGMENT_S).astype(np.int64)
        inside = seg < full
        cnt = np.bincount(seg[inside], minlength=full).astype(float)
        s1 = np.bincount(seg[inside], weights=nn[inside], minlength=full)
        s2 = np.bincount(seg[inside], weights=nn[inside] ** 2, minlength=full)
        ok = cnt >= 2
        means = s1[ok] / cnt[ok]
        sds = np.sqrt(np.maximum(s2[ok] - cnt[ok] * means**2, 0.0) / (cnt[ok] - 1))
        out["SDANN"] = float(means.std(ddof=1)) if means.size > 1 else nan
        out["SDNNI"] = float(sds.mean()) if sds.size else nan
    else:
        out["SDANN"] = out["SDNNI"] = nan
    return out
