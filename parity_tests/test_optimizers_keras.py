"""Parity of reference.optimizers with keras.optimizers: N steps on the same variables and grads.

Each row is an optimizer and its arguments. Both frameworks start from the same two variables
(a matrix and a vector, float32 or float64 under `set_floatx` on both sides), take STEPS steps
with the same random gradients, and must agree on the variables, every slot (names, order,
values) and the iteration counter. Tolerances: float64 rtol 1e-12 (the same ops in the same
order; only pow/sqrt rounding may differ by an ulp per step); float32 rtol 2e-5 (a few ulps per
step, compounded over the steps of an update that divides by sqrt(v)).
"""

from __future__ import annotations

import contextlib
import os
import re

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx as harness_floatx  # noqa: E402
from reference import optimizers  # noqa: E402

STEPS = 10  # 20-step training parity is in test_training_keras.py
S = keras.optimizers.schedules
R = optimizers.schedules
ROWS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "global_clipnorm": 1.0}),
    (
        "Adam",
        {"learning_rate": 0.01, "clipvalue": 0.3, "use_ema": True, "ema_overwrite_frequency": 7},
    ),  # fmt: skip
    ("Adam", {"gradient_accumulation_steps": 3}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True, "momentum": 0.9}),
    ("Adagrad", {}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {}),
    ("Nadam", {}),
    ("Lion", {"weight_decay": 0.01}),
    ("Ftrl", {}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.02,
            "beta": 0.5,
        },
    ),
    (
        "Ftrl",
        {
            "learning_rate": 0.05,
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.3,
            "l2_shrinkage_regularization_strength": 0.1,
            "l1_regularization_strength": 0.01,
        },
    ),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": 0.0,
            "initial_accumulator_value": 0.0,
            "clipnorm": 1.0,
        },
    ),
]
SCHEDULES = [
    ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 4, 0.5), {}),
    ("PolynomialDecay", (0.1, 7), {"power": 2.0, "cycle": True}),
    ("CosineDecay", (0.05, 10), {"alpha": 0.1, "warmup_target": 0.1, "warmup_steps": 5}),
    ("PiecewiseConstantDecay", ([4, 9], [0.1, 0.05, 0.01]), {}),
]
TOL = {"float32": 2e-5, "float64": 1e-12}


@contextlib.contextmanager
def floatx(value):
    """floatx `value` on both sides for the block, and the dtype policy Keras derives from it at
    its first layer (harness.floatx restores both: set_floatx alone would leak the policy)."""
    with harness_floatx(value):
        yield value


# float64 for every row; float32 (the looser tier) for every third row, to stay fast.
CASES = [(row, "float64") for row in ROWS] + [(row, "float32") for row in ROWS[::3]]
# Ftrl (n^p - n'^p differences of close values): every row in float32 too
CASES += [(r, "float32") for i, r in enumerate(ROWS) if r[0] == "Ftrl" and i % 3]


def _run(name, kwargs, floatx, schedule=None):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(w.shape) for w in init] for _ in range(STEPS)]
    k_vars = [
        keras.Variable(w, dtype=floatx, name=n)
        for w, n in zip(init, ["kernel", "bias"], strict=True)
    ]
    r_vars = [
        reference.Variable(w, dtype=floatx, name=n)
        for w, n in zip(init, ["kernel", "bias"], strict=True)
    ]
    k_kw, r_kw = dict(kwargs), dict(kwargs)
    if schedule is not None:
        cls, args, skw = schedule
        k_kw["learning_rate"], r_kw["learning_rate"] = (
            getattr(S, cls)(*args, **skw),
            getattr(R, cls)(*args, **skw),
        )
    # explicit names: auto names ("sgd_3") depend on what the process created before
    k_kw["name"] = r_kw["name"] = name.lower()
    k_opt, r_opt = getattr(keras.optimizers, name)(**k_kw), getattr(optimizers, name)(**r_kw)
    for step in grads:
        g = [x.astype(floatx) for x in step]
        k_opt.apply_gradients(zip(g, k_vars, strict=True))
        r_opt.apply_gradients(zip(g, r_vars, strict=True))
    if kwargs.get("use_ema"):
        k_opt.finalize_variable_values(k_vars)
        r_opt.finalize_variable_values(r_vars)
    return k_opt, r_opt, k_vars, r_vars


def _compare(k_opt, r_opt, k_vars, r_vars, floatx):
    rtol = TOL[floatx]
    for k, r in zip(k_vars, r_vars, strict=True):
        np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=rtol, atol=rtol, err_msg=k.path)
    # Nadam's product is an auto-named "variable" (a process-wide counter on each side).
    paths = [[re.sub(r"/variable(_\d+)?$", "/variable", v.path) for v in opt.variables]
             for opt in (r_opt, k_opt)]  # fmt: skip
    assert paths[0] == paths[1]
    assert [v.dtype for v in r_opt.variables] == [v.dtype for v in k_opt.variables]
    for k, r in zip(k_opt.variables, r_opt.variables, strict=True):
        np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=rtol, atol=rtol, err_msg=k.path)
    assert r_opt.iterations == int(k_opt.iterations)


@pytest.mark.parametrize("row, dtype", CASES, ids=lambda c: str(c))
def test_optimizer_steps_match_keras(row, dtype):
    with floatx(dtype):
        _compare(*_run(*row, dtype), dtype)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s[0])
def test_schedules_match_keras(schedule):
    cls, args, kw = schedule
    k, r = getattr(S, cls)(*args, **kw), getattr(R, cls)(*args, **kw)
    for step in range(25):
        assert np.asarray(r(step)).dtype == np.dtype("float32")
        np.testing.assert_allclose(r(step), np.asarray(k(step)), rtol=2e-7, err_msg=str(step))
    with floatx("float64"):
        _compare(*_run("SGD", {"momentum": 0.9}, "float64", schedule), "float64")
