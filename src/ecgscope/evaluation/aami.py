"""AAMI EC57 beat-classification report: gross and average statistics with record-bootstrap CIs.

ANSI/AAMI EC57:2012 (*Testing and reporting performance results of cardiac
rhythm and ST segment measurement algorithms*) scores beat labels per class
(N, S, V, F; Q usually left out) with sensitivity ``Se``, positive
predictivity ``+P``, false positive rate ``FPR`` (and here also specificity
and F1), summarised two ways over the records of a test set (e.g. MIT-BIH
DS2, de Chazal et al. 2004):

* **gross** -- from the pooled counts of all beats;
* **average** -- the mean over records of the per-record values, leaving out
  the records where a value is undefined (no reference beat of the class for
  ``Se`` and ``F1``, no beat predicted as the class for ``+P``).

The report adds overall accuracy, macro-F1 over N/S/V and N/S/V/F, the
confusion matrix (rows = reference, columns = prediction), one-vs-rest ROC/PR
curves with AUROC/AUPRC and a reliability diagram when probabilities are
given, and 95 % percentile bootstrap intervals for every gross statistic and
macro-F1, resampling **records** (all beats of a drawn record together), see
:mod:`ecgscope.evaluation.bootstrap`.

All values are fractions in ``[0, 1]``; the Markdown and LaTeX renderings
show percentages (AUROC/AUPRC as fractions). Undefined values are NaN in
Python, ``null`` in JSON and ``n/a`` in text.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Sequence

import numpy as np

from . import report_io as rio
from .bootstrap import check_bootstrap_args, confusion_bootstrap, group_index
from .classification import (
    COUNTS,
    RATES,
    ClassCurves,
    LabelError,
    ReliabilityBins,
    check_classes,
    check_proba,
    confusion_matrix,
    encode_labels,
    macro_mean,
    metrics_from_confusion,
    reliability_bins,
    roc_pr_curves,
)

__all__ = ["AAMIReport", "aami_report", "MACRO_SUBSETS"]

#: Macro-F1 subsets reported when all their classes are scored.
MACRO_SUBSETS: dict[str, tuple[str, ...]] = {"N/S/V": ("N", "S", "V"), "N/S/V/F": ("N", "S", "V", "F")}

_LABELS = {"se": "Se", "ppv": "+P", "fpr": "FPR", "spec": "Spec", "f1": "F1"}
#: Decimals shown per metric in %, default 1 (false positive rates are small: 2).
_DIGITS = {"fpr": 2}
_FORMAT_VERSION = 1


def _ci_key(subset: str) -> str:
    return f"macro_f1:{subset}"


@dataclass
class AAMIReport:
    """Result of :func:`aami_report` (fractions; NaN = undefined).

    Attributes:
        classes: scored class names, in order.
        record_ids: the records (sorted identifiers).
        record_confusion: ``(records, K, K)`` confusion matrix of every record.
        confusion: ``(K, K)`` pooled confusion matrix, rows = reference, columns = prediction.
        gross: ``tp fp fn tn support se ppv fpr spec f1`` -> ``(K,)`` from pooled counts.
        average: ``se ppv fpr spec f1`` -> ``(K,)`` means over records where defined,
            and ``n_se`` ... ``n_f1`` -> ``(K,)`` number of records in each mean.
        accuracy: fraction of beats labelled correctly (pooled).
        macro_f1: subset name (``"N/S/V"``) -> mean gross F1 over the subset.
        ci: ``se ppv fpr spec f1`` -> ``(K, 2)``, ``accuracy`` and ``macro_f1:<subset>``
            -> ``(2,)``: ``[low, high]`` bootstrap bounds (NaN when ``n_boot == 0``).
        ci_defined: same keys -> number of resamples in which the statistic was defined.
        n_boot, ci_level, seed: bootstrap settings.
        curves: class -> one-vs-rest ROC/PR curves (with ``proba`` only).
        calibration: reliability bins and ECE (with ``proba`` only).
    """

    classes: tuple[str, ...]
    record_ids: tuple[str, ...]
    record_confusion: np.ndarray
    confusion: np.ndarray
    gross: dict[str, np.ndarray]
    average: dict[str, np.ndarray]
    accuracy: float
    macro_f1: dict[str, float]
    ci: dict[str, np.ndarray]
    ci_defined: dict[str, np.ndarray]
    n_boot: int
    ci_level: float
    seed: int | None
    curves: dict[str, ClassCurves] | None = None
    calibration: ReliabilityBins | None = None

    # ----------------------------------------------------------------- basics
    @property
    def n_beats(self) -> int:
        """Number of scored beats."""
        return int(self.confusion.sum())

    @property
    def n_records(self) -> int:
        """Number of records."""
        return len(self.record_ids)

    def table(self, kind: str = "gross"):
        """Per-class ``gross`` or ``average`` statistics as a pandas DataFrame indexed by class."""
        import pandas as pd

        if kind not in ("gross", "average"):
            raise LabelError(f"kind={kind!r} is not a table of the report", fix="pass 'gross' or 'average'")
        return pd.DataFrame(getattr(self, kind), index=pd.Index(self.classes, name="class"))

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """JSON-safe dict of the whole report (NaN -> ``None``); :meth:`from_dict` inverts it."""
        def per_class(table: dict) -> dict:
            return {m: dict(zip(self.classes, np.asarray(v).tolist())) for m, v in table.items()}

        ci = {k: (dict(zip(self.classes, v.tolist())) if v.ndim == 2 else v) for k, v in self.ci.items()}
        defined = {k: (dict(zip(self.classes, np.asarray(v).tolist())) if np.ndim(v) else v)
                   for k, v in self.ci_defined.items()}
        return rio.to_jsonable({
            "report": "aami_ec57_beat_classification",
            "format_version": _FORMAT_VERSION,
            "classes": list(self.classes),
            "n_beats": self.n_beats,
            "n_records": self.n_records,
            "bootstrap": {"n_boot": self.n_boot, "ci_level": self.ci_level, "seed": self.seed,
                          "method": "percentile; records resampled with replacement"},
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "gross": per_class(self.gross),
            "average": per_class(self.average),
            "ci": ci,
            "ci_defined": defined,
            "confusion": {"rows": "reference", "columns": "prediction", "matrix": self.confusion},
            "record_confusion": dict(zip(self.record_ids, self.record_confusion.tolist())),
            "curves": None if self.curves is None else {c: v.to_dict() for c, v in self.curves.items()},
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
        })

    @classmethod
    def from_dict(cls, d: dict) -> "AAMIReport":
        """Rebuild a report from :meth:`to_dict` output (e.g. a loaded ``report.json``)."""
        if d.get("report") != "aami_ec57_beat_classification":
            raise LabelError("the dict is not an AAMI report (no 'report': 'aami_ec57_beat_classification')",
                             fix="pass the content of a report.json written by AAMIReport.save")
        classes = tuple(d["classes"])

        def num(v):
            return np.nan if v is None else v

        def per_class(table: dict) -> dict[str, np.ndarray]:
            out = {}
            for m, v in table.items():
                vals = [num(v[c]) for c in classes]
                integer = m in (*COUNTS, "support") or m.startswith("n_")
                out[m] = np.asarray(vals, np.int64 if integer else np.float64)
            return out

        ci = {k: (np.asarray([[num(x) for x in v[c]] for c in classes], np.float64) if isinstance(v, dict)
                  else np.asarray([num(x) for x in v], np.float64)) for k, v in d["ci"].items()}
        ci_defined = {k: (np.asarray([v[c] for c in classes], np.int64) if isinstance(v, dict) else int(v))
                      for k, v in d["ci_defined"].items()}
        boot = d["bootstrap"]
        k = len(classes)
        curves = d.get("curves")
        return cls(
            classes=classes,
            record_ids=tuple(d["record_confusion"]),
            record_confusion=np.asarray(list(d["record_confusion"].values()), np.int64).reshape(-1, k, k),
            confusion=np.asarray(d["confusion"]["matrix"], np.int64),
            gross=per_class(d["gross"]), average=per_class(d["average"]),
            accuracy=float(num(d["accuracy"])),
            macro_f1={name: float(num(v)) for name, v in d["macro_f1"].items()},
            ci=ci, ci_defined=ci_defined,
            n_boot=int(boot["n_boot"]), ci_level=float(boot["ci_level"]), seed=boot["seed"],
            curves=None if curves is None else {c: ClassCurves.from_dict(v) for c, v in curves.items()},
            calibration=None if d.get("calibration") is None else ReliabilityBins.from_dict(d["calibration"]),
        )

    # ----------------------------------------------------------------- text
    def _cell(self, metric: str, k: int) -> str:
        ci = self.ci[metric][k]
        return rio.format_ci(self.gross[metric][k], ci[0], ci[1], digits=_DIGITS.get(metric, 1))

    def _overall(self) -> list[tuple[str, str]]:
        rows = [("Accuracy", rio.format_ci(self.accuracy, *self.ci["accuracy"]))]
        rows += [(f"Macro-F1 ({name})", rio.format_ci(v, *self.ci[_ci_key(name)]))
                 for name, v in self.macro_f1.items()]
        return rows

    def _summary(self) -> str:
        ci = (f"{100 * self.ci_level:g} % CIs: percentile bootstrap over records ({self.n_boot} resamples "
              f"with replacement, seed {self.seed})" if self.n_boot else "no confidence intervals (n_boot=0)")
        return (f"{self.n_beats:,} beats from {self.n_records} records; classes {', '.join(self.classes)}. "
                f"Values in %. {ci}.")

    def _notes(self) -> list[str]:
        notes = ["n/a: undefined (zero denominator, e.g. a class absent from the reference)."]
        if self.n_boot and self.n_records < 2:
            notes.append("Only one record: bootstrap intervals over records are degenerate.")
        for key, n_def in self.ci_defined.items():
            arr = np.atleast_1d(n_def)
            partial = (arr > 0) & (arr < self.n_boot)
            if partial.any():
                what = _LABELS.get(key, key.replace("macro_f1:", "Macro-F1 "))
                if arr.size > 1:
                    what += " of " + ", ".join(np.asarray(self.classes)[partial].tolist())
                notes.append(f"The interval of {what} uses only the resamples in which it is defined "
                             f"(at least {int(arr[partial].min())} of {self.n_boot}).")
        return notes

    def to_markdown(self) -> str:
        """The report as Markdown: gross and average tables, overall scores, confusion matrix, AUCs."""
        out = ["# AAMI EC57 beat classification report", "", self._summary(), "",
               "## Gross statistics (pooled beats)", ""]
        head = ["Class", "Beats", "TP", "FP", "FN", "TN", *(f"{_LABELS[m]} (%)" for m in RATES)]
        rows = [[c, f"{self.gross['support'][k]:,}", *(f"{self.gross[m][k]:,}" for m in COUNTS),
                 *(self._cell(m, k) for m in RATES)] for k, c in enumerate(self.classes)]
        out += [rio.markdown_table(head, rows), "",
                rio.markdown_table(["Overall", "Value (%)"], self._overall()), ""]
        out += ["## Average statistics (mean over records)", ""]
        head = ["Class", *(f"{_LABELS[m]} (%)" for m in RATES), "Records (Se)"]
        rows = [[c, *(rio.format_value(self.average[m][k], digits=_DIGITS.get(m, 1)) for m in RATES),
                 str(self.average["n_se"][k])]
                for k, c in enumerate(self.classes)]
        out += [rio.markdown_table(head, rows), "",
                "A record enters a class's average only where the value is defined (Se and F1: it has beats "
                "of the class; +P: it has beats predicted as the class).", ""]
        out += ["## Confusion matrix (rows: reference, columns: prediction)", ""]
        rows = [[c, *(f"{v:,}" for v in self.confusion[k]), f"{self.confusion[k].sum():,}"]
                for k, c in enumerate(self.classes)]
        rows.append(["Total", *(f"{v:,}" for v in self.confusion.sum(axis=0)), f"{self.n_beats:,}"])
        out += [rio.markdown_table(["Reference \\ predicted", *self.classes, "Total"], rows), ""]
        if self.curves is not None:
            out += ["## Ranking and calibration (from probabilities)", ""]
            rows = [[c, *(rio.format_value(x, scale=1, digits=3) for x in (v.auroc, v.auprc, v.prevalence))]
                    for c, v in self.curves.items()]
            out += [rio.markdown_table(["Class", "AUROC", "AUPRC", "Prevalence"], rows), ""]
            if self.calibration is not None:
                n_bins = len(self.calibration.count)
                out += [f"Expected calibration error (top label, {n_bins} bins): "
                        f"{rio.format_value(self.calibration.ece, digits=2)} %.", ""]
        out += ["## Notes", "", *(f"- {n}" for n in self._notes())]
        return "\n".join(out) + "\n"

    def to_latex(self, caption: str | None = None, label: str = "tab:aami") -> str:
        """Booktabs table: per class Se, +P, F1, FPR (%) as ``value [low, high]``, then macro-F1 rows."""
        metrics = ("se", "ppv", "f1", "fpr")
        rows = [[c, *(self._cell(m, k) for m in metrics)] for k, c in enumerate(self.classes)]
        rows += [[f"Macro ({name})", "", "", rio.format_ci(v, *self.ci[_ci_key(name)]), ""]
                 for name, v in self.macro_f1.items()]
        if caption is None:
            ci = (f"{100 * self.ci_level:g} % bootstrap confidence intervals over records "
                  f"({self.n_boot} resamples)" if self.n_boot else "no confidence intervals")
            caption = (f"AAMI EC57 gross beat classification statistics (%) on {self.n_beats:,} beats from "
                       f"{self.n_records} records, with {ci}. Accuracy "
                       f"{rio.format_ci(self.accuracy, *self.ci['accuracy'])} %.")
        return rio.latex_table(["Class", *(f"{_LABELS[m]} (%)" for m in metrics)], rows, caption=caption,
                               label=label, midrule_before=[len(self.classes)] if self.macro_f1 else [])

    # ----------------------------------------------------------------- files
    def plot(self, out_dir: str | PathLike) -> dict[str, Path]:
        """Write the PNG figures into ``out_dir``; returns ``{name: path}``."""
        from . import plots

        out_dir = Path(out_dir)
        paths = {"confusion_matrix": out_dir / "confusion_matrix.png"}
        title = f"Confusion matrix ({self.n_beats:,} beats, {self.n_records} records)"
        plots.plot_confusion_matrix(self.confusion, self.classes, path=paths["confusion_matrix"], title=title)
        if self.curves is not None:
            paths["roc"] = out_dir / "roc.png"
            paths["pr"] = out_dir / "pr.png"
            plots.plot_roc_curves(self.curves, path=paths["roc"])
            plots.plot_pr_curves(self.curves, path=paths["pr"])
        if self.calibration is not None:
            paths["reliability"] = out_dir / "reliability.png"
            plots.plot_reliability(self.calibration, path=paths["reliability"])
        return paths

    def save(self, out_dir: str | PathLike, plots: bool = True) -> dict[str, Path]:
        """Write ``report.json``, ``report.md``, ``report.tex`` and (``plots``) the PNGs into ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"json": rio.write_json(self.to_dict(), out_dir / "report.json")}
        for key, text in (("markdown", self.to_markdown()), ("latex", self.to_latex())):
            paths[key] = out_dir / ("report.md" if key == "markdown" else "report.tex")
            paths[key].write_text(text, encoding="utf-8")
        if plots:
            paths.update(self.plot(out_dir))
        return paths

    @classmethod
    def load(cls, path: str | PathLike) -> "AAMIReport":
        """Read a ``report.json`` (or the folder holding it) written by :meth:`save`."""
        path = Path(path)
        return cls.from_dict(rio.read_json(path / "report.json" if path.is_dir() else path))


# --------------------------------------------------------------------------- computation
def _mean_defined(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means over the defined (non-NaN) rows and their counts; NaN where none (no warning)."""
    ok = np.isfinite(values)
    n = ok.sum(axis=0)
    total = np.where(ok, values, 0.0).sum(axis=0)
    return np.divide(total, n, out=np.full(total.shape, np.nan), where=n > 0), n


def _macro_subsets(classes: tuple[str, ...]) -> dict[str, list[int]]:
    subsets = {name: [classes.index(c) for c in members]
               for name, members in MACRO_SUBSETS.items() if set(members) <= set(classes)}
    everything = "/".join(classes)
    if list(range(len(classes))) not in subsets.values():
        subsets[everything] = list(range(len(classes)))
    return subsets


def aami_report(y_true, y_pred, record_ids, proba=None, classes: Sequence[str] = ("N", "S", "V", "F"),
                n_boot: int = 1000, seed: int | None = 0, ci: float = 0.95, *,
                n_bins: int = 15) -> AAMIReport:
    """AAMI EC57 beat-classification report with record-bootstrap confidence intervals.

    Args:
        y_true, y_pred: reference and predicted label of every beat, as AAMI
            letters or indices into ``classes``. Beats of other classes (e.g. Q
            when ``classes`` is N, S, V, F) raise an error: drop them first.
        record_ids: record (or patient) of every beat; the bootstrap unit.
        proba: optional ``(beats, K)`` class scores, columns in ``classes``
            order: adds ROC/PR curves, AUROC/AUPRC and a reliability diagram
            (``n_bins`` bins; needs probabilities in [0, 1]).
        classes: the scored classes, in order.
        n_boot: bootstrap resamples (0 = no intervals); seed: their random seed.
        ci: interval coverage (0.95 = 95 %).
    """
    classes = check_classes(classes)
    n_boot, ci = check_bootstrap_args(n_boot, ci)
    t = encode_labels(y_true, classes, name="y_true")
    p = encode_labels(y_pred, classes, name="y_pred")
    ids, rec = group_index(record_ids)
    if not (t.size == p.size == rec.size):
        raise LabelError(f"y_true, y_pred and record_ids have {t.size}, {p.size} and {rec.size} items",
                         fix="pass one reference label, one prediction and one record id per beat")
    if t.size == 0:
        raise LabelError("there are no beats to score (y_true is empty)",
                         fix="pass the beats of at least one record")
    k = len(classes)
    record_cm = confusion_matrix(t, p, k, groups=rec, n_groups=ids.size)
    gross_all = metrics_from_confusion(record_cm.sum(axis=0))
    gross = {m: gross_all[m] for m in (*COUNTS, "support", *RATES)}
    per_record = metrics_from_confusion(record_cm)
    average: dict[str, np.ndarray] = {}
    for m in RATES:
        average[m], average[f"n_{m}"] = _mean_defined(per_record[m])
    subsets = _macro_subsets(classes)
    macro = {name: float(macro_mean(gross["f1"], cols)) for name, cols in subsets.items()}

    boot = confusion_bootstrap(record_cm, n_boot, seed, ci, f1_subsets=subsets) if n_boot else {}
    keys = [*RATES, "accuracy", *(_ci_key(s) for s in subsets)]
    shape = {m: (k, 2) for m in RATES}
    ci_bounds, ci_defined = {}, {}
    for key in keys:
        if key in boot:
            b = boot[key]
            ci_bounds[key] = np.stack([np.asarray(b.low, float), np.asarray(b.high, float)], axis=-1)
            ci_defined[key] = b.n_defined
        else:
            ci_bounds[key] = np.full(shape.get(key, (2,)), np.nan)
            ci_defined[key] = np.zeros(k, np.int64) if key in shape else 0

    curves = calibration = None
    if proba is not None:
        scores = check_proba(proba, t.size, k)
        curves = roc_pr_curves(t, scores, classes)
        if scores.min() >= 0 and scores.max() <= 1:
            calibration = reliability_bins(t, scores, n_bins, classes)
    return AAMIReport(
        classes=classes, record_ids=tuple(str(i) for i in ids.tolist()), record_confusion=record_cm,
        confusion=record_cm.sum(axis=0), gross=gross, average=average, accuracy=float(gross_all["accuracy"]),
        macro_f1=macro, ci=ci_bounds, ci_defined=ci_defined, n_boot=n_boot, ci_level=ci, seed=seed,
        curves=curves, calibration=calibration,
    )
