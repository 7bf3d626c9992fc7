"""The tape's one rule: a gradient is exact, or an error that says why -- never a silent None,
zero, stale or partial value. Each case was a silent wrong result once (issue 6); expected
values are the analytic derivatives (TF 2.21 gives the same). NumPy only."""

import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import reference
from reference import GradientTape, Variable, layers
from reference.layers.fused import has_fused_vjp

X = np.array([1.0, 2.0])
RNG = np.random.default_rng(0)
XB = RNG.standard_normal((4, 3))


# -- 1. a layer VJP stands in for exactly the call it was written for ---------------------------
class Scaled(layers.Dense):
    def call(self, inputs, training=None):
        return 2 * super().call(inputs)


class Squared(layers.BatchNormalization):
    def call(self, inputs, training=None):
        return super().call(inputs, training) ** 2


def _grads(layer, x, training=None, use_layer_vjps=True):
    with GradientTape(use_layer_vjps=use_layer_vjps) as tape:
        tx = tape.watch(x)
        y = layer(tx, training=training)
    return tape.gradient(
        y, [x, *layer.trainable_weights], np.cos(np.arange(y.size)).reshape(y.shape)
    )


@pytest.mark.parametrize(
    "make, training",
    [
        (lambda: Scaled(3, "tanh", dtype="float64"), None),
        (lambda: Squared(dtype="float64"), True),
    ],  # fmt: skip
)
def test_a_subclass_that_overrides_call_is_traced_not_given_its_parents_vjp(make, training):
    layer = make()
    layer(XB)
    assert not has_fused_vjp(type(layer))
    state = layer.get_weights()
    got = _grads(layer, XB, training)
    layer.set_weights(state)
    # the same computation written out, with the parent's call traced
    parent = type(layer).__mro__[1]
    ref_layer = make()
    ref_layer(XB)
    ref_layer.set_weights(state)
    with GradientTape(use_layer_vjps=False) as tape:
        tx = tape.watch(XB)
        y = ref_layer(tx, training=training)
    want = tape.gradient(y, [XB, *ref_layer.trainable_weights],
                         np.cos(np.arange(y.size)).reshape(y.shape))  # fmt: skip
    assert parent in (layers.Dense, layers.BatchNormalization)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_an_activation_that_reads_a_variable_gets_its_gradient():
    temp = Variable(np.array(0.7), name="temp")
    dense = layers.Dense(2, activation=lambda z: np.tanh(z * temp), dtype="float64")
    dense(XB)
    with GradientTape() as tape:
        y = np.sum(dense(XB))
    g = tape.gradient(y, temp)
    z = XB @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(g, np.sum(z * (1 - np.tanh(0.7 * z) ** 2)), rtol=1e-12)


# -- 3. conversions inside a recording tape stay differentiable or raise ------------------------
CONVERSIONS = {
    "np.array of a list": lambda t: np.array([t, t]),
    "np.r_": lambda t: np.r_[t, t],
    "np.mean of a list": lambda t: np.mean([t, t]),
    "np.asarray": np.asarray,
    "np.ascontiguousarray": np.ascontiguousarray,
    "np.require": np.require,
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions_of_recorded_values_raise_naming_the_fix(name):
    with GradientTape() as tape:
        tx = tape.watch(X)
        with pytest.raises(TypeError, match=r"np\.stack.*\.numpy\(\)"):
            CONVERSIONS[name](tx)
    assert not isinstance(CONVERSIONS[name](tx), reference.TrackedArray)  # after the tape: plain


def test_scipy_functions_that_convert_raise_instead_of_losing_the_gradient():
    sp = pytest.importorskip("scipy.special")
    with GradientTape() as tape:
        tx = tape.watch(X)
        for fn in (sp.logsumexp, sp.softmax, sp.log_softmax):
            with pytest.raises(TypeError, match="drop its gradient"):
                fn(tx)


def test_variable_value_read_inside_a_tape_is_differentiable():
    v = Variable(np.array([1.0, -2.0]), name="v")
    with GradientTape() as tape:
        y = np.sum(v.value * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, v), [3.0, 3.0])


# -- 5. higher order -----------------------------------------------------------------------------
def test_a_gradient_taken_inside_a_persistent_tape_is_recorded_on_it():
    with GradientTape(persistent=True) as tape:
        tx = tape.watch(X)
        g = tape.gradient(np.sum(tx**2), tx)  # 2x, recorded
        z = np.sum(g * tx)  # 2x^2
    np.testing.assert_array_equal(tape.gradient(z, X), 4 * X)


def test_nested_tapes_give_second_derivatives():
    with GradientTape() as outer:
        ox = outer.watch(X)
        with GradientTape() as inner:
            ix = inner.watch(ox)
            y = np.sum(ix**3)
        g = inner.gradient(y, ix)  # 3x^2
    np.testing.assert_array_equal(outer.gradient(g, X), 6 * X)


@pytest.mark.parametrize(
    "make, training",
    [
        (lambda: layers.Dense(3, "tanh", dtype="float64"), None),
        (lambda: layers.Dense(3, "relu", dtype="float64"), None),
        (lambda: layers.BatchNormalization(dtype="float64"), True),
        (lambda: layers.BatchNormalization(dtype="float64"), False),
    ],  # fmt: skip
)
def test_second_order_through_hand_written_layer_vjps_matches_the_traced_path(make, training):
    layer = make()
    layer(XB)
    state = layer.get_weights()

    def hessian_vector(use):
        layer.set_weights(state)
        with GradientTape(use_layer_vjps=use) as outer:
            ox = outer.watch(XB)
            with GradientTape(use_layer_vjps=use) as inner:
                ix = inner.watch(ox)
                y = np.sum(np.sin(layer(ix, training=training)))
            gx, *gw = inner.gradient(y, [ix, *layer.trainable_weights])
            s = np.sum(gx * gx) + sum(np.sum(g * g) for g in gw)
        return outer.gradient(s, [XB, *layer.trainable_weights])

    for a, b in zip(hessian_vector(True), hessian_vector(False), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_jacobian_and_batch_jacobian_have_tfs_shapes_and_values():
    with GradientTape(persistent=True) as tape:
        tx = tape.watch(XB)
        y = np.tanh(tx) * 2.0
        outer = tx[:, :, None] * tx[:, None, :]
    jac = tape.jacobian(y, XB, experimental_use_pfor=False)
    assert jac.shape == XB.shape + XB.shape
    np.testing.assert_allclose(np.einsum("ijij->ij", jac), 2 * (1 - np.tanh(XB) ** 2))
    assert np.count_nonzero(jac) == XB.size  # elementwise: diagonal only
    bj = tape.batch_jacobian(outer, XB)
    assert bj.shape == (4, 3, 3, 3)
    b, i, j, k = 1, 0, 2, 2  # d(x_i x_j)/dx_k = x_i [j==k] + x_j [i==k]
    assert bj[b, i, j, k] == XB[b, i]


# -- 6, 7, 8, 9: leaves, integer sources, watch, output_gradients --------------------------------
@pytest.mark.parametrize("value", [np.array(2.0), np.array([2.0, 3.0])])
def test_a_variable_reassigned_to_the_same_value_keeps_both_reads(value):
    v = Variable(value, name="v")
    with GradientTape() as tape:
        y = v * v  # 2v
        v.assign(value.copy())
        y = y + 5.0 * v  # + 5, through the second read
    np.testing.assert_array_equal(tape.gradient(y, v), 2 * value + 5.0)


def test_integer_sources_get_none_as_in_tf():
    xi = np.array([1, 2, 3])
    vi = Variable(np.array([1, 2]), name="vi", dtype="int32")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with GradientTape() as tape:
            y = tape.watch(xi) * 2.0 + np.sum(vi * 1.5)
    assert tape.gradient(y, [xi, vi]) == [None, None]


def test_a_watched_array_used_directly_warns_and_names_the_fix():
    with GradientTape() as tape:
        tape.watch(X)
        y = np.sin(X)
    with pytest.warns(UserWarning, match=r"x = tape.watch\(x\)"):
        assert tape.gradient(y, X) is None


@pytest.mark.parametrize(
    "output_gradients, match",
    [
        ([None], "contains None"),
        ([np.ones(1)], "must match"),
        ([np.ones(2), np.ones(2)], "entries"),
    ],
)
def test_bad_output_gradients_are_errors(output_gradients, match):
    with GradientTape() as tape:
        y = tape.watch(X) * 2
    with pytest.raises(ValueError, match=match):
        tape.gradient([y], [X], output_gradients=output_gradients)
    # a refused call changes nothing: the non-persistent tape still gives its one gradient
    np.testing.assert_array_equal(tape.gradient(y, X), [2.0, 2.0])


# -- 10, 11, 12, 13: saved inputs, no caches, weight paths, threads ------------------------------
def _read_only_view(a):
    view = a[:]
    view.flags.writeable = False
    return view


@pytest.mark.parametrize("use_layer_vjps", [True, False])
@pytest.mark.parametrize("passed", [lambda a: a, _read_only_view], ids=["array", "read_only_view"])
def test_mutating_an_input_after_the_forward_pass_changes_no_gradient(use_layer_vjps, passed):
    # A read-only view of a writable array still changes when its base does: it is copied too.
    x = np.ones((2, 2))
    dense = layers.Dense(2, dtype="float64")
    dense(x)
    with GradientTape(use_layer_vjps=use_layer_vjps) as tape:
        y = dense(passed(x))
    x *= 100
    np.testing.assert_array_equal(tape.gradient(y, dense.kernel), np.full((2, 2), 2.0))


@pytest.mark.parametrize("use_layer_vjps", [True, False])
def test_a_persistent_tape_computes_each_gradient_afresh(use_layer_vjps):
    dense = layers.Dense(2, "tanh", dtype="float64")
    with GradientTape(persistent=True, use_layer_vjps=use_layer_vjps) as tape:
        y = dense(XB[:, :2])
    dy = np.random.default_rng(3).standard_normal(y.shape)
    first = tape.gradient(y, dense.kernel, dy)
    # x4 is exact in binary floating point and the backward pass is linear in dy, so a fresh
    # computation gives exactly 4x (a cached one would give 1x); x5 would round differently.
    np.testing.assert_array_equal(tape.gradient(y, dense.kernel, 4 * dy), 4 * first)


class TwoDense(reference.Layer):
    def __init__(self):
        super().__init__(dtype="float64")
        self.a = layers.Dense(3, "tanh", dtype="float64")
        self.b = layers.Dense(3, dtype="float64")

    def call(self, x):
        return self.a(x) * self.b(x)


def test_sub_layers_with_the_same_weight_names_get_their_own_gradients():
    layer = TwoDense()
    layer(XB)
    got = _grads(layer, XB)
    want = _grads(layer, XB, use_layer_vjps=False)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert not np.allclose(got[1], got[3])  # a.kernel and b.kernel differ


class BadVJP(layers.Dense):
    call = layers.Dense.call
    vjp_fwd = layers.Dense.vjp_fwd
    mutation = None

    def vjp_bwd(self, residuals, output_grad):
        dx, grads = super().vjp_bwd(residuals, output_grad)
        return dx, type(self).mutation(grads)


@pytest.mark.parametrize(
    "mutation, match",
    [
        (lambda g: {**g, "bias": np.sum(g["bias"])}, "shape"),
        (lambda g: {**g, "kernal": g.pop("kernel")}, "unknown: \\['kernal'\\]"),
        (lambda g: {"kernel": g["kernel"]}, "Missing: \\['bias'\\]"),
    ],  # fmt: skip
)
def test_a_layer_vjp_with_the_wrong_structure_is_refused(mutation, match):
    BadVJP.mutation = staticmethod(mutation)
    layer = BadVJP(3, dtype="float64")
    with GradientTape() as tape:
        y = layer(XB)
    with pytest.raises(ValueError, match=match):
        tape.gradient(y, layer.trainable_weights, np.ones(y.shape))


def test_backward_passes_never_write_variables_while_other_threads_assign():
    dense = layers.Dense(8, "tanh", dtype="float64")
    x = RNG.standard_normal((16, 8))
    dense(x)
    counter = Variable(np.array(0.0), name="counter")
    stop = threading.Event()

    def train():
        while not stop.is_set():
            with GradientTape() as tape:
                y = dense(x)
            tape.gradient(y, dense.trainable_weights, np.ones(y.shape))

    def count():
        for _ in range(20000):
            counter.assign(counter.numpy() + 1.0)
            dense.bias.assign(np.zeros(8))

    worker = threading.Thread(target=train)
    worker.start()
    count()
    stop.set()
    worker.join()
    assert counter.numpy() == 20000.0


# -- crashes and unclear errors -----------------------------------------------------------------
def test_zero_d_and_empty_watches_and_truth_values():
    with GradientTape() as tape:
        s = tape.watch(np.array(2.0))
        e = tape.watch(np.zeros((0, 3)))
        assert bool(s) and isinstance(e, reference.TrackedArray)
        y = s * s + np.sum(e)
    ds, de = tape.gradient(y, [s, e])
    assert ds == 4.0 and de.shape == (0, 3)


def test_in_place_updates_of_variables_name_assign():
    k = Variable(np.ones(2), name="k")
    with pytest.raises(TypeError, match="assign_sub"):
        k -= 0.1
    with pytest.raises(TypeError, match="assign"):
        np.add.at(k, [0], 1.0)
    k.assign_sub(np.full(2, 0.5))
    np.testing.assert_array_equal(k.numpy(), [0.5, 0.5])


def test_tf_spellings_of_unconnected_gradients_and_gradient_of_a_variable_by_itself():
    class Zero:  # tf.UnconnectedGradients.ZERO has .value == "zero"
        value = "zero"

    k = Variable(np.ones(2), name="k")
    q = Variable(np.ones(3), name="q")
    with GradientTape() as tape:
        y = np.sum(k * 2)
    assert np.array_equal(tape.gradient(y, q, unconnected_gradients=Zero()), np.zeros(3))
    with GradientTape() as tape:
        pass
    np.testing.assert_array_equal(tape.gradient(k, k), [1.0, 1.0])
    with GradientTape() as tape, pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, q, unconnected_gradients="zeros")


def test_stop_recording_on_the_inner_tape_does_not_record_there():
    k = Variable(np.ones(2), name="k")
    with GradientTape() as outer:
        with GradientTape() as inner:
            with inner.stop_recording():
                y = np.sum(k * 3)
    assert inner.gradient(y, k) is None
    np.testing.assert_array_equal(outer.gradient(y, k), [3.0, 3.0])


def test_add_weight_refuses_non_integer_shapes_and_layers_refuse_object_inputs():
    layer = reference.Layer()
    with pytest.raises(ValueError, match="invalid dimension '2.5'"):
        layer.add_weight(shape=(2.5, 3))
    with pytest.raises(ValueError, match="dtype object"):
        layers.Dense(2)(np.array([[1, 2]], dtype=object))


def test_complex_values_are_refused_clearly():
    with GradientTape() as tape, pytest.raises(TypeError, match="complex"):
        tape.watch(np.array([1 + 2j]))


# -- memory: the tape owns its graph -------------------------------------------------------------
def test_values_kept_after_the_tape_pin_no_graph():
    dense = layers.Dense(256, "tanh", dtype="float64")
    x = RNG.standard_normal((64, 256))
    dense(x)
    losses = []
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            with GradientTape() as tape:
                loss = np.mean(dense(x) ** 2)
            tape.gradient(loss, dense.trainable_weights)
            losses.append(loss)  # as a training loop keeps its loss values
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    # one step's graph holds ~400 kB (inputs, pre-activations, outputs): 50 pinned would be 20 MB
    assert grown < 1_000_000, grown


def test_expm1_gradient_keeps_exp_digits_where_the_value_is_near_minus_one():
    x = np.array([-20.0, -8.0], np.float32)  # expm1(x) + 1 rounds to 0 and to 3.35e-4 here
    with GradientTape() as tape:
        y = np.expm1(tape.watch(x))
    np.testing.assert_allclose(tape.gradient(y, x), np.exp(x.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize(
    "method, args",
    [("prod", ()), ("sum", (0,)), ("mean", ()), ("max", (1,)), ("cumsum", (1,)),
     ("round", ()), ("astype", (np.float32,)), ("argmax", ()), ("item", (0,)), ("tolist", ())],
)  # fmt: skip
def test_tracked_values_have_the_ndarray_methods_a_port_uses(method, args):
    x = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
    want = getattr(x, method)(*args)
    with GradientTape() as tape:
        got = getattr(tape.watch(x), method)(*args)
    plain = got.numpy() if isinstance(got, reference.TrackedArray) else got
    np.testing.assert_array_equal(plain, want)
    if isinstance(got, reference.TrackedArray) and method != "round":  # recorded: a gradient
        assert tape.gradient(got, x) is not None


class NoneDxVJP(layers.Dense):
    call = layers.Dense.call
    vjp_fwd = layers.Dense.vjp_fwd

    def vjp_bwd(self, residuals, output_grad):
        _, grads = super().vjp_bwd(residuals, output_grad)
        return None, grads  # a hand-written VJP that forgot its input gradient


def test_a_layer_vjp_that_drops_a_needed_input_gradient_is_refused():
    layer = NoneDxVJP(3, dtype="float64")
    with GradientTape() as tape:
        x = tape.watch(XB)
        y = layer(x)
    with pytest.raises(ValueError, match="returned None for float input 0"):
        tape.gradient(y, x, np.ones(y.shape))
    # where the input's gradient is not asked for, None is fine (the weights still get theirs)
    with GradientTape() as tape:
        y = layer(XB)
    assert tape.gradient(y, layer.kernel, np.ones(y.shape)) is not None
