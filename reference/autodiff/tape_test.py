"""GradientTape semantics, as tf.GradientTape has them (NumPy only)."""

import numpy as np
import pytest

import reference
from reference import GradientTape, TrackedArray, Variable
from reference.autodiff import MissingVJPError


class Scale(reference.Layer):
    """y = x * w + c * b: one trainable, one non-trainable weight."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=input_shape[-1:], initializer="ones", name="w")
        self.b = self.add_weight(shape=(), initializer="ones", trainable=False, name="b")

    def call(self, x):
        return x * self.w + 2.0 * self.b


X = np.arange(6.0).reshape(2, 3)


def test_outside_a_tape_values_are_plain_arrays():
    layer = Scale(dtype="float64")
    y = layer(X)
    assert type(y) is np.ndarray


def test_trainable_variables_are_watched_and_watched_inputs_differentiated():
    layer = Scale(dtype="float64")
    dy = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    with GradientTape() as tape:
        tape.watch(X)
        y = layer(X)
    assert isinstance(y, TrackedArray)
    dx, dw, db = tape.gradient(y, [X, layer.w, layer.b], output_gradients=dy)
    np.testing.assert_array_equal(dx, dy * 1.0)
    np.testing.assert_array_equal(dw, np.sum(dy * X, axis=0))
    assert db is None  # non-trainable and not watched: TF returns None too


def test_structures_and_unconnected_sources():
    layer = Scale(dtype="float64")
    other = Variable(np.ones(2), name="other")
    with GradientTape() as tape:
        y = np.sum(layer(X))
    grads = tape.gradient(y, {"w": layer.w, "pair": (other, layer.w)})
    assert set(grads) == {"w", "pair"} and grads["pair"][0] is None
    np.testing.assert_array_equal(grads["w"], grads["pair"][1])
    with GradientTape() as tape:
        y = np.sum(layer(X))
    (zero,) = tape.gradient(y, [other], unconnected_gradients="zero")
    np.testing.assert_array_equal(zero, np.zeros(2))


def test_explicit_watch_of_a_non_trainable_variable_and_watch_accessed_false():
    layer = Scale(dtype="float64")
    layer(X)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(layer.b)
        y = layer(X)
    dw, db = tape.gradient(y, [layer.w, layer.b])
    assert dw is None
    assert db == pytest.approx(2.0 * X.size)
    assert tape.watched_variables() == [layer.b]


def test_non_persistent_tape_refuses_a_second_gradient_and_persistent_allows_it():
    v = Variable(np.array([1.0, 2.0]), name="v")
    with GradientTape() as tape:
        y = np.sum(v * v)
    tape.gradient(y, v)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, v)
    with GradientTape(persistent=True) as tape:
        y = np.sum(v * v)
    np.testing.assert_array_equal(tape.gradient(y, v), tape.gradient(y, v))


def test_default_seed_sums_the_target_and_output_gradients_weight_it():
    v = Variable(np.array([1.0, 2.0, 3.0]), name="v")
    with GradientTape(persistent=True) as tape:
        y = v * v
    np.testing.assert_array_equal(tape.gradient(y, v), 2 * v.numpy())
    np.testing.assert_array_equal(tape.gradient(y, v, np.array([1.0, 0.0, -1.0])), [2, 0, -6])


def test_reads_after_assign_are_new_leaves_whose_gradients_add_up():
    v = Variable(np.array(2.0), name="v")
    with GradientTape() as tape:
        a = v * 3.0
        v.assign(5.0)
        b = v * v
        y = a + b
    assert tape.gradient(y, v) == pytest.approx(3.0 + 10.0)


def test_stop_recording_and_values_used_after_the_tape_exits():
    v = Variable(np.array([1.0, 2.0]), name="v")
    with GradientTape() as tape:
        y = v * 2.0
        with tape.stop_recording():
            z = v * 5.0
    assert type(z) is np.ndarray
    after = y * 3.0  # TF does not record outside the tape either
    assert type(after) is np.ndarray
    np.testing.assert_array_equal(tape.gradient(y, v), [2.0, 2.0])


def test_nested_tapes_both_see_the_same_computation():
    v = Variable(np.array([1.0, -1.0]), name="v")
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = np.sum(np.square(v))
        # computed while `outer` records: a tracked value (higher order), read with .numpy()
        np.testing.assert_array_equal(inner.gradient(y, v).numpy(), [2.0, -2.0])
    np.testing.assert_array_equal(outer.gradient(y, v), [2.0, -2.0])


def test_watch_returns_tracked_values_for_free_numpy_code():
    x = np.array([0.5, -1.0])
    with GradientTape() as tape:
        tx = tape.watch(x)
        y = np.sum(np.tanh(tx) * 3.0)
    np.testing.assert_allclose(tape.gradient(y, x), 3.0 * (1 - np.tanh(x) ** 2))


def test_conversions_leave_the_tape_like_tensor_numpy():
    with GradientTape() as tape:
        tx = tape.watch(np.array([1.0, 2.0]))
        y = tx * 2.0
    assert type(np.asarray(y)) is np.ndarray and type(y.numpy()) is np.ndarray
    np.testing.assert_array_equal(np.asarray(y), [2.0, 4.0])
    assert float(np.sum(y)) == 6.0


def test_missing_rule_raises_naming_the_function_instead_of_a_silent_zero():
    with GradientTape() as tape:
        tx = tape.watch(np.array([1.0, 2.0]))
        with pytest.raises(MissingVJPError, match=r"numpy\.i0 has no VJP rule.*defvjp"):
            np.i0(tx)
        with pytest.raises(MissingVJPError, match="accumulate"):
            np.add.accumulate(tx)


def test_in_place_writes_to_tracked_values_are_refused():
    with GradientTape() as tape:
        tx = tape.watch(np.array([1.0, 2.0]))
        with pytest.raises(TypeError, match="immutable"):
            tx[0] = 3.0
        with pytest.raises(TypeError, match="in place"):
            np.exp(tx, out=np.empty(2))


def test_integer_results_are_not_tracked_and_carry_no_gradient():
    with GradientTape() as tape:
        tx = tape.watch(np.array([1.5, -2.0]))
        idx = np.argmax(tx)
        mask = tx > 0
    assert type(idx) is not TrackedArray and type(mask) is np.ndarray
    assert tape.gradient(mask.astype(float), tx) is None


def test_variables_are_read_only_and_assign_checks_the_shape():
    v = Variable(np.zeros((2, 3)), name="k")
    with pytest.raises(ValueError, match="read-only"):
        v.value[0, 0] = 1.0
    with pytest.raises(
        ValueError, match=r"variable.shape=\(2, 3\), Received: value.shape=\(3, 2\)"
    ):
        v.assign(np.zeros((3, 2)))
    np.testing.assert_array_equal(v.numpy(), np.zeros((2, 3)))


def test_gradients_are_writable_arrays_of_their_own():
    v = Variable(np.ones((2, 3)), name="v")
    with GradientTape() as tape:
        y = np.sum(v)  # its rule returns a broadcast view
    g = tape.gradient(y, v)
    assert g.flags.writeable and 0 not in g.strides  # not a read-only broadcast view
    g[0, 0] = 5.0
    np.testing.assert_array_equal(g, [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]])


def test_a_layer_vjp_sees_the_weights_of_the_forward_pass():
    dense = reference.layers.Dense(2, kernel_initializer="ones", dtype="float64")
    x = np.array([[1.0, 2.0]])
    with GradientTape() as tape:
        tx = tape.watch(x)
        y = dense(tx)
        dense.kernel.assign(np.full((2, 2), 7.0))  # an update between forward and backward
    (dx,) = tape.gradient(y, [x])
    np.testing.assert_array_equal(dx, [[2.0, 2.0]])  # d(sum(x @ ones)) / dx, not 14
    np.testing.assert_array_equal(dense.kernel.numpy(), np.full((2, 2), 7.0))


def test_tracked_keyword_arguments_are_refused_and_plain_in_place_code_still_runs():
    with GradientTape() as tape:
        tx = tape.watch(np.array([1.0, 5.0]))
        with pytest.raises(TypeError, match="positionally"):
            np.clip(np.array([0.0, 9.0]), a_min=tx, a_max=10.0)
        out = np.empty(2)
        np.exp(np.zeros(2), out=out)  # untracked arrays: ordinary NumPy
    np.testing.assert_array_equal(out, [1.0, 1.0])
