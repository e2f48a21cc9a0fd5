"""``ramba_beats``: beat-level ECG-RAMBA, the RAMBA fusion over a sequence of beats.

The record-level ECG-RAMBA (:mod:`ecgscope.models.rhythm.ramba`) runs a
bidirectional selective SSM over the samples of a 10-s window. Here each
*beat* is a token: a beat ``i`` comes with its ``k`` neighbours on each side
(``BeatDatasetConfig(context_beats=k)``), so the input holds the beat's own
channels (main window, extra windows, template) followed by the main windows
of beats ``i-k..i-1, i+1..i+k``, and ``rr`` holds the beat's RR features
followed by each neighbour's RR features and a validity flag (0 past the
record's ends).

1. **Beat tokens**: every beat's main window passes one lead gate and one
   multi-scale convolutional tokenizer with shared weights
   (:class:`~ecgscope.models.rhythm.ramba.MultiScaleTokenizer`), pooled (mean
   and max) to a token (tiny: the windows averaged over 2 samples first);
   the beat's RR features (and flag) are embedded and added, plus a learned
   position per offset. The centre token also gets the pooled embedding of
   all the centre beat's channels (its own tokenizer; the Grad-CAM layer).
2. **Bidirectional SSM** over the ``2k+1`` beat tokens
   (:class:`~ecgscope.models.ssm.BiSSMBlock`); ablation ``ssm=False``: conv
   blocks (:class:`~ecgscope.models.rhythm.ramba.ConvMixBlock`).
3. **MiniRocket tokens** (morphology) of the centre beat: a
   :class:`~ecgscope.features.minirocket.MiniRocket` sub-module over the
   centre's channels (tiny: averaged over 2 samples), fitted by :meth:`RambaBeats.prepare` on training beats
   only, z-scored with their statistics, projected to ``mr_tokens`` tokens.
   Ablation ``minirocket_features=0``. Before :meth:`prepare` the stream
   contributes a constant (the projection of zero features).
4. **RR token** (rhythm): an MLP over the whole sequence's RR features.
   Ablation ``rr_token=False``.
5. **Bidirectional cross-attention** between the beat tokens and the
   [MiniRocket, RR] tokens (:class:`~ecgscope.models.rhythm.ramba.BiCrossAttention`).
6. **Head**: the centre token concatenated with the mean context token,
   LayerNorm, dropout, linear.

With ``context_beats=0`` the model is a single-beat classifier (one token), so
it fits the registry's shared contract. References: the ECG-RAMBA method
description; Dao & Gu, ICML 2024 (Mamba-2); Dempster et al., KDD 2021
(MiniRocket); de Chazal et al., IEEE TBME 2004 (RR features).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError
from .base import BeatModel
from .blocks import RRFusion
from .registry import register_model
from .rhythm.ramba import BiCrossAttention, ConvMixBlock, LeadGate, MultiScaleTokenizer

__all__ = ["RambaBeats"]


class _PooledTokenizer(nn.Module):
    """``(N, channels, W) -> (N, d_model)``: lead gate, average over ``decimate`` samples, multi-scale
    tokenizer, mean and max over time, linear."""

    def __init__(self, channels: int, d_model: int, kernels, stride: int, decimate: int = 1) -> None:
        super().__init__()
        self.decimate = max(1, int(decimate))
        self.gate = LeadGate(channels)
        self.tokenizer = MultiScaleTokenizer(channels, d_model, kernels, stride)
        self.out = nn.Linear(2 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._pool(self.tokenizer(self._gated(x)))

    def _gated(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gate(x)
        return F.avg_pool1d(x, self.decimate, self.decimate) if self.decimate > 1 else x

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([h.mean(1), h.amax(1)], dim=1))

    # The fast record path (RambaBeats.record_logits) splits forward at the batch norm: everything before it
    # (gate, averaging, the bias-free zero-padded branch convolutions) is linear in x, so the pre-norm maps of
    # a window standardised with other statistics are an affine combination of the maps of one standardisation.
    def linear_maps(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, leads, d_model, T)``: each lead's contribution to the branch convolutions (before the norm)."""
        x, tok = self._gated(x), self.tokenizer
        return torch.stack([torch.cat([F.conv1d(x[:, i:i + 1], b.weight[:, i:i + 1], padding=b.padding)
                                       for b in tok.branches], dim=1) for i in range(x.shape[1])], dim=1)

    def norm_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The eval-mode batch norm as ``(scale, shift)``, each ``(d_model, 1)``."""
        bn = self.tokenizer.mix[0]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return scale[:, None], (bn.bias - bn.running_mean * scale)[:, None]

    def finish(self, z: torch.Tensor) -> torch.Tensor:
        """Token ``(N, d_model)`` from the batch-normalised maps ``z`` ``(N, d_model, T)`` (rest of forward)."""
        return self._pool(self.tokenizer.after_norm(z))


# The fitted MiniRocket's buffers change size on fitting, but a checkpoint is checked against a fresh model's
# state shapes. These hooks store them at fixed shapes known from the constructor (the dilations follow from the
# input length; channel_indices is padded with -1 to its largest size) and restore the fitted sizes on loading.
_MR_VARIABLE = ("dilations", "features_per_dilation", "biases", "channels_per_combination", "channel_indices",
                "trim_padding")


def _fix_state_shapes(model: nn.Module, channels: int, length: int) -> None:
    """Give ``model.minirocket`` fixed state-dict shapes for ``channels`` x ``length`` inputs (hooks below).

    The loading hook sits on the parent ``model``: it runs before MiniRocket's own loader resizes its buffers.
    """
    from ..features.minirocket import N_KERNELS, fit_dilations

    minirocket = model.minirocket
    dil, per = fit_dilations(length, minirocket.num_features, minirocket.max_dilations_per_kernel)
    n_comb = dil.size * N_KERNELS
    minirocket._fixed_shapes = {
        "dilations": (dil.size,), "features_per_dilation": (dil.size,), "biases": (N_KERNELS * int(per.sum()),),
        "channels_per_combination": (n_comb,), "channel_indices": (n_comb * min(channels, 9),),
        "trim_padding": (dil.size, N_KERNELS)}
    minirocket._register_state_dict_hook(_pad_state)
    model._register_load_state_dict_pre_hook(_unpad_state, with_module=True)


def _pad_state(module, state, prefix, local_metadata) -> None:
    for name, shape in module._fixed_shapes.items():
        value = state[prefix + name]
        if tuple(value.shape) != shape:  # unfitted (empty) or a shorter channel_indices
            out = torch.full(shape, -1 if name == "channel_indices" else 0, dtype=value.dtype, device=value.device)
            out.view(-1)[:value.numel()] = value.reshape(-1)
            state[prefix + name] = out


def _unpad_state(model, state, prefix, *args) -> None:
    module, prefix = model.minirocket, prefix + "minirocket."
    if prefix + "input_length" not in state:
        return
    if int(state[prefix + "input_length"]) == 0:  # an unfitted MiniRocket: back to its empty buffers
        for name in _MR_VARIABLE:
            state[prefix + name] = torch.zeros_like(module._buffers[name][:0]) if name != "trim_padding" \
                else torch.zeros(0, module._fixed_shapes["trim_padding"][1], dtype=torch.bool)
    else:
        used = int(state[prefix + "channels_per_combination"].sum())
        state[prefix + "channel_indices"] = state[prefix + "channel_indices"][:used]


@register_model("ramba_beats")
class RambaBeats(BeatModel):
    """Beat-level ECG-RAMBA (module docstring); ``context_beats`` and ``beat_leads`` describe the input layout."""

    variants = {
        "tiny": {"context_beats": 0, "beat_leads": 1, "d_model": 32, "n_layers": 1, "d_state": 16, "expand": 1,
                 "headdim": 16, "kernels": (7, 15, 31), "stride": 4, "beat_decimate": 2, "ssm": True,
                 "minirocket_features": 336, "mr_decimate": 2, "mr_tokens": 2, "mr_fit_beats": 2000,
                 "rr_token": True, "heads": 4, "dropout": 0.1},
        "base": {"context_beats": 0, "beat_leads": 1, "d_model": 64, "n_layers": 2, "d_state": 16, "expand": 1,
                 "headdim": 16, "kernels": (7, 15, 31), "stride": 4, "beat_decimate": 1, "ssm": True,
                 "minirocket_features": 504, "mr_decimate": 1, "mr_tokens": 4, "mr_fit_beats": 2000,
                 "rr_token": True, "heads": 4, "dropout": 0.1},
    }
    min_window = 32

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        h = self.hparams
        d, dropout = int(h["d_model"]), float(h["dropout"])
        self._layout(int(h["context_beats"]), int(h["beat_leads"]))
        kernels, stride = tuple(int(k) for k in h["kernels"]), int(h["stride"])
        self.beat_tokenizer = _PooledTokenizer(self.beat_leads, d, kernels, stride, int(h["beat_decimate"]))
        self.centre_tokenizer = _PooledTokenizer(self.centre_channels, d, kernels, stride)
        self.position = nn.Parameter(torch.zeros(self.n_beats, d))
        self.rr_embed = nn.Linear(self.rr_per_beat, d) if self.rr_per_beat else None
        if h["ssm"]:
            from .ssm import BiSSMBlock

            self.blocks = nn.ModuleList(
                BiSSMBlock(d, dropout=dropout, d_state=int(h["d_state"]), expand=int(h["expand"]),
                           headdim=int(h["headdim"]), chunk_size=32) for _ in range(int(h["n_layers"])))
        else:
            self.blocks = nn.ModuleList(ConvMixBlock(d, 3, 2, dropout) for _ in range(int(h["n_layers"])))
        self.seq_norm = nn.LayerNorm(d)
        n_context = self._build_context(d, dropout, int(h["minirocket_features"]), int(h["mr_tokens"]),
                                        bool(h["rr_token"]))
        if n_context:
            self.context_type = nn.Parameter(torch.zeros(n_context, d))
            self.context_norm = nn.LayerNorm(d)
            self.fusion_attention = BiCrossAttention(d, int(h["heads"]), dropout)
        out = d * (2 if n_context else 1)
        self.embed_dim = out
        self.fusion = RRFusion(out, 0)  # RR features enter as tokens, not by late fusion
        self.classifier = nn.Sequential(nn.LayerNorm(out), nn.Dropout(dropout), nn.Linear(out, self.n_classes))

    # -- layout ---------------------------------------------------------------------------
    def _layout(self, k: int, beat_leads: int) -> None:
        """Split ``in_leads`` / ``n_rr`` into the centre beat and ``2k`` neighbour blocks, or ModelError."""
        self.context_beats, self.beat_leads, self.n_beats = k, beat_leads, 2 * k + 1
        self.centre_channels = self.in_leads - 2 * k * beat_leads
        if k < 0 or beat_leads < 1 or self.centre_channels < beat_leads:
            raise ModelError(f"ramba_beats: in_leads={self.in_leads} cannot hold a beat of {beat_leads} lead(s) "
                             f"plus {2 * k} neighbour windows (context_beats={k})",
                             fix="set model.kwargs context_beats and beat_leads to data.context_beats and the "
                                 "number of data.leads")
        per = (self.n_rr - 2 * k) / (2 * k + 1)
        if k and (per < 0 or per != int(per)):
            raise ModelError(f"ramba_beats: n_rr={self.n_rr} is not m + 2k(m + 1) RR columns for "
                             f"context_beats={k}",
                             fix="build the beats with BeatDatasetConfig(context_beats=k) and pass all rr columns")
        self.rr_centre = int(per) if k else self.n_rr
        self.rr_per_beat = self.rr_centre + 1 if (k or self.n_rr) else 0  # + the validity flag

    def _build_context(self, d: int, dropout: float, n_mr: int, mr_tokens: int, rr_token: bool) -> int:
        """MiniRocket and RR-token modules; returns the number of context tokens."""
        n_context = 0
        self.minirocket = None
        if n_mr:
            from ..features.minirocket import MiniRocket

            self.minirocket = MiniRocket(num_features=n_mr)
            _fix_state_shapes(self, self.centre_channels, self.window // self._mr_decimate)
            self.n_mr, self.mr_tokens = self.minirocket.n_features_out, mr_tokens
            self.register_buffer("mr_mean", torch.zeros(self.n_mr))
            self.register_buffer("mr_std", torch.ones(self.n_mr))
            self.mr_proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.n_mr, mr_tokens * d))
            n_context += mr_tokens
        self.rr_token = None
        if rr_token and self.n_rr:
            self.rr_token = nn.Sequential(nn.Linear(self.n_rr, d), nn.GELU(), nn.Linear(d, d))
            n_context += 1
        return n_context

    # -- MiniRocket preparation (called by the trainer before training) --------------------
    @torch.no_grad()
    def prepare(self, x: np.ndarray, rr: np.ndarray | None = None, seed: int = 0) -> None:
        """Fit the MiniRocket sub-module and its feature statistics on training beats ``x`` (standardised)."""
        if self.minirocket is None or len(x) == 0:
            return
        centre = self._mr_input(torch.from_numpy(np.ascontiguousarray(x[:, :self.centre_channels],
                                                                      dtype=np.float32)))
        rng = np.random.default_rng(seed)
        fit_rows = np.sort(rng.choice(len(x), min(len(x), int(self.hparams["mr_fit_beats"])), replace=False))
        stat_rows = np.sort(rng.choice(len(x), min(len(x), 20_000), replace=False))
        from ..features.minirocket import MiniRocket

        fitted = MiniRocket(num_features=self.n_mr, random_state=seed).fit(centre[fit_rows])
        self.minirocket.load_state_dict(fitted.state_dict())
        feats = self.minirocket.transform(centre[stat_rows], batch_size=512)
        self.mr_mean.copy_(torch.from_numpy(feats.mean(0)))
        self.mr_std.copy_(torch.from_numpy(np.maximum(feats.std(0), 1e-3)))

    def _mr_input(self, centre: torch.Tensor) -> torch.Tensor:
        """The centre beat's channels as MiniRocket sees them: averaged over ``mr_decimate`` samples."""
        k = self._mr_decimate
        return centre if k == 1 else F.avg_pool1d(centre, k, k)

    @property
    def _mr_decimate(self) -> int:
        return max(1, int(self.hparams["mr_decimate"]))

    @property
    def prepared(self) -> bool:
        """Whether the MiniRocket stream is fitted (always true without one)."""
        return self.minirocket is None or self.minirocket.fitted

    # -- forward --------------------------------------------------------------------------
    def _beat_rr(self, rr: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        """``(B, 2k+1, rr_per_beat)``: each beat's RR features and validity flag, in time order."""
        if not self.rr_per_beat:
            return None
        centre = torch.cat([rr[:, :self.rr_centre], rr.new_ones(batch, 1)], dim=1)[:, None]
        near = rr[:, self.rr_centre:].reshape(batch, 2 * self.context_beats, self.rr_per_beat)
        k = self.context_beats
        return torch.cat([near[:, :k], centre, near[:, k:]], dim=1)

    def beat_tokens(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Beat tokens ``(B, 2k+1, d_model)`` after the SSM (or conv) layers; the centre is at index ``k``."""
        b, k, L = x.shape[0], self.context_beats, self.window
        centre = x[:, :self.centre_channels]
        main = centre[:, None, :self.beat_leads]
        near = x[:, self.centre_channels:].reshape(b, 2 * k, self.beat_leads, L)
        beats = torch.cat([near[:, :k], main, near[:, k:]], dim=1)
        beats = beats.reshape(b * self.n_beats, self.beat_leads, L)
        return self._sequence(self.beat_tokenizer(beats).view(b, self.n_beats, -1), centre, rr)

    def _sequence(self, tokens: torch.Tensor, centre: torch.Tensor, rr: torch.Tensor | None) -> torch.Tensor:
        """Beat tokenizer outputs ``(B, 2k+1, d)`` -> tokens after position, centre, RR, SSM and norm."""
        b, k = tokens.shape[0], self.context_beats
        tokens = tokens + self.position
        tokens = torch.cat([tokens[:, :k], (tokens[:, k] + self.centre_tokenizer(centre))[:, None],
                            tokens[:, k + 1:]], dim=1)
        beat_rr = self._beat_rr(rr, b)
        if beat_rr is not None:
            tokens = tokens + self.rr_embed(beat_rr.to(tokens.dtype))
        for block in self.blocks:
            tokens = block(tokens)
        return self.seq_norm(tokens)

    def context_tokens(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor | None:
        """``(B, n_context, d_model)`` MiniRocket tokens of the centre beat and the RR token, or None."""
        parts, b = [], x.shape[0]
        if self.minirocket is not None:
            if self.minirocket.fitted:
                feats = self.minirocket(self._mr_input(x[:, :self.centre_channels].float()))
                z = (feats - self.mr_mean) / self.mr_std
            else:
                z = x.new_zeros(b, self.n_mr)
            parts.append(self.mr_proj(z.to(x.dtype)).view(b, self.mr_tokens, -1))
        if self.rr_token is not None:
            parts.append(self.rr_token(rr.to(x.dtype))[:, None])
        if not parts:
            return None
        return self.context_norm(torch.cat(parts, dim=1) + self.context_type)

    def _pooled(self, x: torch.Tensor, rr: torch.Tensor | None) -> torch.Tensor:
        return self._fuse(self.beat_tokens(x, rr), self.context_tokens(x, rr))

    def _fuse(self, s: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if c is None:
            return s[:, self.context_beats]
        s, c = self.fusion_attention(s, c)
        return torch.cat([s[:, self.context_beats], c.mean(1)], dim=1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding of ``x`` without RR features (only valid for a model built with ``n_rr=0``)."""
        if self.n_rr:
            raise ModelError("ramba_beats: embed(x) needs the RR features; this model has n_rr > 0",
                             fix="call features(x, rr) instead")
        return self._pooled(x, None)

    def features(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Centre token and mean context token, ``(B, feature_dim)``."""
        self._check_inputs(x, rr)
        return self._pooled(x, rr if self.n_rr else None)

    # -- fast record inference ------------------------------------------------------------
    has_record_logits = True

    @torch.no_grad()
    def record_logits(self, x: np.ndarray, rr: np.ndarray, stats, *, batch_size: int = 256) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of all beats of one record in time order, equal to :meth:`forward` on the
        ``context_beats=k`` beat set (to float rounding), from what the set is built of.

        ``x`` ``(n, centre_channels, window)`` and ``rr`` ``(n, m)`` are each beat's own channels and RR
        features, un-standardised (``BeatDatasetConfig(context_beats=0)``, no beat dropped); ``stats`` holds
        the training statistics of the full layout (``x_mean``, ``x_std``, ``rr_mean``, ``rr_std``, as in
        :func:`ecgscope.training.normalisation.fit_normalisation`). A beat's neighbour window is that
        neighbour's own main window standardised with the neighbour block's statistics, an affine map of
        the neighbour's standardised main window; the linear part of the shared beat tokenizer therefore
        runs once per beat and the neighbour tokens are gathered by index (past the record's ends: the zero
        window and zero RR features with flag 0, as the dataset pads).
        """
        n, k, C, nl = x.shape[0], self.context_beats, self.centre_channels, self.beat_leads
        if x.ndim != 3 or x.shape[1:] != (C, self.window) or rr.shape != (n, self.rr_centre):
            raise ModelError(f"{self._name}: record_logits needs x (n, {C}, {self.window}) and rr (n, "
                             f"{self.rr_centre}), got {tuple(x.shape)} and {tuple(rr.shape)}",
                             fix="build the beats with context_beats=0 and drop_invalid=false")
        self.eval()
        if n == 0:
            return torch.zeros(0, self.n_classes)
        f32 = np.float32
        xm, xs = np.asarray(stats["x_mean"], f32), np.asarray(stats["x_std"], f32)
        own = torch.from_numpy(((x - xm[:C, None]) / xs[:C, None]).astype(f32, copy=False))
        rr_full = torch.from_numpy(self._record_rr(np.asarray(rr, f32), stats))
        # Neighbour block o, lead l: raw / s_ol - m_ol / s_ol = a_ol * (own main window, standardised) + b_ol.
        m64, s64 = np.asarray(xm, np.float64), np.asarray(xs, np.float64)
        near = np.arange(C, self.in_leads).reshape(2 * k, nl)
        a = np.zeros((self.n_beats, nl))
        b = np.zeros((self.n_beats, nl))
        for o in range(self.n_beats):  # the beat's own block (o == k) is the identity
            for lead in range(nl):
                c = lead if o == k else near[o - (o > k), lead]
                a[o, lead] = s64[lead] / s64[c]
                b[o, lead] = (m64[lead] - m64[c]) / s64[c]
        tok = self.beat_tokenizer
        scale, shift = tok.norm_affine()
        ones = own.new_ones(1, nl, self.window)
        unit = tok.linear_maps(ones)[0]                                    # (nl, d, T)
        stride = tok.tokenizer.stride  # the strided convolution (no padding) reads the first `used` samples only
        used = ((unit.shape[-1] - stride) // stride + 1) * stride
        unit = unit[..., :used]
        pad = (-(m64[:nl] / s64[:nl])).astype(f32)                         # a raw zero window, standardised
        maps = torch.cat([tok.linear_maps(own[i:i + batch_size, :nl])[..., :used] for i in range(0, n, batch_size)]
                         + [torch.einsum("l,ldt->ldt", torch.from_numpy(pad), unit)[None]])   # (n + 1, nl, d, T)
        a_t = torch.from_numpy(a.astype(f32))                              # (2k+1, nl)
        offset = torch.einsum("ol,ldt->odt", torch.from_numpy(b.astype(f32)), unit)          # (2k+1, d, T)
        weight = a_t[:, :, None, None] * scale                             # (2k+1, nl, d, 1)
        bias = offset * scale + shift                                      # (2k+1, d, T)
        steps = torch.arange(-k, k + 1)
        out = []
        for i in range(0, n, batch_size):
            rows = torch.arange(i, min(n, i + batch_size))
            idx = rows[:, None] + steps[None, :]                           # (B, 2k+1)
            idx = torch.where((idx >= 0) & (idx < n), idx, n)
            z = (maps[idx] * weight).sum(2) + bias if nl > 1 else torch.addcmul(bias, maps[idx][:, :, 0], weight[:, 0])
            tokens = tok.finish(z.flatten(0, 1)).view(len(rows), self.n_beats, -1)
            centre, r = own[i:i + batch_size], rr_full[i:i + batch_size]
            s = self._sequence(tokens, centre, r if self.n_rr else None)
            c = self.context_tokens(centre, r if self.n_rr else None)
            out.append(self.classifier(self._fuse(s, c)))  # forward: classifier(features)
        return torch.cat(out)

    def _record_rr(self, rr: np.ndarray, stats) -> np.ndarray:
        """The standardised ``rr`` columns of the context layout (as the dataset and the trainer build them)."""
        if not self.n_rr:
            return np.zeros((rr.shape[0], 0), np.float32)
        k = self.context_beats
        if k:
            from ..datasets.beats import context_rr

            rr = np.concatenate([rr, context_rr(rr, tuple(range(-k, 0)) + tuple(range(1, k + 1)))], axis=1)
        mean, std = np.asarray(stats["rr_mean"], np.float32), np.asarray(stats["rr_std"], np.float32)
        return ((rr - mean) / std).astype(np.float32, copy=False)

    @property
    def target_layer(self) -> nn.Module:
        """The centre tokenizer's strided mixing convolution stage: output ``(B, d_model, window // stride)``."""
        return self.centre_tokenizer.tokenizer.mix
