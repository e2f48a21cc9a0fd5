"""Selective state-space (Mamba-2 / SSD) scan and blocks, in pure PyTorch with an optional CUDA kernel.

The backbone of ECG-RAMBA. The recurrence, per head, with a scalar decay::

    h_t = exp(dt_t * A) * h_{t-1} + dt_t * x_t B_t^T        (state: headdim x d_state)
    y_t = h_t C_t

is computed by :func:`ssd_scan` in the chunked "state-space duality" form of
Dao & Gu, "Transformers are SSMs: Generalized Models and Efficient Algorithms
Through Structured State Space Duality", ICML 2024 (Mamba-2): inside a chunk
of ``Q`` steps the output is a causal, decay-masked matrix product (attention-
like, ``O(Q^2)`` per chunk); across chunks the states are passed with a second,
small matrix product over chunk boundaries. Cost and memory are linear in the
sequence length; no Python loop runs over time. :func:`ssd_scan_reference` is
the per-step recurrence, kept as the test oracle.

:class:`SelectiveSSM` is the Mamba-2 block (input-dependent ``dt``, ``B``,
``C``; short causal depthwise convolution; gated output; Gu & Dao, "Mamba:
Linear-Time Sequence Modeling with Selective State Spaces", 2023, for the
selection mechanism and the ``dt`` initialisation) and :class:`BiSSMBlock` the
bidirectional pre-norm residual block used by ECG-RAMBA.

When ``mamba_ssm`` is installed with CUDA and the tensors are on a GPU,
:func:`ssd_scan` calls its fused Triton chunk-scan kernel instead (same
arguments, same result up to rounding).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError

__all__ = ["ssd_scan", "ssd_scan_reference", "segsum", "SelectiveSSM", "BiSSMBlock", "reverse_padded"]

try:  # optional fused CUDA kernel; any failure to import leaves the pure-PyTorch path
    from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined as _fused_chunk_scan
except Exception:  # noqa: BLE001 - ImportError, missing CUDA/Triton, ABI mismatch: all mean "not available"
    _fused_chunk_scan = None

SCANS = ("auto", "chunked", "reference")


def _check_scan_shapes(x, dt, A, B, C) -> tuple[int, int]:
    """Validate the ``ssd_scan`` argument shapes; returns ``(heads, groups)``."""
    if x.dim() != 4:
        raise ModelError(f"ssd_scan: x must be (batch, length, heads, headdim), got shape {tuple(x.shape)}",
                         fix="reshape the inner channels to (heads, headdim)")
    b, L, h, _ = x.shape
    if dt.shape != (b, L, h) or A.shape != (h,):
        raise ModelError(f"ssd_scan: dt must be {(b, L, h)} and A ({h},), got {tuple(dt.shape)} and "
                         f"{tuple(A.shape)}", fix="pass one dt per step and head and one A per head")
    if B.dim() != 4 or B.shape != C.shape or B.shape[:2] != (b, L):
        raise ModelError(f"ssd_scan: B and C must both be (batch={b}, length={L}, groups, d_state), got "
                         f"{tuple(B.shape)} and {tuple(C.shape)}", fix="project B and C to the same shape")
    g = B.shape[2]
    if h % g:
        raise ModelError(f"ssd_scan: {h} heads are not divisible by {g} groups",
                         fix="choose ngroups that divides the number of heads")
    return h, g


def segsum(a: torch.Tensor) -> torch.Tensor:
    """Segment sums ``out[..., i, j] = a[j+1] + ... + a[i]`` along the last axis; ``-inf`` where ``i < j``.

    Built by a masked cumulative sum (not a difference of two cumulative sums),
    so each entry is a sum of non-positive log decays with no cancellation, and
    ``exp(out)`` is the causal decay matrix without ever exponentiating a large
    positive number. ``a``: ``(..., Q)`` -> ``(..., Q, Q)``.
    """
    q = a.shape[-1]
    x = a.unsqueeze(-1).expand(*a.shape, q)                      # x[..., i, j] = a_i
    strict = torch.ones(q, q, dtype=torch.bool, device=a.device).tril(-1)
    out = torch.cumsum(x.masked_fill(~strict, 0.0), dim=-2)      # sum over j < k <= i
    return out.masked_fill(~strict.logical_or(torch.eye(q, dtype=torch.bool, device=a.device)), -math.inf)


def ssd_scan(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, *,
             chunk_size: int = 64, initial_state: torch.Tensor | None = None,
             return_final_state: bool = False):
    """Selective scan with a scalar decay per head, chunked (Mamba-2 SSD; Dao & Gu 2024).

    ``x (b, L, h, p)``, ``dt (b, L, h)`` positive (already softplus-ed), ``A (h,)``
    negative, ``B``/``C (b, L, g, n)`` with ``h % g == 0`` (head ``k`` uses group
    ``k // (h // g)``), ``initial_state (b, h, p, n)``. Returns ``y (b, L, h, p)``
    and, with ``return_final_state``, also the state after the last step
    ``(b, h, p, n)``. Any ``L`` (the last chunk is padded with ``dt = 0``, which
    leaves the state unchanged); float16/bfloat16 are computed in float32.

    On CUDA with ``mamba_ssm`` installed, the fused kernel
    ``mamba_chunk_scan_combined`` runs instead (not testable on CPU-only CI).
    """
    if _fused_chunk_scan is not None and x.is_cuda:  # pragma: no cover - needs mamba_ssm + a GPU
        out = _fused_chunk_scan(x, dt, A, B, C, chunk_size, initial_states=initial_state,
                                return_final_states=return_final_state)
        return tuple(out) if return_final_state else out
    h, g = _check_scan_shapes(x, dt, A, B, C)
    if chunk_size < 1:
        raise ModelError(f"ssd_scan: chunk_size must be >= 1, got {chunk_size}", fix="use e.g. 64")
    out_dtype = x.dtype
    work = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    x, dt, A, B, C = (t.to(work) for t in (x, dt, A, B, C))
    b, L, _, p = x.shape
    n, r = B.shape[-1], h // g
    q = min(chunk_size, L)
    pad = (-L) % q
    if pad:  # dt = 0 -> decay 1 and no input: the state passes through the padding unchanged
        x, dt, B, C = (F.pad(t, (0, 0) * (t.dim() - 2) + (0, pad)) for t in (x, dt, B, C))
    nc = (L + pad) // q
    xc = (x * dt.unsqueeze(-1)).view(b, nc, q, g, r, p)         # dt_t x_t
    Bc, Cc = B.view(b, nc, q, g, n), C.view(b, nc, q, g, n)
    a = (dt * A).view(b, nc, q, h).permute(0, 1, 3, 2)           # log decays (b, c, h, q), <= 0
    seg = segsum(a)                                              # (b, c, h, q, q)
    decay = torch.exp(seg).view(b, nc, g, r, q, q)

    # 1. within each chunk: y_i = sum_{j<=i} (C_i . B_j) exp(a_{j+1}+...+a_i) dt_j x_j
    cb = torch.einsum("bcign,bcjgn->bcgij", Cc, Bc)
    y = torch.einsum("bcgrij,bcjgrp->bcigrp", decay * cb.unsqueeze(3), xc)

    # 2. state contributed by each chunk, at its end: sum_j exp(a_{j+1}+...+a_{Q-1}) dt_j x_j B_j^T
    to_end = decay[..., -1, :]                                   # (b, c, g, r, q)
    states = torch.einsum("bcgrj,bcjgn,bcjgrp->bcgrpn", to_end, Bc, xc)

    # 3. pass states across chunk boundaries (matrix form over the nc+1 boundaries)
    if initial_state is None:
        init = states.new_zeros(b, 1, g, r, p, n)
    else:
        if initial_state.shape != (b, h, p, n):
            raise ModelError(f"ssd_scan: initial_state must be {(b, h, p, n)}, got "
                             f"{tuple(initial_state.shape)}",
                             fix="pass the final state of a previous call on the same batch")
        init = initial_state.to(work).view(b, 1, g, r, p, n)
    states = torch.cat([init, states], dim=1)                    # (b, c+1, g, r, p, n)
    chunk_decay = F.pad((seg[..., -1, 0] + a[..., 0]).transpose(1, 2), (1, 0))  # per-chunk total, (b, h, c+1)
    across = torch.exp(segsum(chunk_decay)).view(b, g, r, nc + 1, nc + 1)
    states = torch.einsum("bgrzc,bcgrpn->bzgrpn", across, states)
    entering, final = states[:, :-1], states[:, -1]

    # 4. output from the state entering each chunk: y_i += exp(a_0+...+a_i) C_i . h_entering
    from_start = torch.exp(seg[..., :, 0] + a[..., :1]).view(b, nc, g, r, q)
    y = y + torch.einsum("bcign,bcgrpn,bcgri->bcigrp", Cc, entering, from_start)
    y = y.reshape(b, nc * q, h, p)[:, :L].to(out_dtype)
    if return_final_state:
        return y, final.reshape(b, h, p, n).to(out_dtype)
    return y


def ssd_scan_reference(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                       C: torch.Tensor, *, chunk_size: int = 64, initial_state: torch.Tensor | None = None,
                       return_final_state: bool = False):
    """The scan of :func:`ssd_scan`, one step at a time (the test oracle; slow; ``chunk_size`` is ignored)."""
    del chunk_size
    h, g = _check_scan_shapes(x, dt, A, B, C)
    b, L, _, p = x.shape
    Bh, Ch = (t.repeat_interleave(h // g, dim=2) for t in (B, C))  # (b, L, h, n)
    state = x.new_zeros(b, h, p, B.shape[-1]) if initial_state is None else initial_state
    ys = []
    for t in range(L):
        decay = torch.exp(dt[:, t] * A)[..., None, None]
        state = decay * state + (dt[:, t, :, None] * x[:, t]).unsqueeze(-1) * Bh[:, t].unsqueeze(-2)
        ys.append(torch.einsum("bhpn,bhn->bhp", state, Ch[:, t]))
    y = torch.stack(ys, dim=1) if ys else x.new_zeros(x.shape)
    return (y, state) if return_final_state else y


def _inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    """``x`` such that ``softplus(x) == y`` (``y > 0``), computed stably."""
    return y + torch.log(-torch.expm1(-y))


class SelectiveSSM(nn.Module):
    """Mamba-2 selective state-space block: ``(B, L, d_model) -> (B, L, d_model)``, causal in time.

    One linear projection gives the gate ``z``, the inner sequence ``x``, the
    input/output matrices ``B``, ``C`` (``ngroups`` groups of ``d_state``) and one
    ``dt`` per head; ``x``, ``B``, ``C`` pass a causal depthwise convolution
    (``d_conv`` taps) and SiLU; ``dt = softplus(dt + dt_bias)`` with ``dt_bias``
    initialised so that ``dt`` is log-uniform in ``[dt_min, dt_max]`` (Gu & Dao
    2023); ``A = -exp(A_log)`` with ``-A`` uniform in ``A_init_range``; the scan
    (:func:`ssd_scan`) adds a ``D`` skip per head; the output is
    ``out_proj(RMSNorm(y * SiLU(z)))`` (Dao & Gu 2024).

    ``d_inner = expand * d_model`` is split into ``d_inner // headdim`` heads
    (or pass ``n_heads``). ``chunk_size`` defaults to 32, which ran 1.2-1.8x
    faster than 64 (forward + backward, one CPU thread, L = 128-2048;
    docs/bench/ssm_speed.md); on a GPU use 64-256. ``scan``: ``"auto"`` (chunked, or the fused
    ``mamba_ssm`` kernel on CUDA when installed), ``"chunked"`` or
    ``"reference"`` (the per-step loop; for tests and benchmarks).
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2, headdim: int = 16,
                 n_heads: int | None = None, ngroups: int = 1, chunk_size: int = 32, dt_min: float = 1e-3,
                 dt_max: float = 0.1, dt_init_floor: float = 1e-4,
                 A_init_range: tuple[float, float] = (1.0, 16.0), scan: str = "auto") -> None:
        super().__init__()
        d_inner = expand * d_model
        if n_heads is not None:
            headdim = d_inner // n_heads if n_heads > 0 else 0
        if headdim < 1 or d_inner % headdim:
            raise ModelError(f"SelectiveSSM: d_inner = expand * d_model = {d_inner} cannot be split into "
                             f"heads of size {headdim}",
                             fix="choose headdim (or n_heads) dividing expand * d_model")
        heads = d_inner // headdim
        if ngroups < 1 or heads % ngroups:
            raise ModelError(f"SelectiveSSM: {heads} heads are not divisible by ngroups={ngroups}",
                             fix="choose ngroups dividing the number of heads")
        if scan not in SCANS:
            raise ModelError(f"SelectiveSSM: unknown scan {scan!r}", fix=f"use one of {', '.join(SCANS)}")
        if not 0 < dt_min <= dt_max:
            raise ModelError(f"SelectiveSSM: need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}",
                             fix="e.g. dt_min=1e-3, dt_max=0.1")
        self.d_model, self.d_inner, self.d_state = d_model, d_inner, d_state
        self.headdim, self.n_heads = headdim, heads
        self.ngroups, self.chunk_size, self.scan = ngroups, chunk_size, scan
        conv_dim = d_inner + 2 * ngroups * d_state
        self.in_proj = nn.Linear(d_model, d_inner + conv_dim + heads, bias=False)
        self.conv1d = nn.Conv1d(conv_dim, conv_dim, d_conv, groups=conv_dim, padding=d_conv - 1)
        dt = torch.exp(torch.rand(heads) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.dt_bias = nn.Parameter(_inverse_softplus(dt.clamp(min=dt_init_floor)))
        self.A_log = nn.Parameter(torch.log(torch.empty(heads).uniform_(*A_init_range)))
        self.D = nn.Parameter(torch.ones(heads))
        self.norm = nn.RMSNorm(d_inner, eps=1e-5)
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.dim() != 3 or u.shape[-1] != self.d_model:
            raise ModelError(f"SelectiveSSM: expected input (batch, length, {self.d_model}), got "
                             f"{tuple(u.shape)}",
                             fix="pass tokens as (batch, length, d_model)")
        b, L, _ = u.shape
        sizes = [self.d_inner, self.conv1d.in_channels, self.n_heads]
        z, xbc, dt = torch.split(self.in_proj(u), sizes, dim=-1)
        # causal depthwise convolution: pad d_conv - 1 on both sides, keep the first L outputs
        xbc = F.silu(self.conv1d(xbc.transpose(1, 2))[..., :L].transpose(1, 2))
        gn = self.ngroups * self.d_state
        x, B, C = torch.split(xbc, [self.d_inner, gn, gn], dim=-1)
        x = x.reshape(b, L, self.n_heads, self.headdim)
        scan = ssd_scan_reference if self.scan == "reference" else ssd_scan
        y = scan(x, F.softplus(dt + self.dt_bias), -torch.exp(self.A_log),
                 B.reshape(b, L, self.ngroups, self.d_state), C.reshape(b, L, self.ngroups, self.d_state),
                 chunk_size=self.chunk_size)
        y = (y + x * self.D[:, None]).reshape(b, L, self.d_inner)
        return self.out_proj(self.norm(y * F.silu(z)))


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Reverse each sequence of ``x (B, L, ...)`` in time within its first ``lengths[i]`` steps.

    Padding (the steps from ``lengths[i]`` on) stays where it is, so a causal
    model run on the result never sees it before the real steps. The map is its
    own inverse. ``lengths=None`` reverses the whole time axis.
    """
    if lengths is None:
        return x.flip(1)
    t = torch.arange(x.shape[1], device=x.device)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, L)
    return x.gather(1, idx.view(*idx.shape, *(1,) * (x.dim() - 2)).expand_as(x))


class BiSSMBlock(nn.Module):
    """Bidirectional selective SSM block: ``x + Dropout(fwd(n) + rev(bwd(rev(n))))`` with ``n = RMSNorm(x)``.

    Two :class:`SelectiveSSM` with separate weights read the normalised
    sequence forwards and time-reversed; their outputs are summed (each already
    ends in its own output projection, so the sum equals a linear map of the
    concatenated inner features, with no extra parameters), as in the
    bidirectional Mamba of Vision Mamba (Zhu et al., ICML 2024). Keywords go to
    both :class:`SelectiveSSM`.

    ``mask (B, L)`` (optional, ``True`` = real step) supports right-padded
    batches of different lengths: each sequence is reversed within its own
    length, so neither direction sees padding before real steps, and padded
    outputs are set to zero. Without a mask every sequence is taken as full length.
    """

    def __init__(self, d_model: int, dropout: float = 0.0, **ssm_kwargs) -> None:
        super().__init__()
        self.norm = nn.RMSNorm(d_model, eps=1e-5)
        self.forward_ssm = SelectiveSSM(d_model, **ssm_kwargs)
        self.backward_ssm = SelectiveSSM(d_model, **ssm_kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        lengths = None
        if mask is not None:
            if mask.shape != x.shape[:2]:
                raise ModelError(f"BiSSMBlock: mask must be (batch, length) = {tuple(x.shape[:2])}, got "
                                 f"{tuple(mask.shape)}",
                                 fix="pass one boolean per token, True for real tokens")
            mask = mask.bool()
            lengths = mask.sum(1)
            if not torch.equal(mask, torch.arange(x.shape[1], device=x.device) < lengths[:, None]):
                raise ModelError("BiSSMBlock: mask is not right-padded (real tokens first, then padding)",
                                 fix="put each sequence's real tokens at the start of its row")
        n = self.norm(x)
        y = self.forward_ssm(n) + reverse_padded(self.backward_ssm(reverse_padded(n, lengths)), lengths)
        out = x + self.dropout(y)
        return out if mask is None else out * mask.unsqueeze(-1).to(out.dtype)
