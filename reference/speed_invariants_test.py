"""What the speed paths must keep: in-place Adam is Keras's formula bit for bit and never changes
an array someone holds; Dense skips dx only where no gradient source reaches its input."""

import weakref

import numpy as np
import pytest

import reference
from reference import layers, optimizers


def _keras_adam(w, grads, lr, b1, b2, eps, amsgrad, wd):
    """Keras 3's Adam.update_step, written out of place as Keras writes it (assign_add of
    (g - m)(1 - b1), ...), with its casts: float hyper-parameters through float32."""
    dtype = w.dtype
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    lr = np.float32(lr).astype(dtype)
    for step, g in enumerate(grads):
        if wd is not None:
            w = w - w * np.float32(wd).astype(dtype) * lr
        t = np.asarray(step + 1).astype(dtype)
        b1_power = np.power(np.float32(b1).astype(dtype), t)
        b2_power = np.power(np.float32(b2).astype(dtype), t)
        alpha = lr * np.sqrt(1 - b2_power) / (1 - b1_power)
        m = m + (g - m) * (1 - b1)
        v = v + (np.square(g) - v) * (1 - b2)
        if amsgrad:
            vhat = np.maximum(vhat, v)
        w = w - (m * alpha) / (np.sqrt(vhat if amsgrad else v) + eps)
    return w, m, v


ADAM_CASES = {  # name: (dtype, constructor, keyword arguments of _keras_adam)
    "f64": ("float64", lambda: optimizers.Adam(0.01), dict(amsgrad=False, wd=None)),
    "f32": ("float32", lambda: optimizers.Adam(0.01), dict(amsgrad=False, wd=None)),
    "f64 amsgrad": ("float64", lambda: optimizers.Adam(0.01, amsgrad=True),
                    dict(amsgrad=True, wd=None)),
    "f32 amsgrad": ("float32", lambda: optimizers.Adam(0.01, amsgrad=True),
                    dict(amsgrad=True, wd=None)),
    "f32 AdamW": ("float32", lambda: optimizers.AdamW(0.01, weight_decay=0.1),
                  dict(amsgrad=False, wd=0.1)),
}  # fmt: skip


# A small weight, a 75,000-element one, and a Fortran-ordered one (in-place ufuncs keep the
# layout they are given).
ADAM_SHAPES = {"small": ((7, 5), False), "blocks": ((300, 250), False), "fortran": ((40, 30), True)}


@pytest.mark.parametrize("shape, fortran", ADAM_SHAPES.values(), ids=list(ADAM_SHAPES))
@pytest.mark.parametrize("dtype, make, extra", ADAM_CASES.values(), ids=list(ADAM_CASES))
def test_in_place_adam_is_keras_formula_bit_for_bit(dtype, make, extra, shape, fortran):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(shape).astype(dtype)
    w0 = np.asfortranarray(w0) if fortran else w0
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(6)]
    w = reference.Variable(w0, name="w")
    opt = make()
    for g in grads:
        opt.apply_gradients([(g, w)])
    want_w, want_m, want_v = _keras_adam(w0, grads, 0.01, 0.9, 0.999, 1e-7, **extra)
    m, v = opt._momentums[0], opt._velocities[0]
    for got, want in ((w, want_w), (m, want_m), (v, want_v)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)


def test_adam_never_changes_an_array_someone_holds():
    w = reference.Variable(np.ones((4, 3)), name="w")
    opt = optimizers.Adam(0.1, amsgrad=True)
    opt.apply_gradients([(np.full((4, 3), 0.5), w)])
    slots = [w, *opt.variables[2:]]  # the weight, m, v, v_hat
    held = [s.value for s in slots]  # plain reads outside a tape: the stored arrays themselves
    before = [h.copy() for h in held]
    opt.apply_gradients([(np.full((4, 3), -2.0), w)])
    for s, h, b in zip(slots, held, before, strict=True):
        np.testing.assert_array_equal(h, b)  # what was handed out is unchanged
        assert not np.array_equal(s.numpy(), b)  # and the variable moved on
        assert not s._value.flags.writeable  # stored values stay read-only


def test_adam_updates_unshared_arrays_in_place_and_a_tape_keeps_its_reads():
    layer = layers.Dense(3, dtype="float64")
    x = np.random.default_rng(0).standard_normal((5, 4))
    layer(x)
    opt = optimizers.Adam(0.1)
    with reference.GradientTape(persistent=True) as tape:
        y = layer(x)
    grads = tape.gradient(y, layer.trainable_weights)
    opt.apply_gradients(zip(grads, layer.trainable_weights, strict=True))  # builds the slots
    # The persistent tape still holds the kernel it read: that array is never written.
    again = tape.gradient(y, layer.trainable_weights)
    for g0, g1 in zip(grads, again, strict=True):
        np.testing.assert_array_equal(g0, g1)
    del tape, y
    refs = [weakref.ref(v._value) for v in (*layer.trainable_weights, *opt.variables[2:])]
    opt.apply_gradients(zip(grads, layer.trainable_weights, strict=True))
    stored = [v._value for v in (*layer.trainable_weights, *opt.variables[2:])]
    assert all(r() is s for r, s in zip(refs, stored, strict=True))  # no copy, no new array


def _recording(cls):
    """`cls` with a backward pass that records what it was asked for and whether dx was None."""

    def vjp_bwd(self, residuals, output_grad, needs_input_grads=(True,)):
        self.asked = needs_input_grads
        dx, dw = cls.vjp_bwd(self, residuals, output_grad, needs_input_grads)
        self.dx_was_none = dx is None
        return dx, dw

    return type(f"Recording{cls.__name__}", (cls,), {"vjp_bwd": vjp_bwd})


SKIPPING = {  # layer, its arguments, an input shape
    "Dense": (layers.Dense, dict(units=5, activation="relu"), (6, 4)),
    "Conv2D": (layers.Conv2D, dict(filters=3, kernel_size=3, padding="same"), (2, 6, 5, 2)),
    "Conv1DTranspose": (layers.Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2),
                        (2, 5, 2)),
    "SeparableConv2D": (layers.SeparableConv2D, dict(filters=3, kernel_size=2), (2, 5, 5, 2)),
    "DepthwiseConv1D": (layers.DepthwiseConv1D, dict(kernel_size=3, activation="tanh"),
                        (2, 7, 3)),
}  # fmt: skip


@pytest.mark.parametrize("watch_input", [False, True], ids=["plain input", "watched input"])
@pytest.mark.parametrize("name", list(SKIPPING))
def test_layers_skip_dx_only_when_no_source_reaches_their_input(name, watch_input):
    cls, kwargs, shape = SKIPPING[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    first, second = _recording(cls)(**kwargs, dtype="float64"), layers.Dense(2, dtype="float64")
    second(first(x))
    with reference.GradientTape() as tape:
        xt = tape.watch(x) if watch_input else x
        y = second(first(xt))
    sources = [xt, *first.trainable_weights] if watch_input else first.trainable_weights
    grads = tape.gradient(y, sources)
    assert first.asked == (watch_input,)
    assert first.dx_was_none is (not watch_input)
    # The weight gradients are the traced call's, with or without the skipped work.
    with reference.GradientTape(use_layer_vjps=False) as tape:
        xt = tape.watch(x) if watch_input else x
        y = second(first(xt))
    sources = [xt, *first.trainable_weights] if watch_input else first.trainable_weights
    for got, want in zip(grads, tape.gradient(y, sources), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
