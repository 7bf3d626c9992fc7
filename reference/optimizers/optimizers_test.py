"""reference.optimizers in NumPy only: first steps by hand, slot names, clipping, errors."""

import numpy as np
import pytest

import reference
from reference import optimizers

G = np.array([0.5, -0.25, 2.0])


def _one_step(opt, w0=(1.0, 2.0, -1.0)):
    w = reference.Variable(np.array(w0), name="w")
    opt.apply_gradients([(G, w)])
    return w.numpy()


F32 = np.float32  # Keras casts Python-float hyper-parameters through float32
FIRST_STEPS = [
    (optimizers.SGD(0.1), lambda w: w - G * F32(0.1)),
    (optimizers.SGD(0.1, momentum=0.9), lambda w: w - G * F32(0.1)),
    (optimizers.Adagrad(0.1), lambda w: w - F32(0.1) * G / np.sqrt(F32(0.1) + G**2 + 1e-7)),
    (optimizers.RMSprop(0.1), lambda w: w - F32(0.1) * G / np.sqrt(0.1 * G**2 + 1e-7)),
    (optimizers.Lion(0.1), lambda w: w - F32(0.1) * np.sign(G)),
]


@pytest.mark.parametrize("opt, expected", FIRST_STEPS, ids=lambda o: type(o).__name__)
def test_first_step_by_hand(opt, expected):
    w0 = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(_one_step(opt), expected(w0), rtol=1e-7)


def test_slot_names_follow_keras():
    layer = reference.layers.Dense(2, name="dense")  # explicit: auto names depend on order
    layer(np.zeros((1, 3), "float32"))
    opt = optimizers.Adam(amsgrad=True, name="adam")
    opt.build(layer.trainable_weights)
    assert [v.path for v in opt.variables] == [
        "adam/iteration", "adam/learning_rate",
        "adam/dense_kernel_momentum", "adam/dense_kernel_velocity",
        "adam/dense_bias_momentum", "adam/dense_bias_velocity",
        "adam/dense_kernel_velocity_hat", "adam/dense_bias_velocity_hat",
    ]  # fmt: skip


def test_clipnorm_and_global_clipnorm():
    np.testing.assert_allclose(
        _one_step(optimizers.SGD(1.0, clipnorm=1.0)), [1, 2, -1] - G / np.linalg.norm(G)
    )
    g2 = np.array([3.0, 4.0])
    a, b = reference.Variable(np.zeros(3), name="a"), reference.Variable(np.zeros(2), name="b")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(G, a), (g2, b)])
    norm = np.sqrt(np.sum(G**2) + 25)
    np.testing.assert_allclose(np.concatenate([a.numpy(), b.numpy()]),
                               -np.concatenate([G, g2]) / norm)  # fmt: skip


def test_errors():
    with pytest.raises(ValueError, match="Only one of `clipnorm`"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="`momentum` must be a float"):
        optimizers.SGD(momentum=2.0)
    opt = optimizers.SGD()
    _one_step(opt)
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(G, reference.Variable(np.zeros(3), name="other"))])


@pytest.mark.parametrize(
    "opt, name",
    [
        (optimizers.Adam(epsilon=None), "epsilon"),
        (optimizers.Adam(beta_1="0.9"), "beta_1"),
        (optimizers.RMSprop(rho=None), "rho"),
        (optimizers.Adadelta(epsilon=None), "epsilon"),
        (optimizers.SGD(momentum=0.5, nesterov=True), None),
    ],
)
def test_a_hyperparameter_that_is_not_a_number_fails_before_any_update(opt, name):
    """Keras builds these optimizers too and fails inside the first update; the reference
    refuses before its slots, weights or iteration count change."""
    w = reference.Variable(np.array([1.0, 2.0, -1.0]), name="w")
    if name is None:
        opt.apply_gradients([(G, w)])
        assert int(opt.iterations) == 1
        return
    with pytest.raises(ValueError, match=f"`{name}` must be a number.*Received: {name}="):
        opt.apply_gradients([(G, w)])
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, -1.0])
    assert int(opt.iterations) == 0 and all(not np.any(v.numpy()) for v in opt.variables[2:])


def test_ftrl_first_step_by_hand():
    # n = 0.1 + g^2; z = g - (sqrt(n) - sqrt(0.1)) / lr * w; w' = (clip(z, -l1, l1) - z) / q
    lr, l1 = F32(0.1), 0.05
    w0 = np.array([1.0, 2.0, -1.0])
    n0, n1 = F32(0.1), F32(0.1) + G**2
    z = G - (np.sqrt(n1) - np.sqrt(n0)) / lr * w0
    expected = (np.clip(z, -l1, l1) - z) / (np.sqrt(n1) / lr)
    opt = optimizers.Ftrl(0.1, l1_regularization_strength=l1)
    np.testing.assert_allclose(_one_step(opt), expected, rtol=1e-6)
    assert [v.name for v in opt.variables][2:] == ["w_accumulator", "w_linear"]


@pytest.mark.parametrize("arg", ["initial_accumulator_value", "l1_regularization_strength",
                                 "l2_regularization_strength",
                                 "l2_shrinkage_regularization_strength"])  # fmt: skip
def test_ftrl_rejects_negative_strengths(arg):
    with pytest.raises(ValueError, match=f"Ftrl: `{arg}` needs to be positive or zero"):
        optimizers.Ftrl(**{arg: -0.1})
    with pytest.raises(ValueError, match="`learning_rate_power` needs to be negative or zero"):
        optimizers.Ftrl(learning_rate_power=0.5)


@pytest.mark.parametrize("block", [5, 1 << 16])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_in_blocks_is_bit_identical_to_whole_arrays(block, amsgrad, dtype, monkeypatch):
    """Adam runs its element-wise step block by block: weights and slots after 3 steps equal,
    bit for bit, the same steps over whole arrays, for a variable larger than one block (with
    a short tail block), a non-contiguous gradient, a 0-d and a one-element variable."""
    from reference.optimizers import base

    shapes = [(300, 301), (7, 3), (), (1,)] if block > 5 else [(7, 3), (4,), (), (1,)]
    rng = np.random.default_rng(5)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s[::-1]).astype(dtype).T for s in shapes] for _ in range(3)]
    results = []
    for size in (block, 10**9):
        monkeypatch.setattr(base, "_BLOCK", size)
        variables = [reference.Variable(v.copy()) for v in init]
        opt = reference.optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
        for step in grads:
            opt.apply_gradients(zip(step, variables, strict=True))
        results.append([np.array(v.value) for v in [*variables, *opt.variables]])
    for blocked, whole in zip(*results, strict=True):
        np.testing.assert_array_equal(blocked, whole)
    assert not np.array_equal(results[0][0], init[0])  # the steps did update the weights
