"""Tests of the toy-model trainer against independent references.

References: central finite differences (gradients), a numpy transcription of PyTorch's
Adam/AdamW (and torch itself when installed), closed-form expected losses of docs/theory.md
section 6 (two features, one neuron; the zero model), the paper's geometry (pentagon) and its
reported trends (features learned and D* against sparsity).
"""

from __future__ import annotations

import numpy as np
import pytest

from suptheory._kernels import toy as K
from suptheory.cli._common import dumps
from suptheory.empirical.toy_models import (
    PRESETS,
    TOY_MODELS,
    _schedule,
    snapshot_steps,
    toy_preset,
    train_toy_models,
)
from tests.helpers import interrupt_on_call

# ---------------------------------------------------------------- gradients


def _objective(model, W, Wo, b, imp, x, gram=False):
    gW = np.zeros_like(W)
    gWo = np.zeros_like(Wo) if model == "abs" else gW
    gb = np.zeros_like(b)
    Wo_ = Wo if model == "abs" else W
    f = K.loss_and_grad(W, Wo_, b, imp, x, K.MODELS[model], gW, gWo, gb, gram)
    return f, gW, gWo, gb


@pytest.mark.parametrize(
    "model,gram", [(mo, False) for mo in TOY_MODELS] + [("relu", True), ("linear", True)]
)
def test_gradient_equals_central_differences(model, gram):
    rng = np.random.default_rng(7)
    m, n, B = 6, 3, 40
    W = rng.standard_normal((m, n)) * 0.6
    Wo = rng.standard_normal((m, n)) * 0.6
    b = rng.standard_normal(m) * 0.2
    imp = rng.uniform(0.2, 1.5, m)
    low = -1.0 if model == "abs" else 0.0
    x = np.where(rng.random((B, m)) < 0.5, rng.uniform(low, 1.0, (B, m)), 0.0)
    f, gW, gWo, gb = _objective(model, W, Wo, b, imp, x, gram)
    # the objective is the notebook's: mean over batch and features
    assert f > 0
    h = 1e-6
    params = [("W", W, gW), ("b", b, gb)] + ([("Wo", Wo, gWo)] if model == "abs" else [])
    for _name, P, G in params:
        num = np.zeros_like(P)
        for j in np.ndindex(P.shape):
            old = P[j]
            P[j] = old + h
            fp = _objective(model, W, Wo, b, imp, x, gram)[0]
            P[j] = old - h
            fm = _objective(model, W, Wo, b, imp, x, gram)[0]
            P[j] = old
            num[j] = (fp - fm) / (2 * h)
        np.testing.assert_allclose(G, num, rtol=1e-5, atol=1e-9)


def test_objective_is_notebook_normalisation():
    # linear model, hand-computed: mean over batch and features of I (x - x')^2
    rng = np.random.default_rng(3)
    m, n, B = 4, 2, 7
    W = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    imp = rng.uniform(0.5, 1.0, m)
    x = rng.random((B, m))
    out = x @ W @ W.T + b
    ref = np.mean(imp * (x - out) ** 2)
    relu_ref = np.mean(imp * (x - np.maximum(out, 0)) ** 2)
    for gram in (False, True):
        assert _objective("linear", W, W, b, imp, x, gram)[0] == pytest.approx(ref, rel=1e-12)
        relu = _objective("relu", W, W, b, imp, x, gram)[0]
        assert relu == pytest.approx(relu_ref, rel=1e-12)


# ---------------------------------------------------------------- optimiser


def _torch_adam_reference(P, grads, lr, adamw, wd, b1=0.9, b2=0.999, eps=1e-8):
    """numpy transcription of torch.optim.Adam/AdamW's single-tensor step."""
    P = P.copy()
    M = np.zeros_like(P)
    V = np.zeros_like(P)
    for t, g in enumerate(grads, start=1):
        g = g.copy()
        if adamw:
            P *= 1 - lr * wd
        else:
            g = g + wd * P
        M = M + (g - M) * (1 - b1)
        V = V * b2 + (1 - b2) * g * g
        bc1 = 1 - b1**t
        bc2 = 1 - b2**t
        P = P - (lr / bc1) * M / (np.sqrt(V) / np.sqrt(bc2) + eps)
    return P


@pytest.mark.parametrize("adamw,wd", [(True, 0.01), (True, 0.3), (False, 0.0), (False, 0.05)])
def test_adam_matches_pytorch_algorithm(adamw, wd):
    rng = np.random.default_rng(11)
    P0 = rng.standard_normal(13)
    grads = [rng.standard_normal(13) * 10.0 ** rng.uniform(-4, 1) for _ in range(25)]
    P = P0.copy()
    M = np.zeros_like(P)
    V = np.zeros_like(P)
    for t, g in enumerate(grads, start=1):
        K.adam_update(P, g.copy(), M, V, 1e-2, t, adamw, wd, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(P, _torch_adam_reference(P0, grads, 1e-2, adamw, wd), rtol=1e-12)

    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float64))
    cls = torch.optim.AdamW if adamw else torch.optim.Adam
    opt = cls([p], lr=1e-2, weight_decay=wd)
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    np.testing.assert_allclose(P, p.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_schedules():
    lin = _schedule("linear", 10, 0)
    assert lin[0] == 1.0 and lin[-1] == pytest.approx(0.1)
    cos = _schedule("cosine", 10, 0)
    assert cos[0] == 1.0 and abs(cos[-1]) < 1e-12 and np.all(np.diff(cos) < 0)
    warm = _schedule("constant", 10, 4)
    np.testing.assert_allclose(warm[:5], [0.25, 0.5, 0.75, 1.0, 1.0])


# ---------------------------------------------------------------- data


@pytest.mark.parametrize("model", ["linear", "abs"])
@pytest.mark.parametrize("p", [0.7, 0.3, 0.05, 0.004])
def test_data_moments_through_zero_model(model, p):
    # W = 0, b = c: the loss per sample is sum_i I_i (c - y_i)^2 whose expectation is
    # sum_i I_i (c^2 - 2 c p E|u| + p E[u^2]) with E|u| = 1/2, E[u^2] = 1/3 for both data laws.
    m, n, J = 7, 2, 3
    imp = np.tile(np.linspace(0.5, 1.5, m), (J, 1))
    W = np.zeros((J, m, n))
    c = np.array([0.0, 0.2, 0.5])
    b = np.repeat(c[:, None], m, axis=1)
    keys = np.array([1, 2, 3], dtype=np.uint64)
    mean = np.zeros(J)
    se = np.zeros(J)
    batch = 40_000
    K.evaluate(
        W,
        W,
        b,
        imp,
        np.full(J, p),
        K.NO_SETS,
        K.NO_SET_MODE,
        keys,
        batch,
        K.MODELS[model],
        mean,
        se,
    )
    expected = imp.sum(1) * (c**2 - c * p + p / 3)
    assert np.all(np.abs(mean - expected) < 4.5 * se + 1e-12)


def test_training_and_evaluation_losses_match_numpy_forward_at_m_much_above_n():
    # m >> n at dense, batch-major sparse and Gram densities: with lr ~ 0 (W stays at its
    # initialisation) the kernels' training-batch losses and evaluation loss agree with an
    # independent numpy forward pass of ReLU(x W W^T + b) on fresh numpy data
    m, n = 200, 20
    ps = np.array([0.5, 0.03, 0.005])
    assert [K.use_batch(p, m, n) for p in ps] == [True, True, False]
    assert K.use_gram(K.MODEL_RELU, ps[2], m, n)
    r = train_toy_models(
        m,
        n,
        p=ps,
        steps=100,
        batch=512,
        lr=1e-12,
        progress=False,
        seed=2,
        eval_batch=2**15,
        dtype="float64",
    )
    rng = np.random.default_rng(7)
    for k, p in enumerate(ps):
        W = r.W[k]
        x = np.where(rng.random((2**15, m)) < p, rng.random((2**15, m)), 0.0)
        loss = ((x - np.maximum(x @ W @ W.T + r.b[k], 0.0)) ** 2).sum(axis=1)
        ref, ref_se = loss.mean(), loss.std() / np.sqrt(loss.size)
        h = r.loss_history[k]
        assert abs(h.mean() - ref) < 4 * np.hypot(ref_se, h.std() / np.sqrt(h.size))
        assert abs(r.loss[k] - ref) < 4 * np.hypot(ref_se, r.loss_se[k])


# ---------------------------------------------------------------- training results


def test_pentagon_at_high_sparsity():
    r = train_toy_models(
        5, 2, p=0.02, importance=1.0, steps=3000, restarts=4, progress=False, seed=5
    )
    D = r.feature_dimensionality[0]
    np.testing.assert_allclose(D, 0.4, atol=0.02)
    # a regular pentagon: consecutive angles 72 degrees
    ang = np.sort(np.arctan2(r.W[0, :, 1], r.W[0, :, 0]))
    gaps = np.diff(np.concatenate([ang, ang[:1] + 2 * np.pi]))
    np.testing.assert_allclose(gaps, 2 * np.pi / 5, atol=0.05)
    assert r.geometry(0).classes.counts() == {"pentagon": 5}


def test_features_learned_and_dstar_trend():
    # Elhage et al.: dense features -> about n features (an orthogonal basis of the most
    # important), D* ~ 1; sparse features -> more features than neurons, D* < 1.
    r = train_toy_models(
        20,
        5,
        p=[1.0, 0.03],
        importance=0.7 ** np.arange(20),
        steps=3000,
        progress=False,
        seed=2,
        restarts=2,
    )
    fl = r.features_learned
    assert fl[0] == pytest.approx(5, abs=0.6)
    assert r.dimensions_per_feature[0] == pytest.approx(1.0, abs=0.12)
    assert fl[1] > 7
    assert r.dimensions_per_feature[1] < 0.7
    # ||W||_F^2 = sum of squared norms; each learned feature has norm near 1
    norms = np.linalg.norm(r.W[0], axis=1)
    assert np.sum(norms > 0.5) == 5


def test_two_feature_phase_against_exact_losses():
    r1 = 1.0
    p = np.array([0.1, 0.9])
    # restarts: about half of the runs at p = 0.1 stall in a local optimum (one feature
    # kept, the other partly mixed in, loss ~ the dropping cost), as the paper warns
    r = train_toy_models(
        2,
        1,
        p=p,
        importance=[1.0, r1],
        steps=3000,
        restarts=8,
        progress=False,
        seed=4,
        dtype="float64",
        eval_batch=2**16,
    )
    antipodal = (1 + r1) * p**2 / 6
    drop = r1 * (p / 3 - p**2 / 4)
    # p = 0.1 << 4/7: antipodal pair, loss near (1 + r) p^2 / 6 (learned norms and bias can
    # do a little better), far below the cost of dropping a feature
    w = r.W[0, :, 0]
    assert w[0] * w[1] < 0 and min(abs(w)) > 0.5
    assert r.loss[0] < 1.1 * antipodal[0]
    assert r.loss[0] > 0.6 * antipodal[0]
    assert r.loss[0] < 0.25 * drop[0]
    # p = 0.9 >> 4/7: no antipodal pair; one feature kept (the other at most partly mixed
    # in with the same sign), loss near the dropping cost r (p/3 - p^2/4), far from antipodal
    w = r.W[1, :, 0]
    assert w[0] * w[1] >= 0 or min(abs(w)) < 0.1
    assert max(abs(w)) > 0.85
    assert r.loss[1] == pytest.approx(drop[1], rel=0.03)
    assert r.loss[1] < 0.5 * antipodal[1]


@pytest.mark.parametrize("model", ["hidden-relu", "abs", "linear"])
def test_other_models_train(model):
    r = train_toy_models(6, 3, p=0.3, steps=400, progress=False, seed=1, model=model)
    assert r.loss_history.shape == (1, 400)
    # loss falls from the start
    assert r.loss_history[0, -50:].mean() < 0.8 * r.loss_history[0, :5].mean()
    assert (r.W_out is not None) == (model == "abs")


def test_linear_model_learns_principal_subspace():
    # linear model: the optimum keeps the n most important features (PCA); Elhage et al.
    r = train_toy_models(
        5,
        2,
        p=0.5,
        importance=[1.0, 0.9, 0.1, 0.05, 0.01],
        model="linear",
        steps=3000,
        progress=False,
        seed=0,
        dtype="float64",
    )
    norms = np.linalg.norm(r.W[0], axis=1)
    assert np.all(norms[:2] > 0.8) and np.all(norms[2:] < 0.3)


# ---------------------------------------------------------------- reproducibility, threads


def test_reproducible_and_thread_independent():
    kw = dict(p=[0.5, 0.05, 0.01], steps=150, progress=False, restarts=2)
    a = train_toy_models(8, 3, seed=9, threads=1, **kw)
    b = train_toy_models(8, 3, seed=9, threads=2, **kw)
    c = train_toy_models(8, 3, seed=10, threads=1, **kw)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.b, b.b)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.W, c.W)
    g = train_toy_models(8, 3, seed=np.random.default_rng(9), **kw)
    np.testing.assert_array_equal(a.W, g.W)


def test_float64_and_float32():
    a = train_toy_models(4, 2, p=0.2, steps=50, progress=False, dtype="float64")
    b = train_toy_models(4, 2, p=0.2, steps=50, progress=False, dtype="float32")
    assert a.W.dtype == np.float64 and b.W.dtype == np.float32
    np.testing.assert_allclose(a.W, b.W, atol=1e-3)


def test_restarts_pick_lowest_evaluation_loss():
    r = train_toy_models(5, 2, p=[0.05, 0.5], steps=200, restarts=3, progress=False, seed=1)
    assert r.restart_loss.shape == (2, 3)
    np.testing.assert_array_equal(r.loss, r.restart_loss.min(axis=1))
    np.testing.assert_array_equal(r.best_restart, r.restart_loss.argmin(axis=1))


def test_interrupt_returns_finished_work(monkeypatch):
    flaky, _ = interrupt_on_call(K.train_chunk, 3)
    monkeypatch.setattr(K, "train_chunk", flaky)
    r = train_toy_models(4, 2, p=0.3, steps=1_000_000, progress=False)
    assert r.interrupted and 0 < r.steps_done < 1_000_000
    assert r.loss_history.shape == (1, r.steps_done)
    assert np.all(np.isfinite(r.loss))


# ---------------------------------------------------------------- presets, output


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_consistent(name):
    pre = toy_preset(name)
    m = pre["m"]
    p = np.atleast_1d(pre["p"])
    assert np.all((p >= 0) & (p <= 1))
    imp = np.asarray(pre["importance"], dtype=float)
    assert imp.ndim == 0 or imp.shape[-1] == m
    assert pre["source"]
    assert pre["n"] < m


def test_anthropic_intro_preset_is_the_notebook():
    pre = toy_preset("anthropic-intro")
    assert (pre["m"], pre["n"], len(pre["p"])) == (5, 2, 10)
    np.testing.assert_allclose(pre["p"], [20 ** -(k / 9) for k in range(10)])
    np.testing.assert_allclose(pre["importance"], [0.9**k for k in range(5)])
    r = train_toy_models(preset="anthropic-intro", steps=20, progress=False)
    assert r.W.shape == (10, 5, 2) and r.importance.shape == (10, 5)


def test_uniform_superposition_preset_is_the_notebooks_sweep():
    # the notebook's "Feature geometry" cell: feature_probability = 20 ** -linspace(0, 1, 20)
    pre = toy_preset("uniform-superposition")
    assert (pre["m"], pre["n"], len(pre["p"])) == (400, 30, 20)
    np.testing.assert_allclose(pre["p"], [20 ** -(k / 19) for k in range(20)])
    assert float(pre["importance"]) == 1.0


def test_result_serialises_and_summarises():
    r = train_toy_models(3, 2, p=[0.1, 0.9], steps=20, progress=False)
    text = dumps(r.to_dict())
    assert '"features_learned"' in text
    assert "m=3, n=2, 2 instances" in str(r)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(m=0, n=2), ValueError, "m must"),
        (dict(m=5, n=0), ValueError, "n must"),
        (dict(m=5.5, n=2), ValueError, "m must"),
        (dict(m="5", n=2), TypeError, "m must"),
        (dict(m=5, n=2, p=1.5), ValueError, "p must"),
        (dict(m=5, n=2, p=float("nan")), ValueError, "p must"),
        (dict(m=5, n=2, p=[[0.1]]), ValueError, "p must"),
        (dict(m=5, n=2, importance=-1.0), ValueError, "importance must"),
        (dict(m=5, n=2, importance=[1.0, 2.0]), ValueError, "importance"),
        (dict(m=5, n=2, model="tanh"), ValueError, "model must"),
        (dict(m=5, n=2, optimizer="sgd"), ValueError, "optimizer must"),
        (dict(m=5, n=2, schedule="step"), ValueError, "schedule must"),
        (dict(m=5, n=2, dtype="float16"), ValueError, "dtype must"),
        (dict(m=5, n=2, steps=0), ValueError, "steps must"),
        (dict(m=5, n=2, batch=0), ValueError, "batch must"),
        (dict(m=5, n=2, lr=0.0), ValueError, "lr must"),
        (dict(m=5, n=2, lr=float("inf")), ValueError, "lr must"),
        (dict(m=5, n=2, weight_decay=-0.1), ValueError, "weight_decay must"),
        (dict(m=5, n=2, restarts=0), ValueError, "restarts must"),
        (dict(m=5, n=2, p=[0.1, 0.2], instances=3), ValueError, "instances"),
        (dict(preset="nope"), ValueError, r"name \(of a preset\) must"),
        (dict(), TypeError, "needs m and n"),
        (dict(m=5, n=2, seed="x"), TypeError, "seed"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train_toy_models(progress=False, steps=kwargs.pop("steps", 5), **kwargs)


# ---------------------------------------------------------------- command line


def test_cli_train_json_and_plot(tmp_path, capsys):
    import json

    from suptheory.cli.main import main

    out = tmp_path / "toy.png"
    code = main(
        [
            "train",
            "--preset",
            "anthropic-intro",
            "--steps",
            "30",
            "--json",
            "--plot",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["m"] == 5 and data["n"] == 2 and len(data["loss"]) == 10
    assert out.stat().st_size > 1000
    code = main(
        ["train", "--m", "4", "--n", "2", "--p", "0.1", "0.5", "--steps", "20", "--no-progress"]
    )
    assert code == 0
    assert "2 instances" in capsys.readouterr().out
    assert main(["train", "--m", "4", "--n", "2", "--p", "2", "--no-progress"]) == 2
    assert "p must be in [0, 1]" in capsys.readouterr().err


def test_plot_non_planar_panels():
    import matplotlib.pyplot as plt

    from suptheory.plots.toy import plot_toy_models

    r = train_toy_models(6, 3, p=[0.1, 0.2, 0.3], steps=10, progress=False)
    fig = plot_toy_models(r, columns=2)
    assert len(fig.axes) == 3
    plt.close(fig)


@pytest.mark.parametrize("model", list(TOY_MODELS))
def test_batch_major_gradient_equals_central_differences(model):
    # the trainer's batch-major path (moderate/high density) draws its own sample; check its
    # objective against the per-sample path on that sample, and its gradient against
    # central differences (batch 37: not a multiple of the 16 summation lanes)
    rng = np.random.default_rng(5)
    m, n, B = 5, 3, 37
    W = rng.standard_normal((m, n)) * 0.6
    Wo = rng.standard_normal((m, n)) * 0.6 if model == "abs" else W
    b = rng.standard_normal(m) * 0.2
    imp = rng.uniform(0.2, 1.5, m)
    code = K.MODELS[model]

    def run():
        gW = np.zeros_like(W)
        gWo = np.zeros_like(Wo) if model == "abs" else gW
        gb = np.zeros_like(b)
        f, X = K.batch_loss_and_grad(W, Wo, b, imp, 0.6, np.uint64(12345), 3, B, code, gW, gWo, gb)
        return f, X, gW, gWo, gb

    f, X, gW, gWo, gb = run()
    assert 0 < np.mean(X != 0) < 1 and (X.min() < 0) == (model == "abs")
    ref = _objective(model, W, Wo, b, imp, X)
    assert f == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_allclose(gW, ref[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb, ref[3], rtol=1e-10, atol=1e-14)
    h = 1e-6
    for P, G in [(W, gW), (b, gb)] + ([(Wo, gWo)] if model == "abs" else []):
        for j in np.ndindex(P.shape):
            old = P[j]
            P[j] = old + h
            fp = run()[0]
            P[j] = old - h
            fm = run()[0]
            P[j] = old
            assert G[j] == pytest.approx((fp - fm) / (2 * h), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("model", list(TOY_MODELS))
def test_extreme_densities_and_paths(model):
    # p = 0 (no data: the loss is 0 and weight decay shrinks W), p = 1, and densities that
    # take each kernel path (sparse per-sample, Gram, batch-major) at a larger width
    r = train_toy_models(
        40,
        3,
        p=[0.0, 1.0, 0.002, 0.03, 0.2],
        steps=30,
        progress=False,
        model=model,
        eval_batch=1000,
    )
    assert np.all(np.isfinite(r.W)) and np.all(np.isfinite(r.loss_history))
    assert r.loss[0] == 0.0 and np.all(r.loss_history[0] == 0.0)
    assert np.all(r.loss[1:] > 0)
    paths = {(K.use_batch(p, 40, 3), K.use_gram(K.MODELS[model], p, 40, 3)) for p in r.p}
    assert len(paths) >= 2


def test_init_scale_is_torch_xavier_normal_of_the_3d_parameter():
    torch = pytest.importorskip("torch")
    r = train_toy_models(7, 3, p=np.full(4, 0.5), steps=1, progress=False)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(4, 7, 3))
    assert r.settings["init_std"] == pytest.approx(np.sqrt(2.0 / (fan_in + fan_out)), rel=1e-12)


# ---------------------------------------------------------------- data laws, snapshots


@pytest.mark.parametrize(
    "data,p,expected",
    [
        ("1-sparse", 1.0, lambda c, m: m * c**2 - c + 1 / 3),
        (
            [("correlated", 3), ("anticorrelated", 4)],
            0.4,
            lambda c, m: 3 * (c**2 - 0.4 * c + 0.4 / 3) + 4 * (c**2 - 0.1 * c + 0.1 / 3),
        ),
    ],
)
def test_feature_set_moments_through_zero_model(data, p, expected):
    # W = 0, b = c: each output costs c^2 - 2 c E x + E x^2 with the feature's marginal
    # density (1/m for 1-sparse; p for a correlated set, p / size for an anticorrelated one)
    from suptheory.empirical.toy_models import _data_law

    m, J, batch = 7, 3, 60_000
    _, sets, mode, _ = _data_law(data, m)
    c = np.array([0.0, 0.1, 0.3])
    W = np.zeros((J, m, 2))
    b = np.repeat(c[:, None], m, axis=1)
    mean, se = np.zeros(J), np.zeros(J)
    K.evaluate(
        W,
        W,
        b,
        np.ones((J, m)),
        np.full(J, p),
        sets,
        mode,
        np.array([4, 5, 6], dtype=np.uint64),
        batch,
        K.MODEL_RELU,
        mean,
        se,
    )
    assert np.all(np.abs(mean - expected(c, m)) < 4.5 * se + 1e-12)


def test_snapshots_and_trajectories():
    r = train_toy_models(
        6,
        2,
        data="1-sparse",
        steps=300,
        snapshots=8,
        init_std=1e-3,
        restarts=2,
        progress=False,
        seed=3,
        eval_batch=4096,
    )
    assert r.data == "1-sparse" and r.feature_sets == [("anticorrelated", 6)]
    assert r.snapshot_steps.tolist() == snapshot_steps(300, 8).tolist()
    assert r.snapshot_steps[0] == 0 and r.snapshot_steps[-1] == 300
    S = r.snapshot_steps.size
    assert r.W_snapshots.shape == (1, S, 6, 2) and r.b_snapshots.shape == (1, S, 6)
    np.testing.assert_array_equal(r.W_snapshots[0, -1], r.W[0].astype(np.float64))
    assert np.abs(r.W_snapshots[0, 0]).max() < 0.01  # the small initialisation
    assert r.snapshot_loss.shape == (1, S) and np.all(r.snapshot_loss_se > 0)
    # same stream, fewer samples: the last snapshot's loss is the final evaluation's start
    assert r.snapshot_loss[0, -1] == pytest.approx(r.loss[0], rel=0.05)
    assert r.dimensionality_history.shape == (1, S, 6)
    hist = r.geometry_history(0)
    assert len(hist) == S and hist[0] == "6 not represented"


def test_one_sparse_training_finds_a_kgon():
    from suptheory.theory.kgons import kgon_loss

    r = train_toy_models(
        5, 2, data="1-sparse", steps=3000, restarts=2, progress=False, seed=0, eval_batch=20_000
    )
    # with c = 5 features the pentagon is the lowest k-gon; the evaluation agrees with it
    assert abs(r.loss[0] - kgon_loss(5, 5)) < 4 * r.loss_se[0] + 0.003
    assert r.geometry(0).classes.counts() == {"pentagon": 5}


def test_bernoulli_law_unchanged_by_default():
    a = train_toy_models(5, 2, p=0.1, steps=50, progress=False, seed=1)
    b = train_toy_models(5, 2, p=0.1, steps=50, progress=False, seed=1, data="independent")
    np.testing.assert_array_equal(a.W, b.W)
    assert a.snapshot_steps is None and a.data == "independent"


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"data": "dense"}, ValueError, "data"),
        ({"data": [("correlated", 2), ("anticorrelated", 2)]}, ValueError, "sum to 4"),
        ({"data": [("sideways", 5)]}, ValueError, "mode"),
        ({"data": [("correlated", 0), ("correlated", 5)]}, ValueError, "at least 1"),
        ({"data": [5]}, TypeError, "pairs"),
        ({"data": "1-sparse", "p": 0.5}, ValueError, "p must be 1"),
        ({"snapshots": 1}, ValueError, "snapshots"),
        ({"snapshots": 5, "model": "abs"}, ValueError, "abs"),
        ({"init_std": 0}, ValueError, "init_std"),
    ],
)
def test_bad_data_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train_toy_models(5, 2, steps=5, progress=False, **kwargs)


def test_snapshots_serialise_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from suptheory.plots.toy import plot_training_dynamics

    r = train_toy_models(5, 2, data="1-sparse", steps=40, snapshots=5, progress=False, seed=2)
    d = r.to_dict()
    assert d["data"] == "1-sparse" and len(d["snapshot_steps"]) == r.snapshot_steps.size
    assert '"snapshot_loss"' in dumps(d)
    fig = plot_training_dynamics(r, tmp_path / "dyn.png")
    assert (tmp_path / "dyn.png").stat().st_size > 10_000
    plt.close(fig)
    plain = train_toy_models(5, 2, p=0.1, steps=5, progress=False)
    with pytest.raises(ValueError, match="snapshots"):
        plot_training_dynamics(plain)
    with pytest.raises(ValueError, match="snapshots"):
        _ = plain.dimensionality_history


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch": 2**63 - 1}, "batch"),  # was a numba SystemError
        ({"eval_batch": 2**63 - 1}, "eval_batch"),  # hung inside numba
        ({"threads": -7}, "threads"),  # was accepted
        ({"threads": "3"}, "threads"),
        ({"threads": True}, "threads"),
    ],
)
def test_sizes_and_threads_are_validated_before_any_work(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        train_toy_models(5, 2, steps=1, progress=False, **kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"steps": 10**400}, "steps"),  # was "Maximum allowed size exceeded"
        ({"m": 10**400}, "m"),  # was an error about batch
        ({"restarts": 10**400}, "restarts"),  # was "Maximum allowed dimension exceeded"
        ({"steps": 2**27, "restarts": 4}, "steps"),  # 2^29 loss-history entries
    ],
)
def test_sizes_past_memory_are_a_value_error_naming_the_parameter(kwargs, name):
    args = {"m": 5, "n": 2, "steps": 1, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        train_toy_models(progress=False, **args)


def test_a_batch_that_does_not_fit_in_memory_is_refused_before_any_allocation(monkeypatch):
    """Only a size bound stood between batch and an allocation that the machine cannot hold;
    now the bytes a run needs are checked against the memory available."""
    import suptheory.empirical.toy_models as T

    monkeypatch.setattr(T, "available_memory", lambda: 2**30)  # a 1 GiB machine
    with pytest.raises(ValueError, match=r"batch = 4,000,000 .* GiB are available: lower batch"):
        T.train_toy_models(20, 5, steps=2, batch=4_000_000, threads=1, progress=False)
    r = T.train_toy_models(20, 5, steps=2, batch=64, threads=1, progress=False)  # fits
    assert r.W.shape == (1, 20, 5)
    monkeypatch.setattr(T, "available_memory", lambda: None)  # unknown: only the size bound
    assert T.train_toy_models(20, 5, steps=2, batch=64, progress=False).W.shape == (1, 20, 5)
