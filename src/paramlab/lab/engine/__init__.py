"""The batched training engine: many MLPs advance together, one optimizer step for all.

Models of one depth form a *group* whose weights are stacked, zero-padded, into
(K, fan_in, fan_out) tensors, so a training step is a handful of batched matrix products and
one fused optimizer step for all K models; padding provably changes nothing. The modules, in
the order data flows through them:

* ``config``   — ``MLPArch``, ``TrainConfig``, ``ModelResult``: the public vocabulary;
* ``stack``    — initialization and the stacked, padded weights of one group;
* ``kernels``  — forward, the hand-written backward and the losses; ``predict``: one
  network's outputs from any weights (a quantized subspace model's);
* ``optim``    — PyTorch's fused Adam / SGD over the stacked weights;
* ``grouping`` — which models share a group: padded work against per-step overhead;
* ``workers``  — independent groups side by side, one forked process per core;
* ``loop``     — ``GroupRun`` (one group's epochs, evaluation, early stopping, results) and
  ``train_models``;
* ``projection``, ``subspace`` — ``train_subspace``: only θ_d of θ = θ₀ + P·θ_d is trained
  (intrinsic dimension, Li et al. 2018);
* ``masked``   — ``train_masked``: fixed 0/1 masks on the weights (lottery tickets, Frankle &
  Carbin 2019).
"""

from paramlab.lab.engine.config import (
    MLPArch,
    ModelResult,
    Planned,
    TrainConfig,
    resolve_device,
)
from paramlab.lab.engine.grouping import StepCost, group_archs
from paramlab.lab.engine.kernels import per_model_loss, predict
from paramlab.lab.engine.loop import GroupRun, train_models
from paramlab.lab.engine.masked import MaskedModel, train_masked
from paramlab.lab.engine.stack import flatten, init_weights, unflatten
from paramlab.lab.engine.subspace import SubspaceModel, full_weights, train_subspace

__all__ = ["GroupRun", "MLPArch", "MaskedModel", "ModelResult", "Planned", "StepCost",
           "SubspaceModel", "TrainConfig", "flatten", "full_weights", "group_archs",
           "init_weights", "per_model_loss", "predict", "resolve_device", "train_masked",
           "train_models", "train_subspace", "unflatten"]
