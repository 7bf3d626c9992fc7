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
