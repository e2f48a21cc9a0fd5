"""ONNX export for CPU deployment, checked against onnxruntime.

The graph takes ``x: float32 (batch, in_leads, window)`` (and ``rr: float32
(batch, n_rr)`` when the model uses RR features) and returns ``logits``; the
batch dimension is dynamic. After writing, the file is run in onnxruntime and
its logits compared with the torch model's (default tolerance 1e-4).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ModelError

__all__ = ["export_onnx", "onnx_parity"]


def _dims(model: nn.Module, window: int | None, in_leads: int | None,
          n_rr: int | None) -> tuple[int, int, int]:
    """``(window, in_leads, n_rr)``: the given values, checked against the model's own when it has them."""
    resolved = []
    for key, given in (("window", window), ("in_leads", in_leads), ("n_rr", n_rr)):
        own = getattr(model, key, None)
        if given is None and own is None:
            raise ModelError(f"export_onnx needs {key} for a {type(model).__name__}", fix=f"pass {key}=...")
        if given is not None and own is not None and int(given) != int(own):
            raise ModelError(f"export_onnx: {key}={given} but the model was built with {key}={own}",
                             fix=f"pass {key}={own} or leave it out")
        resolved.append(int(given if given is not None else own))
    return resolved[0], resolved[1], resolved[2]


def _inputs(batch: int, in_leads: int, window: int, n_rr: int, seed: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_leads, window, generator=gen)
    if n_rr == 0:
        return (x,)
    return x, 0.5 + torch.rand(batch, n_rr, generator=gen)


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress lines, its optional-operator log and its deprecation chatter."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        registration.setLevel(level)


def export_onnx(model: nn.Module, path: str | os.PathLike, window: int | None = None,
                in_leads: int | None = None, n_rr: int | None = None, *, opset: int = 18, check: bool = True,
                atol: float = 1e-4) -> Path:
    """Write ``model`` as ONNX to ``path`` (dynamic batch); with ``check``, verify onnxruntime parity.

    ``window``, ``in_leads`` and ``n_rr`` default to the model's own. Raises
    ``ModelError`` when export fails or onnxruntime's logits differ from
    torch's by more than ``atol``. Returns ``path``.
    """
    window, in_leads, n_rr = _dims(model, window, in_leads, n_rr)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
    args = _inputs(2, in_leads, window, n_rr, seed=0)
    names = ["x", "rr"][: len(args)]
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    try:
        with _quiet_exporter(), torch.no_grad():
            program = torch.onnx.export(model, args, dynamo=True, input_names=names, output_names=["logits"],
                                        dynamic_shapes=tuple({0: batch} for _ in args), opset_version=opset,
                                        external_data=False, verbose=False)
            program.save(str(path))
    except ModelError:
        raise
    except Exception as exc:  # exporter failures come as many types
        raise ModelError(f"ONNX export of {type(model).__name__} failed ({type(exc).__name__}: {exc})",
                         path=path, fix="report this model and its model_kwargs") from None
    finally:
        model.train(was_training)
    if check:
        diff = onnx_parity(model, path, window, in_leads, n_rr)
        if not diff <= atol:
            raise ModelError(f"onnxruntime logits differ from torch by {diff:.2e} (> {atol:g})", path=path,
                             fix="do not deploy this file; export with another opset or report the model")
    return path


def onnx_parity(model: nn.Module, path: str | os.PathLike, window: int | None = None,
                in_leads: int | None = None, n_rr: int | None = None, *, batch: int = 3,
                seed: int = 1) -> float:
    """Largest absolute difference between torch and onnxruntime logits on a random batch."""
    import onnxruntime as ort

    window, in_leads, n_rr = _dims(model, window, in_leads, n_rr)
    args = _inputs(batch, in_leads, window, n_rr, seed=seed)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = model(*args).float().cpu().numpy()
    finally:
        model.train(was_training)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feeds = {inp.name: a.numpy() for inp, a in zip(session.get_inputs(), args)}
        got = session.run(None, feeds)[0]
    except Exception as exc:  # onnxruntime errors are not a common type
        raise ModelError(f"onnxruntime cannot run the exported file ({exc})", path=path,
                         fix="export again with export_onnx") from None
    if got.shape != expected.shape:
        return float("inf")
    return float(np.max(np.abs(got - expected)))
