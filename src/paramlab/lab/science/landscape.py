"""The loss along straight lines between two trained MLPs, and the barrier on the way.

Between weights θ_a and θ_b the path is θ(t) = (1 − t)·θ_a + t·θ_b; the *barrier* is the
largest rise of the loss above the straight line between the end points' losses,
max_t L(θ(t)) − ((1 − t)·L(θ_a) + t·L(θ_b)) (Frankle et al. 2020; Ainsworth et al. 2022,
"Git Re-Basin"). 0 means one convex-looking valley; a large value, two basins. Losses are the
engine's (mean squared error or cross-entropy, mean over rows), so the end points equal the
recorded training and test losses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from paramlab.lab.engine import per_model_loss
from paramlab.lab.science.hessian import mlp_output


def path_losses(a: Sequence[np.ndarray], b: Sequence[np.ndarray], x: np.ndarray,
                y: np.ndarray, ts: np.ndarray, *, loss: str, activation: str,
                rows_per_chunk: int = 4096) -> np.ndarray:
    """L(θ(t)) for each t (mean over rows, in float64)."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y))
    yt = yt.long().reshape(-1) if loss == "cross_entropy" else yt.double().reshape(
        xt.shape[0], -1)
    out = np.zeros(len(ts))
    with torch.no_grad():
        for k, t in enumerate(ts):
            params = [torch.as_tensor((1 - t) * wa + t * wb, dtype=torch.float64)
                      for wa, wb in zip(a, b, strict=True)]
            total = 0.0
            for start in range(0, xt.shape[0], rows_per_chunk):
                chunk = mlp_output(params, xt[start: start + rows_per_chunk], activation)
                rows = chunk.shape[0]
                mean = per_model_loss(chunk[None], yt[start: start + rows], loss)[0]
                total += float(mean) * rows
            out[k] = total / xt.shape[0]
    return out


def barrier(ts: np.ndarray, losses: np.ndarray) -> float:
    """The largest rise of the loss above the line between the end points' losses."""
    line = (1 - ts) * losses[0] + ts * losses[-1]
    return float(np.max(losses - line))


def polish(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, *, loss: str,
           activation: str, iterations: int = 500) -> list[np.ndarray]:
    """The nearest minimum: full-batch L-BFGS (float64) from the given weights, so refits of
    a small model are compared where the gradient vanishes rather than where stochastic
    training happened to stop."""
    from paramlab.lab.science.hessian import summed_loss

    params = [torch.tensor(np.asarray(w), dtype=torch.float64, requires_grad=True)
              for w in weights]
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y))
    yt = yt.long().reshape(-1) if loss == "cross_entropy" else yt.double().reshape(
        xt.shape[0], -1)
    optimizer = torch.optim.LBFGS(params, max_iter=iterations, tolerance_grad=1e-12,
                                  tolerance_change=1e-15, history_size=50,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        value = summed_loss(params, xt, yt, loss, activation) / xt.shape[0]
        value.backward()  # type: ignore[no-untyped-call]
        return value

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    return [p.detach().numpy().copy() for p in params]


__all__ = ["barrier", "path_losses", "polish"]
