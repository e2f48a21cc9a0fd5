"""Canonical ECG lead names and the aliases found in real files."""

from __future__ import annotations

import re

__all__ = ["STANDARD_LEADS", "canonical_lead_name", "canonical_lead_names"]

#: The twelve standard leads in their conventional order.
STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)

_BY_KEY = {name.lower(): name for name in STANDARD_LEADS}
# Aliases seen in PhysioNet headers, device exports and European notation.
_ALIASES = {
    "mli": "I", "mlii": "II", "mliii": "III",
    "di": "I", "dii": "II", "diii": "III",
    "d1": "I", "d2": "II", "d3": "III",
    "avr": "aVR", "avl": "aVL", "avf": "aVF",
    "-avr": "-aVR",
}
_NOISE = re.compile(r"^(lead[\s_\-:]*|(ecg|ekg)[\s_\-:]+)", re.IGNORECASE)


def canonical_lead_name(name: str) -> str:
    """Map a lead name to its canonical spelling (``"MLII"`` -> ``"II"``).

    Matching ignores case, spaces and common prefixes such as ``"Lead "``.
    Names that are not a known lead are returned stripped but otherwise
    unchanged (``"ECG1"``, ``"CM5"``), so nothing is silently renamed.
    """
    text = str(name).strip()
    key = _NOISE.sub("", text).replace(" ", "").replace("_", "").lower()
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("ml") and key[2:] in _BY_KEY:  # "ML V1" style
        return _BY_KEY[key[2:]]
    return text


def canonical_lead_names(names) -> list[str]:
    """Canonicalise a sequence of names; duplicates get ``#2``, ``#3`` suffixes."""
    out: list[str] = []
    for name in names:
        canon = canonical_lead_name(name)
        candidate, k = canon, 1
        while candidate in out:
            k += 1
            candidate = f"{canon}#{k}"
        out.append(candidate)
    return out
