"""ECG-RAMBA: morphology (MiniRocket) and rhythm (HRV) streams fused with a bidirectional Mamba over the signal.

The network (:class:`RambaNet`) classifies one window ``x (B, leads, L)`` at
the model's rate (100 Hz by default):

1. **Lead gating**: each lead is scaled by a learned gate ``sigmoid(g_l)``
   (a single lead works; the gate learns how much to trust each lead).
2. **Multi-scale convolutional tokenizer**: parallel convolutions with kernels
   of 7, 15 and 31 samples (70, 150, 310 ms at 100 Hz: QRS, P/T waves, one
   beat's context), concatenated, then a strided convolution with stride 8. A
   10-s window of 1,000 samples becomes **125 tokens of 80 ms**. Why 8: the
   SSM's cost grows linearly with the number of tokens (its chunked scan adds
   ``O(L * chunk)``) and dominates the CPU step time, so the scan should run over
   a hundred or so tokens, not the 1,000 samples (in our profile a BiSSM block
   on 200 tokens cost 1.4-2x one on 100 tokens, forward + backward, batch 64).
   The 10-20 beats of a window are still at most 125 recurrent steps apart, so
   every token's state can see the whole window's rhythm in both directions.
   80 ms is about one QRS width: the QRS shape is summarised inside a token by
   the kernels before the stride (up to 310 ms of receptive field), and RR
   intervals are resolved to one token (the HRV token carries the exact RR
   statistics).
3. **Bidirectional selective SSM**: ``n_layers`` :class:`~ecgscope.models.ssm.BiSSMBlock`
   (Mamba-2 SSD, pure PyTorch on CPU; ``expand=1``, heads of 16, chunks of 32
   tokens by default, the cheapest setting we profiled) over the signal tokens. Ablation
   ``ssm=False``: the same number of pre-norm depthwise-convolution blocks (conv only).
4. **MiniRocket tokens** (morphology): the window's MiniRocket PPV features
   (Dempster et al., KDD 2021; 504 features of the window averaged to 50 Hz,
   fitted on training windows only and held as a sub-module, so the checkpoint
   carries its own feature extractor), z-scored
   with training statistics and projected linearly to ``mr_tokens`` tokens.
   Ablation ``minirocket_features=0``.
5. **HRV token** (rhythm): the window's HRV vector (RR statistics, Poincare,
   irregularity; :func:`ecgscope.features.hrv_stream.hrv_vector`), z-scored,
   with its missing-value mask, through a small MLP to one token. Ablation ``hrv=False``.
   ``hrv_ectopy`` appends the beat-shape ectopy features (:mod:`ecgscope.features.ectopy`);
   ``hrv_context_s`` (> 0) appends the same vector over that many seconds centred
   on the window to the same token's input (:mod:`.preprocess`).
6. **Bidirectional cross-attention**: the signal tokens attend to the
   [MiniRocket, HRV] tokens and those attend back to the signal tokens (pre-norm,
   residual), then a feed-forward layer.
7. **Head**: mean of the signal tokens and mean of the context tokens,
   concatenated, LayerNorm, linear -> logits (softmax or sigmoid in the estimator).

The estimator (:class:`RambaEstimator`, registry name ``"ramba"``) pools
window probabilities per record with the power mean ``(mean p^Q)^(1/Q)``
(Q = 3 by default; see :mod:`.estimator`).

Reference: the ECG-RAMBA method description (MiniRocket + HRV + bidirectional
Mamba, cross-attention fusion, power-mean pooling with Q = 3); Dao & Gu,
ICML 2024 (Mamba-2); Dempster, Schmidt & Webb, KDD 2021 (MiniRocket).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelError
from . import register_rhythm_estimator
from .estimator import WindowRhythmEstimator
from .preprocess import WindowTable

__all__ = ["BiCrossAttention", "ConvMixBlock", "LeadGate", "MultiScaleTokenizer", "RambaEstimator", "RambaNet"]


class LeadGate(nn.Module):
    """``x * sigmoid(g)`` per lead, ``g`` learned (initialised so every gate starts at 0.88)."""

    def __init__(self, n_leads: int) -> None:
        super().__init__()
        self.logit = nn.Parameter(torch.full((n_leads,), 2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.logit)[None, :, None]


class MultiScaleTokenizer(nn.Module):
    """``(B, leads, L) -> (B, L // stride, d_model)``: parallel convolutions (one per kernel), then a strided one."""

    def __init__(self, in_leads: int, d_model: int, kernels=(7, 15, 31), stride: int = 5) -> None:
        super().__init__()
        kernels = [int(k) for k in kernels]
        if not kernels or any(k < 1 or k % 2 == 0 for k in kernels) or d_model < len(kernels):
            raise ModelError(f"tokenizer kernels {kernels} must be odd and no more than d_model={d_model}",
                             fix="e.g. kernels=(7, 15, 31)")
        widths = [d_model // len(kernels) + (i < d_model % len(kernels)) for i in range(len(kernels))]
        self.branches = nn.ModuleList(nn.Conv1d(in_leads, w, k, padding=k // 2, bias=False)
                                      for w, k in zip(widths, kernels))
        self.mix = nn.Sequential(nn.BatchNorm1d(d_model), nn.GELU(),
                                 nn.Conv1d(d_model, d_model, stride, stride=stride), nn.GELU())
        self.norm = nn.LayerNorm(d_model)
        self.stride = int(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.mix(torch.cat([b(x) for b in self.branches], dim=1))  # one call: hooks on `mix` see it
        return self.norm(h.transpose(1, 2))

    def after_norm(self, z: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B, T, d_model)`` from the batch-normalised branch maps ``z`` ``(B, d_model, L)``: forward
        past ``mix[0]`` (the fast record path of ``ramba_beats`` folds the batch norm into its own affine map)."""
        return self.norm(self.mix[1:](z).transpose(1, 2))


class ConvMixBlock(nn.Module):
    """Pre-norm residual depthwise-convolution block ``(B, T, D) -> (B, T, D)``: the conv-only ablation of a BiSSM layer."""

    def __init__(self, d_model: int, kernel: int = 7, expand: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.dw = nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, expand * d_model), nn.GELU(), nn.Linear(expand * d_model, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dw(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.dropout(self.mlp(h))


class BiCrossAttention(nn.Module):
    """Signal tokens attend to context tokens and context tokens attend to signal tokens (pre-norm, residual).

    ``forward(s (B, T, D), c (B, K, D)) -> (s', c')``; a feed-forward layer follows on the signal tokens.
    """

    def __init__(self, d_model: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % heads:
            raise ModelError(f"d_model={d_model} is not divisible by heads={heads}", fix="choose heads dividing d_model")
        self.norm_s, self.norm_c = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.s_from_c = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.c_from_s = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.GELU(), nn.Linear(2 * d_model, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, s: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ns, nc = self.norm_s(s), self.norm_c(c)
        s2 = s + self.dropout(self.s_from_c(ns, nc, nc, need_weights=False)[0])
        c2 = c + self.dropout(self.c_from_s(nc, ns, ns, need_weights=False)[0])
        s2 = s2 + self.dropout(self.ff(self.norm_ff(s2)))
        return s2, c2


class RambaNet(nn.Module):
    """The ECG-RAMBA window classifier (see the module docstring): ``forward(x, hrv, hrv_mask, mr) -> logits``.

    ``minirocket_features`` is the fitted MiniRocket's output width (0: no
    morphology stream) and ``hrv_features`` the HRV vector length (0: no rhythm
    stream). The MiniRocket sub-module and the feature statistics are filled by
    :meth:`set_features` before training (or by loading a state dict).
    """

    def __init__(self, in_leads: int, n_classes: int, window: int, *, d_model: int = 32, n_layers: int = 2,
                 d_state: int = 16, expand: int = 2, headdim: int = 16, chunk_size: int = 64,
                 kernels=(7, 15, 31), stride: int = 5, ssm: bool = True, minirocket_features: int = 0,
                 mr_tokens: int = 4, mr_decimate: int = 1, hrv_features: int = 0, heads: int = 4,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.model_kwargs: dict[str, Any] = {
            "in_leads": in_leads, "n_classes": n_classes, "window": window, "d_model": d_model,
            "n_layers": n_layers, "d_state": d_state, "expand": expand, "headdim": headdim,
            "chunk_size": chunk_size, "kernels": list(kernels), "stride": stride, "ssm": bool(ssm),
            "minirocket_features": int(minirocket_features), "mr_tokens": mr_tokens, "mr_decimate": int(mr_decimate),
            "hrv_features": int(hrv_features), "heads": heads, "dropout": dropout,
        }
        self.in_leads, self.n_classes, self.window = int(in_leads), int(n_classes), int(window)
        self.gate = LeadGate(self.in_leads)
        self.tokenizer = MultiScaleTokenizer(self.in_leads, d_model, kernels, stride)
        self.n_tokens = self.window // int(stride)
        if ssm:
            from ..ssm import BiSSMBlock

            self.blocks = nn.ModuleList(
                BiSSMBlock(d_model, dropout=dropout, d_state=d_state, expand=expand, headdim=headdim,
                           chunk_size=chunk_size) for _ in range(n_layers))
        else:
            self.blocks = nn.ModuleList(ConvMixBlock(d_model, 7, expand, dropout) for _ in range(n_layers))
        self.n_mr, self.n_hrv, self.mr_tokens = int(minirocket_features), int(hrv_features), int(mr_tokens)
        self.mr_decimate = max(1, int(mr_decimate))
        n_context = 0
        if self.n_mr:
            from ...features.minirocket import MiniRocket

            self.minirocket = MiniRocket(num_features=self.n_mr)
            self.register_buffer("mr_mean", torch.zeros(self.n_mr))
            self.register_buffer("mr_std", torch.ones(self.n_mr))
            self.mr_proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.n_mr, self.mr_tokens * d_model))
            n_context += self.mr_tokens
        else:
            self.minirocket = None
        if self.n_hrv:
            self.register_buffer("hrv_mean", torch.zeros(self.n_hrv))
            self.register_buffer("hrv_std", torch.ones(self.n_hrv))
            self.hrv_proj = nn.Sequential(nn.Linear(2 * self.n_hrv, d_model), nn.GELU(), nn.Linear(d_model, d_model))
            n_context += 1
        self.n_context = n_context
        if n_context:
            self.context_type = nn.Parameter(torch.zeros(n_context, d_model))
            self.context_norm = nn.LayerNorm(d_model)
            self.fusion = BiCrossAttention(d_model, heads, dropout)
        out = d_model * (2 if n_context else 1)
        self.head = nn.Sequential(nn.LayerNorm(out), nn.Dropout(dropout), nn.Linear(out, self.n_classes))

    # -- features --------------------------------------------------------------------------
    @torch.no_grad()
    def set_features(self, *, minirocket=None, mr_mean=None, mr_std=None, hrv_mean=None, hrv_std=None) -> None:
        """Install a fitted MiniRocket and the training statistics of the MiniRocket and HRV features."""
        if minirocket is not None and self.minirocket is not None:
            self.minirocket.load_state_dict(minirocket.state_dict())
        for name, value in (("mr_mean", mr_mean), ("mr_std", mr_std), ("hrv_mean", hrv_mean),
                            ("hrv_std", hrv_std)):
            if value is not None and hasattr(self, name):
                getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def minirocket_input(self, x: torch.Tensor) -> torch.Tensor:
        """The windows MiniRocket sees: ``x`` averaged over ``mr_decimate`` samples (50 Hz from 100 Hz by default)."""
        return x if self.mr_decimate == 1 else F.avg_pool1d(x, self.mr_decimate, self.mr_decimate)

    @torch.no_grad()
    def minirocket_features(self, windows: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Raw (not z-scored) MiniRocket features ``(n, minirocket_features)`` of windows ``(n, leads, window)``."""
        x = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
        return self.minirocket.transform(self.minirocket_input(x), batch_size=batch_size)

    def signal_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Signal tokens ``(B, T, d_model)`` after gating, tokenizer and the SSM (or conv) layers."""
        h = self.tokenizer(self.gate(x))
        for block in self.blocks:
            h = block(h)
        return h

    def context_tokens(self, x: torch.Tensor, hrv=None, hrv_mask=None, mr=None) -> torch.Tensor | None:
        """``(B, n_context, d_model)`` MiniRocket and HRV tokens, or None without either stream."""
        parts = []
        b = x.shape[0]
        if self.n_mr:
            if mr is None:
                mr = self.minirocket(self.minirocket_input(x))
            z = (mr.float() - self.mr_mean) / self.mr_std
            parts.append(self.mr_proj(z).view(b, self.mr_tokens, -1))
        if self.n_hrv:
            if hrv is None:
                raise ModelError("RambaNet: this model needs the window's HRV vector (hrv=...)",
                                 fix="pass hrv and hrv_mask from ecgscope.features.hrv_stream.hrv_vector")
            m = torch.ones_like(hrv, dtype=torch.bool) if hrv_mask is None else hrv_mask.bool()
            z = torch.where(m, (hrv.float() - self.hrv_mean) / self.hrv_std, torch.zeros_like(hrv, dtype=torch.float32))
            parts.append(self.hrv_proj(torch.cat([z.clamp(-10, 10), m.float()], 1))[:, None])
        if not parts:
            return None
        return self.context_norm(torch.cat(parts, 1) + self.context_type)

    def forward(self, x: torch.Tensor, hrv: torch.Tensor | None = None, hrv_mask: torch.Tensor | None = None,
                mr: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` of windows ``x (B, leads, window)``; ``mr`` precomputed MiniRocket features (optional)."""
        if x.dim() != 3 or x.shape[1] != self.in_leads or x.shape[2] != self.window:
            raise ModelError(f"RambaNet: x has shape {tuple(x.shape)}, expected (batch, {self.in_leads}, {self.window})",
                             fix="cut records into the model's windows (see its card)")
        s = self.signal_tokens(x)
        c = self.context_tokens(x, hrv, hrv_mask, mr)
        if c is None:
            return self.head(s.mean(1))
        s, c = self.fusion(s, c)
        return self.head(torch.cat([s.mean(1), c.mean(1)], 1))


@register_rhythm_estimator("ramba")
class RambaEstimator(WindowRhythmEstimator):
    """ECG-RAMBA as a record-level rhythm estimator (fit / predict_proba / predict_windows / save).

    Options (besides the common windowing, pooling and training ones in
    :data:`.estimator.COMMON_DEFAULTS`): ``d_model``, ``n_layers``, ``d_state``,
    ``kernels``, ``stride``, ``heads``, ``dropout``; ablation switches ``ssm``
    (False: conv only), ``minirocket_features`` (0: no MiniRocket stream), ``hrv``
    (False: no HRV token); ``hrv_af`` (AF irregularity features), ``hrv_ectopy``
    (beat-shape ectopy features), ``hrv_summary`` (the whole rhythm summary instead,
    :mod:`ecgscope.features.rhythm_summary`), ``hrv_context_s`` (context HRV, seconds); ``mr_tokens``, ``mr_fit_windows`` (training windows
    MiniRocket's biases are drawn from).
    """

    extra_defaults: ClassVar[dict[str, Any]] = {"d_model": 32, "n_layers": 2, "d_state": 16, "expand": 1, "headdim": 16, "chunk_size": 32,
                      "kernels": (7, 15, 31), "stride": 8, "ssm": True, "minirocket_features": 504,
                      "mr_tokens": 4, "mr_decimate": 2, "mr_fit_windows": 2000, "hrv": True, "hrv_af": False,
                      "hrv_context_s": 0.0, "hrv_ectopy": False, "hrv_summary": False, "heads": 4, "dropout": 0.1}
    _NET_KEYS = ("d_model", "n_layers", "d_state", "expand", "headdim", "chunk_size", "kernels", "stride", "ssm",
                 "mr_tokens", "mr_decimate", "heads", "dropout")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._feature_cache: dict[int, np.ndarray] = {}

    def _hrv_spec(self) -> dict[str, Any]:
        o = self.options
        if not o["hrv"]:
            return {"hrv": False}
        return {"hrv": True, "hrv_af": bool(o["hrv_af"]), "hrv_context_s": float(o["hrv_context_s"] or 0.0),
                "hrv_ectopy": bool(o["hrv_ectopy"]), "hrv_summary": bool(o["hrv_summary"])}

    def _rebuild_net(self, kwargs: dict) -> nn.Module:
        return RambaNet(**kwargs)

    def _build_net(self, n_leads: int, train: WindowTable) -> nn.Module:
        o = self.options
        minirocket = None
        n_mr = int(o["minirocket_features"] or 0)
        if n_mr:
            from ...features.minirocket import MiniRocket

            rng = np.random.default_rng(int(o["seed"]))
            pick = np.sort(rng.choice(len(train), min(len(train), int(o["mr_fit_windows"])), replace=False))
            dec = max(1, int(o["mr_decimate"]))
            fit_x = F.avg_pool1d(torch.from_numpy(train.x[pick]), dec, dec) if dec > 1 else train.x[pick]
            minirocket = MiniRocket(num_features=n_mr, random_state=int(o["seed"])).fit(fit_x)
            n_mr = minirocket.n_features_out
        n_hrv = train.hrv.shape[1] if self.spec.hrv else 0
        net = RambaNet(n_leads, len(self.classes_), train.x.shape[-1], minirocket_features=n_mr,
                       hrv_features=n_hrv, **{k: o[k] for k in self._NET_KEYS})
        stats: dict[str, np.ndarray] = {}
        if minirocket is not None:
            net.set_features(minirocket=minirocket)
            feats = net.minirocket_features(train.x)
            self._feature_cache = {id(train): feats}
            stats["mr_mean"], stats["mr_std"] = feats.mean(0), np.maximum(feats.std(0), 1e-3)
        if n_hrv:
            stats["hrv_mean"], stats["hrv_std"] = _masked_stats(train.hrv, train.hrv_mask)
        net.set_features(**stats)
        return net

    def _inputs(self, net: nn.Module, table: WindowTable) -> dict[str, np.ndarray]:
        inputs = {"x": table.x}
        if net.n_hrv:
            inputs["hrv"] = np.nan_to_num(table.hrv.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
            inputs["hrv_mask"] = table.hrv_mask
        if net.n_mr:
            cached = self._feature_cache.pop(id(table), None)
            inputs["mr"] = cached if cached is not None else net.minirocket_features(table.x)
        return inputs

    def card_extra(self) -> dict:
        o = self.options
        extra = super().card_extra()
        net = self.net_
        extra["normalisation"].update({
            "minirocket": "z-score with training-window mean/SD (network buffers mr_mean, mr_std)",
            "hrv": "z-score with training-window mean/SD over present values (buffers hrv_mean, hrv_std); "
                   "missing values 0 plus the mask"})
        if net is not None and net.n_mr:
            extra["minirocket"] = {"num_features": int(o["minirocket_features"]), "n_features_out": net.n_mr,
                                   "input": f"window averaged over {net.mr_decimate} samples "
                                            f"({float(o['fs']) / net.mr_decimate:g} Hz)",
                                   "fit_windows": int(o["mr_fit_windows"]), "random_state": int(o["seed"]),
                                   "fitted_on": "training windows of the training records only"}
        if net is not None and net.n_hrv:
            context = self.spec.hrv_context_s
            extra["hrv"] = {"features": list(self.spec.hrv_names), "rpeaks": "ecgscope detector on the conditioned "
                            "record at the model fs",
                            "per": f"window, then {context:g} s centred on it (inside the record)" if context else "window"}
        return extra


def _masked_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and SD of ``values`` over entries where ``mask`` is true (0 / 1 for empty columns)."""
    v = np.where(mask, np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0), 0.0)
    n = mask.sum(0)
    mean = v.sum(0) / np.maximum(n, 1)
    var = (np.where(mask, (v - mean) ** 2, 0.0)).sum(0) / np.maximum(n, 1)
    return mean.astype(np.float32), np.maximum(np.sqrt(var), 1e-3).astype(np.float32)
