"""Toy models of superposition (Elhage et al. 2022), trained many instances at once.

The toy-model trainer (Elhage et al. 2022): small auto-encoders that must squeeze ``m`` sparse
features through ``n`` neurons. Forward and backward passes are written by hand and compiled
with numba (:mod:`suptheory._kernels.toy`); the optimiser is PyTorch's Adam/AdamW step for
step. Weights are stored as ``(instances, m, n)`` arrays whose rows are the feature
directions, the layout of the public notebook's ``W[instance, feature, hidden]``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._kernels.jit import num_threads
from suptheory._runner import ChunkRunner
from suptheory._text import ShownAsText, frame
from suptheory._validate import (
    MAX_COUNT,
    as_generator,
    as_real,
    available_memory,
    check_bool,
    check_choice,
    check_int,
)

__all__ = [
    "train_toy_models",
    "ToyModelResult",
    "PRESETS",
    "toy_preset",
    "TOY_MODELS",
    "DATA_LAWS",
    "snapshot_steps",
]

#: the models :func:`train_toy_models` knows, with their equations
TOY_MODELS: dict[str, str] = {
    "relu": "x' = ReLU(W^T W x + b)",
    "linear": "x' = W^T W x + b",
    "hidden-relu": "h = ReLU(W x), x' = ReLU(W^T h + b)",
    "abs": "h = ReLU(W x), y' = ReLU(W_out h + b), target y = |x|, x uniform on [-1, 1)",
}

#: largest batch * (m + n): the per-thread work arrays of one batch-major step
_MAX_BATCH_ENTRIES = 1 << 27
#: largest eval_batch
_MAX_EVAL_BATCH = 1 << 32
#: largest (instances x restarts) x (m n) weights and x steps of loss history (2 GiB each)
_MAX_ENTRIES = 1 << 28
_OPTIMIZERS = ("adamw", "adam")
#: the named data laws of :func:`train_toy_models` (a list of feature sets is the third kind)
DATA_LAWS: dict[str, str] = {
    "independent": "every feature active independently with probability p (Elhage et al.)",
    "1-sparse": "exactly one feature active, chosen uniformly (Chen et al. 2023)",
}
_SCHEDULES = ("constant", "linear", "cosine")
_DTYPES = ("float32", "float64")


def _two_feature_grid() -> dict[str, Any]:
    r = np.logspace(-1, 1, 9)
    p = np.logspace(-2, 0, 9)
    rr, pp = np.meshgrid(r, p, indexing="ij")
    importance = np.stack([np.ones(rr.size), rr.ravel()], axis=1)
    return {"m": 2, "n": 1, "p": pp.ravel(), "importance": importance}


#: Named settings. Each entry gives ``m``, ``n``, ``p`` (one density per instance),
#: ``importance`` (per feature or per instance and feature) and a ``source``.
PRESETS: dict[str, dict[str, Any]] = {
    "anthropic-intro": {
        "m": 5,
        "n": 2,
        "p": 20.0 ** -np.linspace(0, 1, 10),
        "importance": 0.9 ** np.arange(5),
        "steps": 10_000,
        "source": (
            "Anthropic's public toy_models.ipynb, first experiment: n_features=5, "
            "n_hidden=2, n_instances=10, importance 0.9**i, feature_probability "
            "20**-linspace(0, 1, 10); 10,000 steps, batch 1024, AdamW lr 1e-3."
        ),
    },
    "varying-sparsity": {
        "m": 20,
        "n": 5,
        "p": 1.0 - np.array([0.0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999]),
        "importance": 0.7 ** np.arange(20),
        "steps": 10_000,
        "source": (
            "Elhage et al. 2022, section 'Demonstrating Superposition' (the 20-feature, "
            "5-neuron figure): importance 0.7**i, sparsity S = 0, 0.7, 0.9, 0.97, 0.99, "
            "0.997, 0.999 (p = 1 - S)."
        ),
    },
    "uniform-superposition": {
        "m": 400,
        "n": 30,
        "p": 20.0 ** -np.linspace(0, 1, 20),
        "importance": 1.0,
        "steps": 10_000,
        "source": (
            "Elhage et al. 2022, section 'The Geometry of Superposition: Uniform "
            "Superposition': 400 features, 30 neurons, uniform importance. Densities as the "
            "public notebook's 'Feature geometry' cell, which draws the dimensions-per-"
            "feature plot: feature_probability 20**-linspace(0, 1, 20), i.e. 1/(1-S) from 1 "
            "to 20 (that cell: 200 features, 20 neurons, 20 instances, the default "
            "optimize(): 10,000 steps, batch 1024, AdamW lr 1e-3). The antipodal-pair "
            "plateau D* = 1/2 lies near 1/(1-S) = 2-3.5."
        ),
    },
    "two-feature": {
        **_two_feature_grid(),
        "steps": 10_000,
        "source": (
            "Elhage et al. 2022, section 'Superposition as a Phase Change': 2 features, "
            "1 neuron; feature 0 has importance 1, feature 1 relative importance "
            "r = logspace(-1, 1, 9); density p = logspace(-2, 0, 9); 81 instances "
            "(r-major: instance = 9 * r_index + p_index)."
        ),
    },
}


def toy_preset(name: str) -> dict[str, Any]:
    """Return a copy of the preset ``name`` (see :data:`PRESETS`).

    Examples
    --------
    >>> toy_preset("anthropic-intro")["m"]
    5
    """
    check_choice(name, "name (of a preset)", PRESETS)
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in PRESETS[name].items()}


def _schedule(kind: str, steps: int, warmup: int) -> np.ndarray:
    """Learning-rate multipliers of the notebook's schedules, with a linear warm-up.

    ``constant_lr``, ``linear_lr`` and ``cosine_decay_lr`` of the notebook, times
    ``min(1, (t + 1) / warmup)`` over the first ``warmup`` steps.
    """
    t = np.arange(steps, dtype=np.float64)
    if kind == "constant":
        f = np.ones(steps)
    elif kind == "linear":
        f = 1.0 - t / steps
    else:
        f = np.cos(0.5 * np.pi * t / max(steps - 1, 1))
    if warmup > 0:
        f = f * np.minimum(1.0, (t + 1.0) / warmup)
    return f


def _data_law(data: Any, m: int) -> tuple[str, np.ndarray, np.ndarray, list[tuple[str, int]]]:
    """``(name, sets, set_mode, feature_sets)`` of a data option (see :func:`train_toy_models`)."""
    from suptheory._kernels import toy as K

    if isinstance(data, str):
        check_choice(data, "data", DATA_LAWS)
        if data == "independent":
            return data, K.NO_SETS, K.NO_SET_MODE, []
        data = [("anticorrelated", m)]
        name = "1-sparse"
    else:
        name = "sets"
    try:
        pairs = [(str(mode), int(size)) for mode, size in data]
    except (TypeError, ValueError):
        raise TypeError(
            f"data must be one of {sorted(DATA_LAWS)} or a list of (mode, size) pairs; got {data!r}"
        ) from None
    if not pairs:
        raise ValueError("data: the list of feature sets is empty")
    for mode, size in pairs:
        check_choice(mode, "data (feature-set mode)", K.SET_MODES)
        if size < 1:
            raise ValueError(f"data: every feature set needs at least 1 feature; got {size}")
    if sum(size for _, size in pairs) != m:
        raise ValueError(
            f"data: the feature sets' sizes sum to {sum(size for _, size in pairs)}, not m={m}"
        )
    sets = np.concatenate([[0], np.cumsum([size for _, size in pairs])]).astype(np.int64)
    modes = np.array([K.SET_MODES[mode] for mode, _ in pairs], dtype=np.int64)
    return name, sets, modes, pairs


def snapshot_steps(steps: int, snapshots: int) -> np.ndarray:
    r"""The steps at which :func:`train_toy_models` keeps ``W`` and ``b``: 0, then log-spaced.

    .. math:: t_0 = 0, \qquad t_k = \operatorname{round}\big(T^{(k-1)/(K-2)}\big),
              \quad k = 1, \dots, K - 1,

    without repeats (so at most ``K`` steps; fewer when ``T`` is small), with ``T = steps``
    (the last snapshot is the trained model) and ``K = snapshots``. A snapshot at ``t``
    holds the parameters after ``t`` optimiser steps.

    Parameters
    ----------
    steps : int
        Optimiser steps ``1 <= T <= 2^53``.
    snapshots : int
        ``2 <= K <= 2^24``.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> snapshot_steps(1000, 5).tolist()
    [0, 1, 10, 100, 1000]
    """
    steps = check_int(steps, "steps", low=1, high=2**53)  # whole numbers exact in float64
    snapshots = check_int(snapshots, "snapshots", low=2, high=2**24)
    t = np.round(np.geomspace(1, steps, snapshots - 1)) if snapshots > 2 else np.array([steps])
    return np.unique(np.concatenate([[0], t])).astype(np.int64)


@dataclass
class ToyModelResult(ShownAsText):
    """Trained toy models: weights, loss curves, evaluation losses and their metrics.

    Arrays have one leading axis over instances. ``W`` is ``(instances, m, n)`` with rows as
    feature directions (for ``"abs"`` the input weights; ``W_out`` holds the output
    weights, ``None`` for the tied models). ``loss`` is each instance's mean loss
    ``sum_i I_i (y_i - x'_i)^2`` per sample on ``eval_batch`` fresh samples and ``loss_se``
    its standard error; divide by ``m`` for the notebook's printed value (it averages over
    features too). ``loss_history[k, s]`` is the training batch's loss before step ``s`` of
    the restart chosen for instance ``k``; ``restart_loss`` holds every restart's evaluation
    loss and ``best_restart`` the chosen one.

    With ``snapshots``, ``snapshot_steps`` ``(S,)`` are the steps kept (0, then log-spaced;
    :func:`snapshot_steps`), ``W_snapshots`` ``(instances, S, m, n)`` and ``b_snapshots``
    ``(instances, S, m)`` the chosen restart's parameters after that many steps, and
    ``snapshot_loss`` ``(instances, S)`` (with ``snapshot_loss_se``) their loss on
    ``min(eval_batch, 8192)`` fresh samples (the same samples at every snapshot). ``data`` is
    the data law (``"independent"``, ``"1-sparse"`` or ``"sets"``) and ``feature_sets`` its
    ``(mode, size)`` pairs (empty for the independent law).
    """

    model: str
    m: int
    n: int
    p: np.ndarray
    importance: np.ndarray
    W: np.ndarray
    b: np.ndarray
    W_out: np.ndarray | None
    loss: np.ndarray
    loss_se: np.ndarray
    loss_history: np.ndarray
    restart_loss: np.ndarray
    best_restart: np.ndarray
    steps: int
    steps_done: int
    interrupted: bool
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    data: str = "independent"
    feature_sets: list[tuple[str, int]] = field(default_factory=list)
    snapshot_steps: np.ndarray | None = None
    W_snapshots: np.ndarray | None = None
    b_snapshots: np.ndarray | None = None
    snapshot_loss: np.ndarray | None = None
    snapshot_loss_se: np.ndarray | None = None

    @property
    def instances(self) -> int:
        """Number of instances."""
        return int(self.W.shape[0])

    @property
    def features_learned(self) -> np.ndarray:
        """``||W||_F^2`` per instance: learned features have norm near 1 (Elhage et al.)."""
        W = self.W.astype(np.float64)
        learned: np.ndarray = np.einsum("kij,kij->k", W, W)
        return learned

    @property
    def dimensions_per_feature(self) -> np.ndarray:
        """``D* = n / ||W||_F^2`` per instance (Elhage et al. 2022)."""
        from suptheory.analysis.metrics import dimensions_per_feature

        return np.array([dimensions_per_feature(w) for w in self.W.astype(np.float64)])

    @property
    def feature_dimensionality(self) -> np.ndarray:
        """``D_i`` of every feature, ``(instances, m)`` (``suptheory.feature_dimensionality``)."""
        from suptheory.analysis.metrics import feature_dimensionality

        return np.array([feature_dimensionality(w) for w in self.W.astype(np.float64)])

    @property
    def superposition(self) -> np.ndarray:
        """``sum_{j != i} (W^_i . W_j)^2`` of every feature, ``(instances, m)``."""
        from suptheory.analysis.metrics import superposition

        return np.array([superposition(w) for w in self.W.astype(np.float64)])

    def _snapshots(self) -> np.ndarray:
        if self.W_snapshots is None:
            raise ValueError("no snapshots: train with train_toy_models(..., snapshots=K)")
        return self.W_snapshots

    @property
    def dimensionality_history(self) -> np.ndarray:
        """``D_i`` of every feature at every snapshot, ``(instances, S, m)``."""
        from suptheory.analysis.metrics import feature_dimensionality

        Ws = self._snapshots()
        return np.array([[feature_dimensionality(w) for w in row] for row in Ws])

    def geometry_history(
        self, instance: int = 0, *, tol: float = 0.02, min_norm: float = 0.1
    ) -> list[str]:
        """The geometry class at every snapshot of one instance.

        A snapshot's class lists its features' sticky labels with their counts, e.g.
        ``"5 pentagon, 1 not represented"`` (:func:`~suptheory.classify_dimensionality`). A
        feature with ``||W_i|| < min_norm`` counts as not represented: an absolute norm, since
        the toy models' features have values of order 1 and learned norms near 1, while a
        small initialisation starts every norm near 0.
        """
        from suptheory.empirical.geometry import classify_dimensionality

        Ws = self._snapshots()
        k = check_int(instance, "instance", low=0, high=self.instances - 1)
        out = []
        for w in Ws[k]:
            dead = np.linalg.norm(w, axis=1) < min_norm
            labels = list(np.array(classify_dimensionality(w, tol=tol).labels, dtype=object))
            for i in np.flatnonzero(dead):
                labels[i] = "not represented"
            counts: dict[str, int] = {}
            for label in labels:
                counts[label] = counts.get(label, 0) + 1
            order = sorted(counts, key=lambda x: (x == "not represented", -counts[x], x))
            out.append(", ".join(f"{counts[x]} {x}" for x in order))
        return out

    def geometry(self, instance: int = 0, **kwargs: Any) -> Any:
        """Sticky dimensionalities and tegum factors of one instance's ``W``.

        :func:`suptheory.empirical.geometry.describe_geometry` (keywords ``tol``, ``threshold``,
        ``min_norm`` pass through).
        """
        from suptheory.empirical.geometry import describe_geometry

        k = check_int(instance, "instance", low=0, high=self.instances - 1)
        return describe_geometry(self.W[k].astype(np.float64), **kwargs)

    def summary(self) -> str:
        """A table: one row per instance with p, loss +- se, ||W||_F^2 and D*."""
        rows = [
            f"{self.model} toy models: m={self.m}, n={self.n}, {self.instances} instances, "
            f"{self.steps_done}/{self.steps} steps" + (" (interrupted)" if self.interrupted else "")
        ]
        rows.append(f"{'inst':>4} {'p':>9} {'loss':>11} {'+-se':>9} {'||W||^2':>8} {'D*':>7}")
        fl = self.features_learned
        for k in range(self.instances):
            dstar = self.n / fl[k] if fl[k] > 0 else float("inf")
            rows.append(
                f"{k:>4} {self.p[k]:>9.4g} {self.loss[k]:>11.5g} {self.loss_se[k]:>9.2g} "
                f"{fl[k]:>8.3f} {dstar:>7.3f}"
            )
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> Any:
        """The summary as a table: one row per instance (needs pandas)."""
        fl = self.features_learned
        dstar = np.divide(self.n, fl, out=np.full(fl.shape, np.inf), where=fl > 0)
        return frame(
            {
                "instance": np.arange(self.instances),
                "p": self.p,
                "loss": self.loss,
                "loss_se": self.loss_se,
                "features_learned": fl,
                "dimensions_per_feature": dstar,
            },
            index="instance",
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain lists and numbers (for JSON), metrics included."""
        out: dict[str, Any] = {
            "model": self.model,
            "m": self.m,
            "n": self.n,
            "instances": self.instances,
            "steps": self.steps,
            "steps_done": self.steps_done,
            "interrupted": self.interrupted,
            "seconds": self.seconds,
            "settings": self.settings,
            "p": self.p,
            "importance": self.importance,
            "loss": self.loss,
            "loss_se": self.loss_se,
            "restart_loss": self.restart_loss,
            "best_restart": self.best_restart,
            "features_learned": self.features_learned,
            "W": self.W,
            "b": self.b,
        }
        if self.W_out is not None:
            out["W_out"] = self.W_out
        out["dimensions_per_feature"] = self.dimensions_per_feature
        out["feature_dimensionality"] = self.feature_dimensionality
        out["superposition"] = self.superposition
        out["data"] = self.data
        out["feature_sets"] = [list(pair) for pair in self.feature_sets]
        if self.snapshot_steps is not None:
            out["snapshot_steps"] = self.snapshot_steps
            out["W_snapshots"] = self.W_snapshots
            out["b_snapshots"] = self.b_snapshots
            out["snapshot_loss"] = self.snapshot_loss
            out["snapshot_loss_se"] = self.snapshot_loss_se
        return out


def _training_bytes(
    runs: int,
    m: int,
    n: int,
    batch: int,
    steps: int,
    snapshots: int,
    untied: bool,
    single: bool,
    threads: int | None,
) -> int:
    """Bytes a training run holds, about.

    Four ``(m or n) x batch`` work arrays per thread, the weights with their two Adam
    moments (twice for the untied model), the loss history and the snapshots (float64).
    """
    item = 4 if single else 8
    # threads is validated later (num_threads); an invalid one counts as every core here
    ok = isinstance(threads, int) and not isinstance(threads, bool) and threads > 0
    workers = min(runs, threads if ok and threads is not None else (os.cpu_count() or 1))
    work = 4 * batch * (m + n) * 8 * max(workers, 1)
    weights = runs * (m * n + m) * item * 3 * (2 if untied else 1)
    return work + weights + runs * steps * 8 + runs * snapshots * (m * n + m) * 8


def train_toy_models(
    m: Any = None,
    n: Any = None,
    *,
    instances: Any = None,
    p: Any = None,
    importance: Any = None,
    model: str | None = None,
    steps: Any = None,
    batch: Any = 1024,
    lr: Any = 1e-3,
    optimizer: str = "adamw",
    weight_decay: Any = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    adam_eps: Any = 1e-8,
    schedule: str = "constant",
    warmup: Any = 0,
    dtype: str = "float32",
    restarts: Any = 1,
    eval_batch: Any = 2**15,
    seed: Any = 0,
    progress: bool = True,
    threads: int | None = None,
    preset: str | None = None,
    data: Any = "independent",
    init_std: Any = None,
    snapshots: Any = 0,
) -> ToyModelResult:
    r"""Train toy models of superposition, many instances at once (Elhage et al. 2022).

    Each instance is an auto-encoder of ``m`` features through ``n`` neurons. A sample has
    every feature 0 with probability ``1 - p`` and else uniform on ``[0, 1)``
    (on ``[-1, 1)`` for ``"abs"``). Models, with ``W`` of shape ``(m, n)`` (rows = features):

    .. math::

        \text{relu: } x' = \mathrm{ReLU}(W W^\top x + b)

    (the toy models' :math:`\mathrm{ReLU}(W^T W x + b)` with its ``(n, m)`` matrix, the transpose
    of ours), ``"linear"``: :math:`x' = W W^\top x + b`, ``"hidden-relu"``:
    :math:`h = \mathrm{ReLU}(W^\top x)`, :math:`x' = \mathrm{ReLU}(W h + b)`, and ``"abs"``
    (computation in superposition, untied): :math:`h = \mathrm{ReLU}(W^\top x)`,
    :math:`y' = \mathrm{ReLU}(W_{out} h + b)` with target :math:`y = |x|`. Training minimises
    the notebook's objective

    .. math::

        \frac{1}{B m} \sum_{s=1}^{B} \sum_{i=1}^{m} I_i \, (y_{s,i} - x'_{s,i})^2 ,

    the mean over batch and features (``y = x`` except for ``"abs"``); reported losses are
    ``m`` times it (the sum over features, mean over samples).

    Parameters
    ----------
    m, n : int
        Features and neurons (taken from ``preset`` when it is given and they are not).
        Every run (``instances * restarts``) keeps its weights and its loss at every step:
        both ``runs * m * n`` and ``runs * steps`` are at most ``2^28``.
    instances : int, optional
        Number of instances; default: the length of ``p`` (or of the first axis of a 2-D
        ``importance``), else 1.
    p : float or array_like
        Density of every instance, in ``[0, 1]`` (``S = 1 - p`` is the paper's sparsity).
    importance : float or array_like
        ``I_i >= 0``: a number, one value per feature ``(m,)``, or ``(instances, m)``.
        Default 1.
    model : {"relu", "linear", "hidden-relu", "abs"}
        Default ``"relu"``.
    steps, batch : int
        Optimiser steps (default 10,000) and samples per step (1024; at most
        ``2^27 / (m + n)``, which bounds the per-thread work arrays).
    lr : float
        Peak learning rate (1e-3).
    optimizer : {"adamw", "adam"}
        PyTorch's AdamW (decoupled decay ``lr * weight_decay * param`` on every parameter,
        bias included, as the notebook's ``torch.optim.AdamW`` default) or Adam (L2
        penalty ``weight_decay * param`` added to the gradient; pass 0 for plain Adam).
    weight_decay : float
        0.01 (PyTorch's AdamW default).
    betas, adam_eps : float
        Adam's ``(beta1, beta2)`` and ``eps``: PyTorch's defaults.
    schedule : {"constant", "linear", "cosine"}
        The notebook's ``constant_lr``, ``linear_lr`` (``1 - t/steps``) and
        ``cosine_decay_lr`` (``cos(pi t / (2 (steps - 1)))``).
    warmup : int
        Linear warm-up over this many first steps (0: none).
    dtype : {"float32", "float64"}
        Precision of weights, data and optimiser state.
    restarts : int
        Train each instance this many times from independent initialisations and keep,
        per instance, the one with the lowest evaluation loss (the paper needed restarts).
    eval_batch : int
        Fresh samples for the final evaluation loss and its standard error; all restarts
        of an instance are evaluated on the same samples (at most ``2^32``).
    seed : int, SeedSequence or Generator
        Fully determines initialisation and data, whatever the thread count.
    progress : bool
        Show progress: a bar on a terminal, else a line on stderr every 10 s.
    threads : int, optional
        numba threads for this call (instances are split between them).
    preset : str, optional
        A name in :data:`PRESETS`; its ``m, n, p, importance, steps`` apply unless given.
    data : str or list of (str, int)
        The data law. ``"independent"`` (default): every feature active with probability
        ``p``, as above. ``"1-sparse"``: exactly one feature active, chosen uniformly, value
        uniform on ``[0, 1)`` (the law of Chen et al. 2023; ``p`` must be 1 or omitted).
        A list of ``(mode, size)`` pairs splits the features, in order, into sets of those
        sizes (summing to ``m``), each drawn independently of the others by its mode:
        ``"correlated"`` (with probability ``p`` every feature of the set is active, values
        independent; else none), ``"anticorrelated"`` (with probability ``p`` exactly one
        feature of the set, chosen uniformly; else none) or ``"independent"`` (each feature
        with probability ``p``) -- the set-up of Elhage et al. 2022, section "Superposition
        and Correlated Features". ``"1-sparse"`` is ``[("anticorrelated", m)]`` with ``p = 1``.
    init_std : float, optional
        Standard deviation of the normal initialisation of every weight (default: the
        notebook's xavier-normal scale, see Notes). Small values (``1e-3``) start training
        near ``W = 0`` and show its plateaus (Chen et al. 2023).
    snapshots : int
        Keep ``W`` and ``b`` at this many steps (0, then log-spaced; :func:`snapshot_steps`)
        and evaluate their loss; 0 (default) keeps none.

    Returns
    -------
    ToyModelResult

    Notes
    -----
    Initialisation is the notebook's ``nn.init.xavier_normal_`` on the 3-D parameter of
    shape ``(instances, m, n)``: PyTorch takes ``fan_in = m n``, ``fan_out = instances n``,
    so every entry is normal with standard deviation ``sqrt(2 / (n (m + instances)))``.
    Restarts reuse the same scale. The data come from a counter-based hash inside the
    kernels keyed by numbers drawn from ``as_generator(seed)`` (see
    :mod:`suptheory._kernels.toy`), so one thread trains each instance with numbers that
    depend only on the random seed (which of the kernels' three code paths an instance takes, and
    so which words of the stream it reads, depends only on ``p``, ``m`` and ``n``; the
    final evaluation always uses the per-sample path). Interrupting (Ctrl-C) stops at the
    next chunk of steps and returns the models trained so far, evaluated, with
    ``interrupted=True``.

    The ``"abs"`` model is the "computation in superposition" model of Elhage et al.
    2022 (section "Computation in Superposition"): ``h = ReLU(W_1 x)``,
    ``y' = ReLU(W_2 h + b)`` with untied ``W_1`` (``n x m``, stored here as ``W``, rows =
    features) and ``W_2`` (``m x n``, stored as ``W_out``), target ``|x|`` and ``x``
    uniform on ``[-1, 1]`` when active. It has no hidden bias.

    References
    ----------
    Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread, 2022, and
    its public notebook ``toy_models.ipynb``. Chen, Lau, Mendel, Wei & Murfet, "Dynamical
    versus Bayesian Phase Transitions in a Toy Model of Superposition", arXiv:2310.06301
    (2023) (the 1-sparse law). Loshchilov & Hutter, "Decoupled Weight Decay
    Regularization", ICLR 2019 (AdamW); Kingma & Ba, ICLR 2015 (Adam).

    Examples
    --------
    >>> r = train_toy_models(5, 2, p=0.05, steps=2000, restarts=2, progress=False, seed=1)
    >>> r.W.shape, r.b.shape, r.loss_history.shape
    ((1, 5, 2), (1, 5), (1, 2000))
    >>> bool(r.features_learned[0] > 3)   # sparse: more than n = 2 features represented
    True
    """
    progress = bool(check_bool(progress, "progress"))
    settings_from: dict[str, Any] = {}
    if preset is not None:
        settings_from = toy_preset(preset)
    m = settings_from.get("m") if m is None else m
    n = settings_from.get("n") if n is None else n
    if m is None or n is None:
        raise TypeError("train_toy_models needs m and n (or a preset)")
    m = check_int(m, "m", low=1, high=_MAX_ENTRIES)
    n = check_int(n, "n", low=1, high=_MAX_ENTRIES // m)
    model = check_choice(
        settings_from.get("model", "relu") if model is None else model, "model", TOY_MODELS
    )
    steps = check_int(
        settings_from.get("steps", 10_000) if steps is None else steps,
        "steps",
        low=1,
        high=_MAX_ENTRIES,
    )
    # a batch-major step holds four (m or n) x batch work arrays per thread: keep them within
    # a few GiB; 2^32 evaluation samples already take hours
    batch = check_int(batch, "batch", low=1, high=_MAX_BATCH_ENTRIES // (m + n))
    restarts = check_int(restarts, "restarts", low=1, high=MAX_COUNT)
    eval_batch = check_int(eval_batch, "eval_batch", low=2, high=_MAX_EVAL_BATCH)
    warmup = check_int(warmup, "warmup", low=0)
    optimizer = check_choice(optimizer, "optimizer", _OPTIMIZERS)
    schedule = check_choice(schedule, "schedule", _SCHEDULES)
    dtype = check_choice(dtype, "dtype", _DTYPES)
    lr_ = float(as_real(lr, "lr", low=0, low_open=True))
    wd = float(as_real(weight_decay, "weight_decay", low=0))
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    beta1 = float(as_real(betas[0], "betas[0]", low=0, high=1, high_open=True))
    beta2 = float(as_real(betas[1], "betas[1]", low=0, high=1, high_open=True))
    eps = float(as_real(adam_eps, "adam_eps", low=0, low_open=True))
    if optimizer == "adamw" and lr_ * wd >= 1:
        raise ValueError(f"lr * weight_decay must be < 1 for AdamW; got {lr_ * wd}")

    data_name, sets, set_mode, pairs = _data_law(data, m)
    if data_name == "1-sparse" and p is not None and np.any(np.asarray(p) != 1):
        raise ValueError(
            "p must be 1 (or omitted) with data='1-sparse': exactly one feature "
            "is active in every sample"
        )
    if data_name == "1-sparse":
        p = 1.0
    snapshots = check_int(snapshots, "snapshots", low=0)
    if snapshots == 1:
        raise ValueError("snapshots must be 0 (none) or at least 2")
    if snapshots and model == "abs":
        raise ValueError("snapshots are kept for the tied models only, not for model 'abs'")
    p_arr = as_real(settings_from.get("p", 1.0) if p is None else p, "p", low=0, high=1)
    if p_arr.ndim > 1:
        raise ValueError(
            f"p must be a number or a 1-D array (one per instance); got shape {p_arr.shape}"
        )
    imp_arr = as_real(
        settings_from.get("importance", 1.0) if importance is None else importance,
        "importance",
        low=0,
    )
    if imp_arr.ndim > 2 or (imp_arr.ndim >= 1 and imp_arr.shape[-1] not in (1, m)):
        raise ValueError(
            f"importance must be a number, an (m,) or an (instances, m) array "
            f"with m={m}; got shape {imp_arr.shape}"
        )
    if instances is None:
        sizes = [
            p_arr.shape[0] if p_arr.ndim == 1 else 1,
            imp_arr.shape[0] if imp_arr.ndim == 2 else 1,
        ]
        big = [s for s in sizes if s != 1]
        instances = big[0] if big else 1
    instances = check_int(instances, "instances", low=1, high=MAX_COUNT)
    runs = instances * restarts  # every run keeps its weights and its loss at every step
    for what, size in (("m * n", m * n), ("steps", steps)):
        if runs * size > _MAX_ENTRIES:
            raise ValueError(
                f"{what} must be at most {_MAX_ENTRIES // runs:,} for {instances} "
                f"instance(s) x {restarts} restart(s); got {size:,}"
            )
    need = _training_bytes(
        runs, m, n, batch, steps, snapshots, model == "abs", dtype == "float32", threads
    )
    have = available_memory()
    if have is not None and need > have:
        raise ValueError(
            f"batch = {batch:,} with m = {m:,}, n = {n:,} and {runs} run(s) needs about "
            f"{need / 2**30:.1f} GiB (work arrays of batch x (m + n) per thread, weights, "
            f"optimiser state, snapshots); {have / 2**30:.1f} GiB are available: lower batch "
            "(or instances, restarts, snapshots, threads)"
        )
    try:
        p_vec = np.broadcast_to(p_arr, (instances,)).astype(np.float64)
    except ValueError:
        raise ValueError(f"p has {p_arr.size} values but there are {instances} instances") from None
    try:
        imp_mat = np.broadcast_to(imp_arr if imp_arr.ndim < 2 else imp_arr, (instances, m))
    except ValueError:
        raise ValueError(
            f"importance of shape {imp_arr.shape} does not fit (instances, m) = ({instances}, {m})"
        ) from None

    from suptheory._kernels import toy as K

    ftype = np.float32 if dtype == "float32" else np.float64
    rng = as_generator(seed)
    J = instances * restarts  # restart-major: row r * instances + k
    std = (
        np.sqrt(2.0 / (n * (m + instances)))
        if init_std is None
        else float(as_real(init_std, "init_std", low=0, low_open=True))
    )
    W = (rng.standard_normal((J, m, n)) * std).astype(ftype)
    untied = model == "abs"
    W_out = (
        (rng.standard_normal((J, m, n)) * std).astype(ftype)
        if untied
        else np.zeros((1, 1, 1), ftype)
    )
    keys = rng.integers(0, 2**64, size=J, dtype=np.uint64)
    eval_keys = rng.integers(0, 2**64, size=instances, dtype=np.uint64)
    b = np.zeros((J, m), ftype)
    mW, vW = np.zeros_like(W), np.zeros_like(W)
    mWo, vWo = np.zeros_like(W_out), np.zeros_like(W_out)
    mb, vb = np.zeros_like(b), np.zeros_like(b)
    imp_J = np.ascontiguousarray(np.tile(imp_mat, (restarts, 1)), dtype=ftype)
    p_J = np.ascontiguousarray(np.tile(p_vec, restarts))
    lr_t = lr_ * _schedule(schedule, steps, warmup)
    history = np.zeros((J, steps), np.float64)
    code = K.MODELS[model]
    adamw = optimizer == "adamw"

    snap_t = snapshot_steps(steps, snapshots) if snapshots else np.zeros(0, np.int64)
    snap_W = np.zeros((J, snap_t.size, m, n))
    snap_b = np.zeros((J, snap_t.size, m))

    def keep(at: int) -> None:
        for s_ in np.flatnonzero(snap_t == at):
            snap_W[:, s_] = W
            snap_b[:, s_] = b

    done = 0
    keep(0)
    start = time.perf_counter()
    with num_threads(threads):
        # Ctrl-C stops between chunks: the models are evaluated as trained so far
        with ChunkRunner(
            steps, f"training {model} toy models", progress, unit="step", min_done=0
        ) as run:
            chunk = min(steps, 8)
            while done < steps:
                c = min(chunk, steps - done)
                later = snap_t[snap_t > done]
                if later.size:
                    c = min(c, int(later[0]) - done)
                t0 = time.perf_counter()
                out = np.zeros((J, c), np.float64)
                K.train_chunk(
                    W,
                    W_out,
                    b,
                    mW,
                    vW,
                    mWo,
                    vWo,
                    mb,
                    vb,
                    imp_J,
                    p_J,
                    sets,
                    set_mode,
                    keys,
                    done,
                    lr_t[done : done + c],
                    batch,
                    code,
                    adamw,
                    wd,
                    beta1,
                    beta2,
                    eps,
                    out,
                )
                history[:, done : done + c] = out
                done += c
                keep(done)
                run.update(c)
                # ~0.3 s per chunk: responsive to Ctrl-C, negligible call overhead.
                per_step = (time.perf_counter() - t0) / c
                chunk = int(min(max(0.3 / max(per_step, 1e-9), 1), 10_000))
        interrupted = run.interrupted
        seconds = time.perf_counter() - start
        ev_mean = np.zeros(J)
        ev_se = np.zeros(J)
        K.evaluate(
            W,
            W_out,
            b,
            imp_J,
            p_J,
            sets,
            set_mode,
            np.tile(eval_keys, restarts),
            eval_batch,
            code,
            ev_mean,
            ev_se,
        )
        # snapshots that training reached (an interrupted run keeps the ones before it)
        snap_ok = snap_t <= done
        snap_loss = np.full((J, snap_t.size), np.nan)
        snap_se = np.full((J, snap_t.size), np.nan)
        for s_ in np.flatnonzero(snap_ok):
            mu, se_ = np.zeros(J), np.zeros(J)
            Ws = np.ascontiguousarray(snap_W[:, s_], dtype=ftype)
            bs = np.ascontiguousarray(snap_b[:, s_], dtype=ftype)
            K.evaluate(
                Ws,
                W_out,
                bs,
                imp_J,
                p_J,
                sets,
                set_mode,
                np.tile(eval_keys, restarts),
                min(eval_batch, 8192),
                code,
                mu,
                se_,
            )
            snap_loss[:, s_], snap_se[:, s_] = mu, se_

    restart_loss = ev_mean.reshape(restarts, instances).T
    restart_se = ev_se.reshape(restarts, instances).T
    best = np.argmin(restart_loss, axis=1)
    rows = best * instances + np.arange(instances)
    return ToyModelResult(
        model=model,
        m=m,
        n=n,
        p=p_vec.copy(),
        importance=np.array(imp_mat, dtype=np.float64),
        W=W[rows].copy(),
        b=b[rows].copy(),
        W_out=W_out[rows].copy() if untied else None,
        loss=restart_loss[np.arange(instances), best].copy(),
        loss_se=restart_se[np.arange(instances), best].copy(),
        loss_history=history[rows, :done].copy(),
        restart_loss=restart_loss.copy(),
        best_restart=best,
        steps=steps,
        steps_done=done,
        interrupted=interrupted,
        seconds=seconds,
        settings={
            "batch": batch,
            "lr": lr_,
            "optimizer": optimizer,
            "weight_decay": wd,
            "betas": (beta1, beta2),
            "adam_eps": eps,
            "schedule": schedule,
            "warmup": warmup,
            "dtype": dtype,
            "restarts": restarts,
            "eval_batch": eval_batch,
            "preset": preset,
            "init_std": float(std),
            "data": data_name,
        },
        data=data_name,
        feature_sets=pairs,
        snapshot_steps=snap_t[snap_ok].copy() if snapshots else None,
        W_snapshots=snap_W[rows][:, snap_ok].copy() if snapshots else None,
        b_snapshots=snap_b[rows][:, snap_ok].copy() if snapshots else None,
        snapshot_loss=snap_loss[rows][:, snap_ok].copy() if snapshots else None,
        snapshot_loss_se=snap_se[rows][:, snap_ok].copy() if snapshots else None,
    )
