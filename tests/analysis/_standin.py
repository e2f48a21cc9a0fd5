"""TEST-ONLY STAND-IN beat classifier: copies the simulator's ground-truth labels.

It is *not* a model: it lets the pipeline tests check ectopy, rhythm and
report logic deterministically while the shipped beat model is absent. The
real classifier is tested where its assertions say so (skipped until
``src/ecgscope/models/pretrained/beats-default`` exists).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_AAMI = {"N": "N", "V": "V", "A": "S"}


def truth_standin(record, rpeaks) -> pd.DataFrame:
    """Label each beat with the nearest ``atr`` beat of the (cropped) record."""
    atr = record.annotations["atr"]
    beat = np.isin(atr.symbol.astype(str), list(_AAMI))
    s, sym = atr.sample[beat], atr.symbol[beat].astype(str)
    r = np.asarray(rpeaks, np.int64)
    if s.size == 0:
        return pd.DataFrame({"sample": r, "label": ["Q"] * r.size})
    j = np.clip(np.searchsorted(s, r), 1, max(s.size - 1, 1)) if s.size > 1 else np.zeros(r.size, int)
    near = np.where(np.abs(s[j - 1] - r) < np.abs(s[j] - r), j - 1, j) if s.size > 1 else j
    labels = np.array([_AAMI[x] for x in sym[near]], dtype=object)
    frame = pd.DataFrame({"sample": r, "label": labels})
    for c in ("N", "S", "V", "F", "Q"):
        frame[f"p_{c}"] = np.where(labels == c, 0.9, 0.025)
    return frame
