"""Time-domain and geometric HRV indices (Task Force of the ESC and NASPE, Circulation 93(5), 1996)."""

from __future__ import annotations

import numpy as np

from .clean import NNSeries

__all__ = ["time_indices", "HISTOGRAM_BIN_MS"]

#: Histogram bin of the triangular index and TINN: 1/128 s (Task Force).
HISTOGRAM_BIN_MS = 1000.0 / 128.0
_SEGMENT_S = 300.0


def _tinn(nn: np.ndarray, bin_ms: float) -> float:
    """Baseline width (ms) of the least-squares triangle fitted to the NN histogram (Task Force)."""
    edges = np.arange(nn.min(), nn.max() + bin_ms, bin_ms)
    if edges.size < 3:
        return float("nan")
    counts, edges = np.histogram(nn, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    x = int(np.argmax(counts))
    y = float(counts[x])
    n_idx = np.arange(0, x + 1)  # candidate left feet
    m_idx = np.arange(x, centres.size)  # candidate right feet
    pos = np.arange(centres.size)[None, None, :]
    nn_ = n_idx[:, None, None]
    mm_ = m_idx[None, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.where(x > nn_, (pos - nn_) / np.maximum(x - nn_, 1) * y, y)
        right = np.where(mm_ > x, (mm_ - pos) / np.maximum(mm_ - x, 1) * y, y)
    tri = np.where(pos <= x, left, right)
    tri = np.where((pos < nn_) | (pos > mm_), 0.0, np.clip(tri, 0.0, None))
    err = ((counts[None, None, :] - tri) ** 2).sum(axis=2)
    i, j = np.unravel_index(np.argmin(err), err.shape)
    return float(centres[m_idx[j]] - centres[n_idx[i]])


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
