"""How fast are the top Hessian eigenvalues of the seed's network?

The seed's 40 → 256 → 256 → 1 MLP (76,545 parameters) trained by the batched engine on the
13,000 × 40 synthetic regression; then the top-100 eigenvalues of the Hessian of its summed
training loss over all 13,000 rows, both at the same tolerance (ARPACK's: every Ritz residual
≤ tol·|θ|), in one run on this machine:

* anchor: ``scipy.sparse.linalg.eigsh`` over a plain autograd HVP, one vector at a time
  (double backward: ``grad(grad(L)·v)``);
* paramlab: :func:`paramlab.lab.science.hessian.top_eigenpairs` — thick-restart block Lanczos whose
  every step is one HVP on a block of vectors (for the seed's two ReLU hidden layers the
  Gauss–Newton + residual split of :mod:`paramlab.lab.science.hessian_fast`).

Both in float32 HVPs (paramlab's Lanczos basis in float32 too, its projected matrix in
float64); paramlab's time includes building its operator (the one pass over the rows that
sums the residual's couplings). Prints the times, the products each needed, the largest
relative disagreement of the two sets of eigenvalues, and the ratio.
Run: ``PYTHONPATH=src python benchmarks/bench_hessian.py [--epochs 5] [--k 100]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, train_models
from paramlab.lab.science.hessian import HessianOperator, eigsh_top, summed_loss, top_eigenpairs


def autograd_operator(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> object:
    """The anchor: one double-backward HVP per call, as a LinearOperator."""
    from scipy.sparse.linalg import LinearOperator

    params = [torch.tensor(w, requires_grad=True) for w in weights]
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    sizes = [p.numel() for p in params]
    size = sum(sizes)

    def matvec(v: np.ndarray) -> np.ndarray:
        pieces = torch.split(torch.as_tensor(v.ravel(), dtype=torch.float32), sizes)
        vs = [piece.reshape(p.shape) for piece, p in zip(pieces, params, strict=True)]
        grads = torch.autograd.grad(summed_loss(params, xt, yt, "mse", "relu"), params,
                                    create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(grads, vs, strict=True))
        hv = torch.autograd.grad(dot, params)
        return torch.cat([h.reshape(-1) for h in hv]).double().numpy()

    return LinearOperator((size, size), matvec=matvec, dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--block", type=int, default=8)
    parser.add_argument("--skip-anchor", action="store_true")
    args = parser.parse_args()

    data = load_dataset("synthetic")
    arch = MLPArch(data.n_features, (256, 256), data.n_outputs)
    start = time.perf_counter()
    [result] = train_models([arch], data, TrainConfig(epochs=args.epochs, batch_size=64), [0],
                            keep_weights=True)
    assert result.weights is not None
    print(f"trained {arch.spec()} ({result.params:,} parameters) on {data.observations:,} rows "
          f"for {args.epochs} epochs in {time.perf_counter() - start:.0f} s "
          f"(train loss {result.train_loss:.4f}); torch threads {torch.get_num_threads()}")

    start = time.perf_counter()
    operator = HessianOperator(result.weights, data.X_train, data.y_train, dtype=torch.float32,
                               block=args.block)
    setup = time.perf_counter() - start

    in_products = [0.0]

    def logged(v: np.ndarray) -> np.ndarray:  # progress on a slow (shared) machine
        begin = time.perf_counter()
        out = operator.matmat(v)
        in_products[0] += time.perf_counter() - begin
        if operator.matvecs % (10 * args.block) == 0:
            print(f"  … {operator.matvecs} HVPs, {time.perf_counter() - start:.0f} s", flush=True)
        return out

    pairs = top_eigenpairs(logged, operator.size, args.k, block=args.block, tol=args.tol,
                           dtype=torch.float32)
    ours = time.perf_counter() - start
    print(f"paramlab block Lanczos ({operator.method} products): top-{args.k} in {ours:.1f} s "
          f"(operator built in {setup:.1f} s), {pairs.matvecs} HVPs "
          f"{in_products[0]:.1f} s in the products "
          f"({in_products[0] / pairs.matvecs * 1e3:.0f} ms each), "
          f"converged {pairs.converged}; "
          f"λ1 = {pairs.values[0]:.4g}, λ{args.k} = {pairs.values[-1]:.4g}")
    if args.skip_anchor:
        return
    anchor_op = autograd_operator(result.weights, data.X_train, data.y_train)
    calls = [0]  # count the anchor's products through a thin wrapper
    matvec = anchor_op.matvec

    def counting(v: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] % 100 == 0:
            print(f"  … {calls[0]} HVPs, {time.perf_counter() - start:.0f} s", flush=True)
        return np.asarray(matvec(v))

    from scipy.sparse.linalg import LinearOperator

    wrapped = LinearOperator(anchor_op.shape, matvec=counting, dtype=np.float64)
    start = time.perf_counter()
    reference = eigsh_top(wrapped, args.k, args.tol)
    anchor = time.perf_counter() - start
    print(f"anchor eigsh + autograd HVP: top-{args.k} in {anchor:.1f} s, {calls[0]} HVPs "
          f"({anchor / calls[0] * 1e3:.0f} ms each)")
    gap = np.max(np.abs(pairs.values - reference) / np.abs(reference))
    print(f"largest relative difference of the eigenvalues: {gap:.1e}")
    print(f"ratio: paramlab is {anchor / ours:.1f}× faster than the anchor "
          f"({ours:.1f} s vs {anchor:.1f} s)")


if __name__ == "__main__":
    main()
