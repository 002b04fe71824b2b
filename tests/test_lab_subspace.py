"""Subspace training (Li et al., ICLR 2018): with P = I it *is* the engine's ordinary
training; every projection's columns have unit norm; P is regenerated exactly from its seed;
dense, sparse and Fastfood projections have the moments a uniformly random unit column has
(E[Pᵀx] = 0, E[(Pᵀx)_j²] = ‖x‖²/D), tested against the sampling error of the draws; models
of different d sharing a group train as they would alone."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from paramlab.errors import ParamlabError
from paramlab.lab.data import load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, train_models
from paramlab.lab.engine import projection as projection_module
from paramlab.lab.engine.projection import (
    ProjectionSpec,
    group_projection,
    hadamard,
    projection_matrix,
)
from paramlab.lab.engine.stack import flatten, init_weights, unflatten
from paramlab.lab.engine.subspace import SubspaceModel, full_weights, train_subspace


@pytest.fixture(scope="module")
def digits():
    """200 training rows of scikit-learn's digits."""
    data = load_dataset("digits")
    return dataclasses.replace(data, X_train=data.X_train[:200], y_train=data.y_train[:200])


ARCH = MLPArch(64, (12, 9), 10)


@pytest.mark.parametrize("config", [
    TrainConfig(epochs=2, batch_size=32, lr=1e-2),
    TrainConfig(epochs=2, batch_size=50, lr=0.05, optimizer="sgd", momentum=0.9),
], ids=["adam", "sgd-momentum"])
def test_identity_subspace_is_ordinary_training(digits, config):
    """d = D, P = I: θ_d is θ − θ₀, so Adam/SGD on θ_d step exactly as on θ (weight decay
    would not: it pulls θ_d, not θ, towards 0)."""
    seeds = [3, 4]
    plain = train_models([ARCH] * 2, digits, config, seeds, keep_weights=True, workers=1)
    models = [SubspaceModel(ARCH, ARCH.params(), seed, "identity") for seed in seeds]
    subspace = train_subspace(models, digits, config, keep_weights=True, workers=1)
    for ours, theirs in zip(subspace, plain, strict=True):
        assert [h["train_loss"] for h in ours.history] == pytest.approx(
            [h["train_loss"] for h in theirs.history], rel=1e-5)
        for a, b in zip(ours.weights, theirs.weights, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
        theta0 = flatten(init_weights(ARCH, ours.seed)).numpy()
        np.testing.assert_allclose(ours.theta_d, np.concatenate(
            [w.ravel() for w in theirs.weights]) - theta0, atol=1e-5)


@pytest.mark.parametrize("kind", ["dense", "sparse", "fastfood"])
@pytest.mark.parametrize(("D", "d"), [(100, 7), (128, 16), (1000, 33), (37, 37), (5, 1)])
def test_columns_have_unit_norm(kind, D, d):
    """Including Fastfood's sparse tail (D not a multiple of the block length) and a
    Fastfood with no whole block (37 parameters, block length 64)."""
    matrix = projection_matrix(ProjectionSpec(kind, D, d, seed=11))
    assert matrix.shape == (D, d)
    np.testing.assert_allclose(matrix.norm(dim=0).numpy(), np.ones(d), atol=1e-5)


def test_identity_projection_is_the_identity():
    np.testing.assert_array_equal(projection_matrix(ProjectionSpec("identity", 9, 9, 0)),
                                  torch.eye(9))


def test_sparse_columns_hold_about_sqrt_D_nonzeros():
    """round(√D) distinct rows per column, each ±1/√k (Li et al.'s density 1/√D)."""
    matrix = projection_matrix(ProjectionSpec("sparse", 400, 30, seed=2))
    assert ((matrix != 0).sum(dim=0) == 20).all()
    np.testing.assert_allclose(matrix[matrix != 0].abs(), 1 / math.sqrt(20), rtol=1e-6)


@pytest.mark.parametrize("length", [1, 2, 16, 128, 2048])
def test_hadamard_matches_sylvester_construction(length):
    """The factored products against H_{2n} = [[H, H], [H, −H]] built explicitly, for one
    factor and for several (2048 = 16 · 16 · 8)."""
    h = torch.ones(1, 1)
    while h.shape[0] < length:
        h = torch.cat((torch.cat((h, h), 1), torch.cat((h, -h), 1)), 0)
    x = torch.randn(3, 2, length, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(hadamard(x), x @ h.T, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("kind", ["dense", "sparse", "fastfood"])
def test_transpose_is_the_matrix_transpose(kind):
    """Pᵀ·g as the training step computes it (a group of two different d) against the
    explicit matrix, and zero at the padded coordinates of the smaller d."""
    specs = [ProjectionSpec(kind, 300, 12, 1), ProjectionSpec(kind, 300, 9, 2)]
    projection = group_projection(specs, torch.device("cpu"))
    g = torch.randn(2, 1, 300, generator=torch.Generator().manual_seed(5))
    out = projection.transpose(g)
    for k, spec in enumerate(specs):
        torch.testing.assert_close(out[k, 0, : spec.d], projection_matrix(spec).T @ g[k, 0],
                                   atol=1e-5, rtol=1e-5)
        assert (out[k, 0, spec.d:] == 0).all()


@pytest.mark.parametrize("kind", ["sparse", "fastfood"])
def test_a_group_in_several_chunks_projects_as_each_model_alone(kind, monkeypatch):
    """With chunks of one to three models (a small CHUNK_TERMS), P·x and Pᵀ·g for a group of
    five d (one vector each, as training calls them) equal each model's explicit matrix."""
    monkeypatch.setattr(projection_module, "CHUNK_TERMS", 300 if kind == "sparse" else 1_500)
    dims = [5, 8, 7, 3, 8] if kind == "sparse" else [5, 8, 7, 6, 8]  # fastfood: one L
    D = 400 if kind == "sparse" else 403  # fastfood: 50 whole blocks and a 3-row tail
    specs = [ProjectionSpec(kind, D, d, seed) for seed, d in enumerate(dims)]
    projection = group_projection(specs, torch.device("cpu"))
    assert 1 < len(projection.chunks) < len(specs)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(len(specs), 1, projection.width, generator=generator)
    g = torch.randn(len(specs), 1, D, generator=generator)
    applied, transposed = projection.apply(x), projection.transpose(g)
    for k, spec in enumerate(specs):
        matrix = projection_matrix(spec)
        torch.testing.assert_close(applied[k, 0], matrix @ x[k, 0, : spec.d],
                                   atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(transposed[k, 0, : spec.d], matrix.T @ g[k, 0],
                                   atol=1e-5, rtol=1e-5)
        assert (transposed[k, 0, spec.d:] == 0).all()


@pytest.mark.parametrize("kind", ["dense", "sparse", "fastfood"])
def test_regenerated_from_the_seed(kind):
    spec = ProjectionSpec(kind, 500, 20, seed=7)
    np.testing.assert_array_equal(projection_matrix(spec), projection_matrix(spec))
    assert not torch.equal(projection_matrix(spec),
                           projection_matrix(dataclasses.replace(spec, seed=8)))


DRAWS = 600


def projected(kind: str, D: int, d: int, x: torch.Tensor) -> torch.Tensor:
    """(DRAWS, d): Pᵀx for the projections of seeds 0 … DRAWS − 1, as one group computes it."""
    specs = [ProjectionSpec(kind, D, d, seed) for seed in range(DRAWS)]
    projection = group_projection(specs, torch.device("cpu"))
    return projection.transpose(x.expand(DRAWS, 1, D))[:, 0, :d]


@pytest.mark.parametrize("kind", ["dense", "sparse", "fastfood"])
def test_moments_of_the_projected_vector(kind):
    """z = Pᵀx over many seeds: each coordinate has mean 0 and E[z_j²] = ‖x‖²/D, as for a
    uniformly random unit column (E[(u·x)⁴] = 3‖x‖⁴ / (D(D + 2))), within 4.5 standard
    errors of DRAWS draws (per coordinate from that fourth moment, pooled over the coordinates
    from the draws' own spread). D = 128 is a multiple of Fastfood's block (16), where each of its
    8 blocks is an exactly uniform unit direction (H·(Gaussian) is Gaussian) scaled by 1/√8."""
    D, d = 128, 16
    x = torch.linspace(-1.0, 2.0, D) ** 2  # anisotropic: P must not favour coordinates
    z = projected(kind, D, d, x)
    sigma2 = float(x.square().sum()) / D
    fourth = 3 * float(x.square().sum()) ** 2 / (D * (D + 2))
    mean_error = 4.5 * math.sqrt(sigma2 / DRAWS)
    square_error = 4.5 * math.sqrt((fourth - sigma2**2) / DRAWS)
    assert z.mean(dim=0).abs().max() < mean_error
    assert (z.square().mean(dim=0) - sigma2).abs().max() < square_error
    per_draw = z.square().mean(dim=1)  # every coordinate together: a tighter test
    pooled_error = 4.5 * float(per_draw.std()) / math.sqrt(DRAWS)
    assert abs(float(per_draw.mean()) - sigma2) < pooled_error


def test_dense_and_fastfood_agree_with_each_other():
    """Two-sample check: the pooled second moments of Pᵀx under the two kinds differ by less
    than the combined sampling error (the coordinates of one draw are treated as one)."""
    D, d = 256, 8
    x = torch.randn(D, generator=torch.Generator().manual_seed(3))
    moments = {}
    for kind in ("dense", "fastfood"):
        z = projected(kind, D, d, x)
        moments[kind] = (float(z.square().mean(dim=1).mean()),
                         float(z.square().mean(dim=1).std()) / math.sqrt(DRAWS))
    (a, sa), (b, sb) = moments["dense"], moments["fastfood"]
    assert abs(a - b) < 4.5 * math.hypot(sa, sb)


def test_full_weights_regenerates_theta(digits):
    """θ₀ + P·θ_d from the seed alone equals the weights the run ended with."""
    config = TrainConfig(epochs=1, batch_size=40, lr=0.05)
    models = [SubspaceModel(ARCH, 30, 5, kind) for kind in ("dense", "sparse", "fastfood")]
    for model, result in zip(models, train_subspace(models, digits, config, keep_weights=True,
                                                    workers=1), strict=True):
        assert result.theta_d.shape == (30,) and np.abs(result.theta_d).max() > 0
        for ours, theirs in zip(unflatten(ARCH, full_weights(model, result.theta_d)),
                                result.weights, strict=True):
            np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_flatten_and_unflatten_are_inverse():
    tensors = init_weights(ARCH, 0)
    back = unflatten(ARCH, flatten(tensors).numpy())
    assert [a.shape for a in back] == [tuple(t.shape) for t in tensors]
    for a, t in zip(back, tensors, strict=True):
        np.testing.assert_array_equal(a, t.numpy())


def test_a_model_trains_the_same_in_any_group(digits):
    """Different d in one group (θ_d zero-padded) and a different group size change nothing."""
    config = TrainConfig(epochs=2, batch_size=32, lr=0.02)
    models = [SubspaceModel(ARCH, d, seed, kind) for kind in ("dense", "fastfood", "sparse")
              for d, seed in ((5, 1), (8, 2), (7, 3))]
    together = train_subspace(models, digits, config, workers=1)
    alone = [train_subspace([m], digits, config, workers=1)[0] for m in models[::4]]
    for ours, theirs in zip(together[::4], alone, strict=True):
        np.testing.assert_allclose(ours.theta_d, theirs.theta_d, atol=1e-5)
        assert ours.test_loss == pytest.approx(theirs.test_loss, rel=1e-5)


def test_worker_processes_give_the_same_models(digits):
    config = TrainConfig(epochs=1, batch_size=32, lr=0.02)
    models = [SubspaceModel(ARCH, 6, seed, "fastfood") for seed in range(4)]
    here = train_subspace(models, digits, config, workers=1, group_size=2)
    forked = train_subspace(models, digits, config, workers=2, group_size=2)
    for a, b in zip(here, forked, strict=True):
        assert a.model_id == b.model_id
        np.testing.assert_allclose(a.theta_d, b.theta_d, atol=1e-5)


def test_early_stopping_restores_theta_d_with_the_weights(digits):
    config = TrainConfig(epochs=6, batch_size=32, lr=0.3, patience=1)
    model = SubspaceModel(ARCH, 20, 1, "dense")
    result = train_subspace([model], digits, config, keep_weights=True, workers=1)[0]
    np.testing.assert_allclose(full_weights(model, result.theta_d),
                               np.concatenate([w.ravel() for w in result.weights]), atol=1e-5)


@pytest.mark.parametrize(("model", "message"), [
    (SubspaceModel(ARCH, 0, 1), "d must be in"),
    (SubspaceModel(ARCH, 10**6, 1), "d must be in"),
    (SubspaceModel(ARCH, 5, 1, "gaussian"), "projection must be one of"),
    (SubspaceModel(ARCH, 5, 1, "identity"), "identity projection needs d = D"),
    (SubspaceModel(MLPArch(3, (4,), 10), 5, 1), "does not fit the data"),
])
def test_bad_models_are_refused(digits, model, message):
    with pytest.raises(ParamlabError, match=message):
        train_subspace([model], digits, TrainConfig(epochs=1))


def test_full_weights_refuses_a_wrong_length():
    with pytest.raises(ParamlabError, match=r"θ_d must have shape \(4,\)"):
        full_weights(SubspaceModel(ARCH, 4, 0), np.zeros(5))

