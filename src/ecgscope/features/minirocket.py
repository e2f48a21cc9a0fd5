"""MiniRocket in PyTorch: Dempster, Schmidt & Webb (2021), "MINIROCKET: A very fast
(almost) deterministic transform for time series classification", KDD '21.

The transform convolves a series with 84 fixed length-9 kernels (three of the nine
weights are 2, the other six −1: every choice of 3 positions out of 9) at a set of
dilations spaced exponentially up to ``(L − 1) / 8``, and pools each output with PPV,
the proportion of positive values of ``conv − bias``. Biases are quantiles (a
golden-ratio low-discrepancy sequence) of the convolution output of one random
training example per (dilation, kernel). Kernels at odd ``(dilation index + kernel
index)`` are pooled over the unpadded part of the output only ("alternating padding").
A multivariate series is handled by giving each (dilation, kernel) a random subset
of 1–9 channels and summing the convolution over them.

Fitted parameters live in registered buffers, so ``state_dict()`` → safetensors →
``load_state_dict`` on a fresh (unfitted) instance restores the exact transform:
buffers are resized on load. :meth:`MiniRocket.from_aeon` copies the parameters of a
fitted ``aeon`` MiniRocket; the features then agree with aeon's to float rounding.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ECGScopeError, LeadCountError, ModelError, NonFiniteSignalError, SignalError

__all__ = ["MiniRocket", "KERNEL_LENGTH", "N_KERNELS"]

KERNEL_LENGTH = 9
#: The 84 kernels: positions (of 9) holding weight 2, in lexicographic order.
KERNEL_POSITIONS = np.array(list(combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)
N_KERNELS = len(KERNEL_POSITIONS)
_MAX_CHANNELS_PER_COMBINATION = 9
_BLOCK = 1 << 19  # convolution outputs per block of series in forward (CPU cache)
_COMPARE_CHUNK = 1 << 18  # float32 elements of one comparison block in PPV pooling (fits in cache)

# Fitted state, in the order of a state dict. Shapes are those of an unfitted instance.
_BUFFERS = ("dilations", "features_per_dilation", "biases", "channels_per_combination",
            "channel_indices", "trim_padding", "n_channels", "input_length")


def _kernel_weights() -> Tensor:
    """The fixed kernel bank, float32 ``(84, 1, 9)``: −1 everywhere, 2 at the chosen positions."""
    w = -torch.ones(N_KERNELS, KERNEL_LENGTH)
    w[torch.arange(N_KERNELS)[:, None], torch.as_tensor(KERNEL_POSITIONS)] = 2.0
    return w[:, None, :]


def fit_dilations(length: int, num_features: int, max_dilations_per_kernel: int) -> tuple[np.ndarray, np.ndarray]:
    """Dilations ``2**linspace(0, log2((L-1)/8))`` (floored, unique) and features per dilation.

    Each kernel gets ``num_features // 84`` features, shared over its dilations in
    proportion to how often a dilation appears before ``unique``; the remainder goes
    one by one to the smallest dilations (the paper's scheme, as in aeon).
    """
    per_kernel = num_features // N_KERNELS
    n_dil = min(per_kernel, max_dilations_per_kernel)
    exponents = np.linspace(0.0, np.log2((length - 1) / (KERNEL_LENGTH - 1)), n_dil)
    dilations, counts = np.unique((2.0 ** exponents).astype(np.int64), return_counts=True)
    per_dilation = (counts * (per_kernel / n_dil)).astype(np.int64)
    for i in range(per_kernel - int(per_dilation.sum())):
        per_dilation[i % per_dilation.size] += 1
    return dilations, per_dilation


def golden_quantiles(n: int) -> np.ndarray:
    """The low-discrepancy quantiles ``(k * φ) mod 1`` for ``k = 1..n`` (float32)."""
    k = np.arange(1, n + 1, dtype=np.float64)
    return ((k * ((np.sqrt(5.0) + 1.0) / 2.0)) % 1.0).astype(np.float32)


def _as_tensor3(X, what: str = "X") -> Tensor:
    """``X`` as a float32 tensor ``(n, channels, length)``, with the checks every entry point needs."""
    x = X if isinstance(X, Tensor) else torch.as_tensor(np.asarray(X))
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise SignalError(f"{what} has shape {tuple(x.shape)}; MiniRocket takes (n, channels, length) or (n, length)",
                          fix="stack equal-length windows into one array")
    if not (x.is_floating_point() or x.dtype in (torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise SignalError(f"{what} has dtype {x.dtype}; MiniRocket needs real numbers", fix="pass a float array")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise SignalError(f"{what} has shape {tuple(x.shape)}: no series or no channels",
                          fix="pass at least one series with at least one channel")
    if x.shape[2] < KERNEL_LENGTH:
        raise SignalError(f"{what} series have {x.shape[2]} samples; MiniRocket needs at least {KERNEL_LENGTH}",
                          fix=f"zero-pad the series to {KERNEL_LENGTH} samples or use longer windows")
    x = x.to(torch.float32)
    if not bool(torch.isfinite(x).all()):
        raise NonFiniteSignalError(f"{what} holds NaN or infinite values",
                                   fix="interpolate or drop the non-finite samples before MiniRocket")
    return x


class MiniRocket(nn.Module):
    """MiniRocket transform (Dempster et al. 2021): ``fit`` on training series, then PPV features.

    Parameters follow aeon's ``MiniRocket``: ``num_features`` (aeon's ``n_kernels``)
    is rounded down to a multiple of 84 (at least 84); ``max_dilations_per_kernel``
    caps the dilations; ``random_state`` seeds the channel subsets and the training
    examples the biases come from. Input is ``(n, channels, length)`` or ``(n, length)``;
    transform needs the channel count and length seen in ``fit`` (aeon refuses other
    lengths too).
    """

    def __init__(self, num_features: int = 10_000, max_dilations_per_kernel: int = 32, random_state=None) -> None:
        super().__init__()
        if int(max_dilations_per_kernel) < 1:
            raise ECGScopeError(f"max_dilations_per_kernel={max_dilations_per_kernel} must be >= 1",
                                fix="pass a positive integer (the paper uses 32)")
        self.num_features = max(int(num_features), N_KERNELS)
        self.max_dilations_per_kernel = int(max_dilations_per_kernel)
        self.random_state = random_state
        for name in _BUFFERS:
            dtype = torch.float32 if name == "biases" else torch.bool if name == "trim_padding" else torch.int64
            shape = () if name in ("n_channels", "input_length") else (0, N_KERNELS) if name == "trim_padding" else (0,)
            self.register_buffer(name, torch.zeros(shape, dtype=dtype))
        self.register_buffer("weights", _kernel_weights(), persistent=False)

    # ----------------------------------------------------------------- state
    @property
    def fitted(self) -> bool:
        """Whether parameters have been fitted or loaded."""
        return int(self.input_length) > 0

    @property
    def n_features_out(self) -> int:
        """Number of output features: ``84 * sum(features_per_dilation)`` once fitted."""
        if self.fitted:
            return N_KERNELS * int(self.features_per_dilation.sum())
        return N_KERNELS * (self.num_features // N_KERNELS)

    def _set_parameters(self, n_channels: int, length: int, dilations, features_per_dilation,
                        channels_per_combination, channel_indices, biases) -> None:
        dil = torch.as_tensor(np.asarray(dilations), dtype=torch.int64)
        j = torch.arange(dil.numel())[:, None]
        k = torch.arange(N_KERNELS)[None, :]
        self.dilations = dil.to(self.weights.device)
        values = {"features_per_dilation": features_per_dilation, "channels_per_combination": channels_per_combination,
                  "channel_indices": channel_indices}
        for name, value in values.items():
            setattr(self, name, torch.as_tensor(np.asarray(value), dtype=torch.int64, device=self.weights.device))
        self.biases = torch.as_tensor(np.asarray(biases), dtype=torch.float32, device=self.weights.device).clone()
        self.trim_padding = ((j + k) % 2 == 1).to(self.weights.device)
        self.n_channels = torch.tensor(int(n_channels), device=self.weights.device)
        self.input_length = torch.tensor(int(length), device=self.weights.device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resize the fitted-parameter buffers to the incoming tensors, so a fresh instance loads a fitted one."""
        for name in _BUFFERS:
            value = state_dict.get(prefix + name)
            if isinstance(value, Tensor) and value.shape != self._buffers[name].shape:
                self._buffers[name] = torch.empty_like(value, device=self._buffers[name].device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> MiniRocket:
        """A fitted MiniRocket from ``state_dict()`` output (e.g. read back from safetensors)."""
        model = cls()
        model.load_state_dict(state)
        model.num_features = model.n_features_out
        return model

    @classmethod
    def from_aeon(cls, fitted) -> MiniRocket:
        """Copy the fitted parameters of aeon's ``MiniRocket`` (``parameters`` and ``metadata_``)."""
        try:
            n_per_comb, channel_indices, dilations, per_dilation, biases = fitted.parameters
            n_channels, length = fitted.metadata_["n_channels"], fitted.metadata_["n_timepoints"]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"not a fitted aeon MiniRocket ({exc})", fix="call fit(X) on the aeon estimator first") from exc
        model = cls(num_features=len(biases), max_dilations_per_kernel=getattr(fitted, "max_dilations_per_kernel", 32))
        model._set_parameters(n_channels, length, dilations, per_dilation, n_per_comb, channel_indices, biases)
        return model

    # ------------------------------------------------------------------- fit
    def fit(self, X, y=None) -> MiniRocket:
        """Fit dilations (from the series length), channel subsets and biases on training series ``X``."""
        x = _as_tensor3(X)
        n, n_channels, length = x.shape
        rng = np.random.default_rng(self.random_state)
        dilations, per_dilation = fit_dilations(length, self.num_features, self.max_dilations_per_kernel)
        n_comb = dilations.size * N_KERNELS
        top = np.log2(min(n_channels, _MAX_CHANNELS_PER_COMBINATION) + 1)
        n_per_comb = (2.0 ** rng.uniform(0.0, top, n_comb)).astype(np.int64)
        channel_indices = np.concatenate([rng.choice(n_channels, m, replace=False) for m in n_per_comb])
        examples = rng.integers(0, n, size=n_comb)
        biases = np.zeros(N_KERNELS * int(per_dilation.sum()), dtype=np.float32)
        self._set_parameters(n_channels, length, dilations, per_dilation, n_per_comb, channel_indices, biases)
        quantiles = golden_quantiles(biases.size)
        masks = self._channel_masks(x.device)
        start = 0
        with torch.no_grad():
            for j, d in enumerate(dilations.tolist()):
                rows = slice(j * N_KERNELS, (j + 1) * N_KERNELS)
                idx = torch.as_tensor(examples[rows], device=x.device)
                # Example e_k for kernel k: its channels summed -> one row per kernel, then a depthwise conv.
                z = torch.einsum("kcl,kc->kl", x[idx], masks[j])[None]
                conv = torch.nn.functional.conv1d(z, self.weights.to(x.device), padding=4 * d, dilation=d,
                                                  groups=N_KERNELS)[0].cpu().numpy()
                nf = int(per_dilation[j])
                for k in range(N_KERNELS):
                    biases[start:start + nf] = np.quantile(conv[k], quantiles[start:start + nf])
                    start += nf
        self.biases = torch.as_tensor(biases, device=self.weights.device)
        return self

    # ------------------------------------------------------------- transform
    def _channel_masks(self, device) -> Tensor:
        """Float ``(n_dilations, 84, n_channels)``: 1 where a channel belongs to a (dilation, kernel) combination."""
        n_comb = self.dilations.numel() * N_KERNELS
        rows = torch.repeat_interleave(torch.arange(n_comb), self.channels_per_combination.cpu())
        mask = torch.zeros(n_comb, int(self.n_channels))
        mask[rows, self.channel_indices.cpu()] = 1.0
        return mask.view(-1, N_KERNELS, int(self.n_channels)).to(device)

    def _check_fitted_input(self, x: Tensor) -> None:
        if not self.fitted:
            raise ModelError("MiniRocket is not fitted", fix="call fit(X) or load a fitted state_dict first")
        if x.shape[1] != int(self.n_channels):
            raise LeadCountError(f"input has {x.shape[1]} channels; MiniRocket was fitted on {int(self.n_channels)}",
                                 fix="pass the same leads, in the same order, as in fit")
        if x.shape[2] != int(self.input_length):
            raise SignalError(f"input series have {x.shape[2]} samples; MiniRocket was fitted on "
                              f"{int(self.input_length)}", fix="cut or pad windows to the fitted length")

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        """PPV features ``(n, n_features_out)`` float32 of ``x`` ``(n, channels, length)``, on ``x``'s device.

        Series go through in blocks of about ``_BLOCK`` convolution outputs, so one block's
        outputs stay in cache between the convolution and the pooling.
        """
        x = _as_tensor3(x, "input")
        self._check_fitted_input(x)
        rows = max(1, _BLOCK // (N_KERNELS * x.shape[2])) if x.device.type == "cpu" else x.shape[0]
        plan = self._plan(x.device, x.shape[1] > 1)
        return torch.cat([self._features(x[i:i + rows], plan) for i in range(0, x.shape[0], rows)])

    def _plan(self, device, multivariate: bool) -> list[tuple]:
        """Per dilation: (dilation, kernel order full-then-trimmed, n full, weights, biases, channel mask, slice)."""
        biases = self.biases.to(device)
        weights = self.weights.to(device)
        masks = self._channel_masks(device) if multivariate else None
        plan, start = [], 0
        for j, (d, nf) in enumerate(zip(self.dilations.tolist(), self.features_per_dilation.tolist())):
            trim = self.trim_padding[j].cpu()
            order = torch.cat([torch.nonzero(~trim).flatten(), torch.nonzero(trim).flatten()]).to(device)
            stop = start + N_KERNELS * nf
            plan.append((d, order, int((~trim).sum()), weights[order], biases[start:stop].view(N_KERNELS, nf)[order],
                         None if masks is None else masks[j][order], slice(start, stop)))
            start = stop
        return plan

    def _features(self, x: Tensor, plan: list[tuple]) -> Tensor:
        """Features of one block of series (see :meth:`forward`)."""
        n, _, length = x.shape
        out = torch.empty(n, self.n_features_out, dtype=torch.float32, device=x.device)
        for d, order, n_full, weights, biases, mask, cols in plan:
            if mask is None:
                conv = _shifted_matmul(x[:, 0], weights[:, 0], d)
            else:
                z = torch.einsum("ncl,kc->nkl", x, mask)
                if d > 1 and x.device.type == "cpu":
                    conv = _depthwise_taps(z, weights[:, 0], d)
                else:
                    conv = torch.nn.functional.conv1d(z, weights, padding=4 * d, dilation=d, groups=N_KERNELS)
            pad = 4 * d
            ppv = torch.cat([_ppv(conv[:, :n_full], biases[:n_full]),
                             _ppv(conv[:, n_full:, pad:length - pad], biases[n_full:])], dim=1)
            out[:, cols].view(n, N_KERNELS, -1)[:, order] = ppv
        return out

    def transform(self, X, batch_size: int = 256) -> np.ndarray:
        """Features of ``X`` as a float32 NumPy array ``(n, n_features_out)``, ``batch_size`` series at a time."""
        x = _as_tensor3(X)
        self._check_fitted_input(x)
        return torch.cat([self(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)]).cpu().numpy()

    def extra_repr(self) -> str:
        return (f"num_features={self.num_features}, max_dilations_per_kernel={self.max_dilations_per_kernel}, "
                f"fitted={self.fitted}")


def _shifted_matmul(x: Tensor, weights: Tensor, dilation: int) -> Tensor:
    """Outputs ``(n, k, L)`` of kernels ``weights`` ``(k, 9)`` on ``x`` ``(n, L)`` at ``dilation``, zero 'same' padding.

    The nine dilated shifts are stacked and multiplied in one batched matmul: about twice
    as fast as ``conv1d`` with one input channel on a CPU.
    """
    length = x.shape[-1]
    padded = torch.nn.functional.pad(x, (4 * dilation, 4 * dilation))
    shifts = torch.stack([padded[:, g * dilation:g * dilation + length] for g in range(KERNEL_LENGTH)], 1)
    return torch.matmul(weights, shifts)


def _depthwise_taps(z: Tensor, weights: Tensor, dilation: int) -> Tensor:
    """``conv1d(z, weights[:, None], padding=4 * dilation, dilation=dilation, groups=k)`` for ``z`` ``(n, k, L)``.

    The nine taps are added one after the other, in tap order, as the convolution sums them; the
    products are exact (weights -1 and 2), so the outputs are the same floats. On a CPU a dilated
    depthwise ``conv1d`` is several times slower than these nine multiply-adds on a cache-sized block.
    """
    length = z.shape[-1]
    padded = torch.nn.functional.pad(z, (4 * dilation, 4 * dilation))
    acc = padded[:, :, :length] * weights[:, 0:1]
    for g in range(1, KERNEL_LENGTH):
        acc.addcmul_(padded[:, :, g * dilation:g * dilation + length], weights[:, g:g + 1])
    return acc


def _ppv(conv: Tensor, biases: Tensor) -> Tensor:
    """Proportion of ``conv`` ``(n, k, L)`` above each bias ``(k, f)`` -> ``(n, k, f)``.

    Compares into a reused float32 block of at most ``_COMPARE_CHUNK`` elements (cache
    sized) and sums it: several times faster in PyTorch than summing a bool tensor. The
    float sum of 0/1 values is exact (L < 2**24), so ``count / L`` is what aeon computes.
    """
    n, k, length = conv.shape
    f = biases.shape[1]
    per_row = k * length
    feats = max(1, min(f, _COMPARE_CHUNK // per_row))
    rows = max(1, _COMPARE_CHUNK // (per_row * feats))
    block = torch.empty(min(rows, n) * k * feats * length, dtype=torch.float32, device=conv.device)
    counts = torch.empty(n, k, f, dtype=torch.float32, device=conv.device)
    for i in range(0, n, rows):
        c = conv[i:i + rows, :, None, :]
        for j in range(0, f, feats):
            b = biases[None, :, j:j + feats, None]
            out = block[:c.shape[0] * k * b.shape[2] * length].view(c.shape[0], k, b.shape[2], length)
            torch.gt(c, b, out=out)
            counts[i:i + rows, :, j:j + feats] = out.sum(-1)
    return counts / length
