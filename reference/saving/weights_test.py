"""NumPy-only tests of reference.saving's `.weights.h5` files: round trips, the numeric order of
datasets, and untrusted or mismatched files (each case mutates a real file that the reference
wrote, then checks the error names what differs and that no weight changed)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import reference
from reference import layers as rl
from reference.saving import weights as saving_weights

h5py = pytest.importorskip("h5py")


def _model(seed=0, units=2):
    model = reference.Sequential(
        [reference.Input((3,)), rl.Dense(4), rl.BatchNormalization(), rl.Dense(units)]
    )
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.weights])
    return model


@pytest.fixture
def saved(tmp_path):
    """A file written from model seed 0, and a target model (seed 1) with other weights."""
    path = tmp_path / "m.weights.h5"
    _model(0).save_weights(path)
    return path, _model(1)


def test_round_trip_and_names(tmp_path):
    path = tmp_path / "m.weights.h5"
    source, target = _model(0), _model(1)
    source.save_weights(path)
    target.load_weights(path)  # other layer names: matched by structure
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with h5py.File(path, "r") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "dense", "dense_1"]
        assert f["layers/dense_1/vars"].attrs["name"] == source.layers[2].name
        assert f["vars"].attrs["name"] == source.name and len(f["vars"]) == 0


def test_round_trip_float64_and_numeric_order(tmp_path):
    class Many(reference.Layer):
        def build(self, input_shape):
            self.ws = [self.add_weight(shape=(i + 1,), name=f"w{i}", dtype="float64")
                       for i in range(12)]  # fmt: skip

    source, target = Many(), Many()
    source.build((1,))
    target.build((1,))
    rng = np.random.default_rng(0)
    source.set_weights([rng.standard_normal(w.shape) for w in source.weights])
    source.save_weights(tmp_path / "l.weights.h5")
    target.load_weights(tmp_path / "l.weights.h5")
    for a, b in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float64


def _replace(name, value):
    def mutate(f):
        del f[name]
        f[name] = value

    return mutate


def _delete(name):
    def mutate(f):
        del f[name]

    return mutate


def _add(name, value):
    def mutate(f):
        f[name] = value

    return mutate


def _group(name):
    def mutate(f):
        del f[name]
        f.create_group(name)

    return mutate


def _soft_link(f):
    del f["layers/dense/vars/1"]
    f["layers/dense/vars/1"] = h5py.SoftLink("/layers/batch_normalization/vars/0")


def _external_link(f):
    other = os.path.join(os.path.dirname(f.filename), "other.h5")
    with h5py.File(other, "w") as g:
        g["x"] = np.zeros(4, "float32")
    del f["layers/dense/vars/1"]
    f["layers/dense/vars/1"] = h5py.ExternalLink(other, "/x")


def _virtual(f):
    other = os.path.join(os.path.dirname(f.filename), "other.h5")
    with h5py.File(other, "w") as g:
        g["x"] = np.zeros(4, "float32")
    layout = h5py.VirtualLayout(shape=(4,), dtype="float32")
    layout[:] = h5py.VirtualSource(other, "x", shape=(4,))
    del f["layers/dense/vars/1"]
    f.create_virtual_dataset("layers/dense/vars/1", layout)


MISMATCH_CASES = {
    "wrong shape": (_replace("layers/dense/vars/0", np.zeros((2, 4), "float32")),
                    r"layers/dense/vars/0 \(variable .*kernel.*shape mismatch.*\(2, 4\).*\(3, 4\)"),
    "missing variable": (_delete("layers/dense_1/vars/1"),
                         r"'layers/dense_1/vars'.*expected 2 variables, but received 1"),
    "extra variable": (_add("layers/dense/vars/2", np.zeros(4, "float32")),
                       r"expected datasets named 0..2|expected 2 variables, but received 3"),
    "missing layer": (_delete("layers/dense_1"), r"'layers/dense_1/vars'.* missing from the file"),
    "extra layer": (_add("layers/dense_2/vars/0", np.zeros(2, "float32")),
                    r"'layers/dense_2/vars' holds weights that no layer"),
    "string dtype": (_replace("layers/dense/vars/1", np.array([b"a", b"b", b"c", b"d"])),
                     r"dense/vars/1 .*dtype mismatch.*\|S1"),
    "float into int": (_replace("layers/dense/vars/1", np.zeros(4, "complex64")),
                       r"dtype mismatch.*complex64"),
    "not numbered": (_add("layers/dense/vars/bias", np.zeros(4, "float32")),
                     r"expected datasets named 0..2, found \['0', '1', 'bias'\]"),
    "dataset for a group": (_replace("layers/dense/vars", np.zeros(3, "float32")),
                            r"layers/dense/vars: expected a group of datasets"),
    "null dataset": (_replace("layers/dense/vars/1", h5py.Empty("f")),
                     r"dense/vars/1 .*empty \(a null dataspace\)"),
    "group for a dataset": (_group("layers/dense/vars/1"),
                            r"layers/dense/vars/1: expected a dataset, found a group"),
    "soft link": (_soft_link, r"refusing SoftLink '/layers/dense/vars/1'"),
    "external link": (_external_link, r"refusing ExternalLink '/layers/dense/vars/1'"),
    "virtual dataset": (_virtual, r"refusing dataset '/layers/dense/vars/1'.*virtual"),
}  # fmt: skip


@pytest.mark.parametrize("mutate, message", MISMATCH_CASES.values(), ids=MISMATCH_CASES.keys())
def test_mismatched_file_raises_and_changes_nothing(saved, mutate, message):
    path, target = saved
    with h5py.File(path, "a") as f:
        mutate(f)
    before = target.get_weights()
    with pytest.raises(ValueError, match=message) as info:
        target.load_weights(path)
    assert str(path) in str(info.value)
    for a, b in zip(target.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_loads_the_rest(saved):
    path, target = saved
    with h5py.File(path, "a") as f:
        _replace("layers/dense_1/vars/0", np.zeros((4, 3), "float32"))(f)
    before = target.get_weights()
    with pytest.warns(UserWarning, match="Skipped loading: .*layers/dense_1/vars/0"):
        target.load_weights(path, skip_mismatch=True)
    after, source = target.get_weights(), _model(0).get_weights()
    for i in range(6):  # dense and batch_normalization loaded
        np.testing.assert_array_equal(after[i], source[i])
    for i in (6, 7):  # dense_1 untouched
        np.testing.assert_array_equal(after[i], before[i])


def test_unbuilt_optimizer_is_skipped_with_keras_warning(tmp_path):
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    source, target = _model(0), _model(1)
    for m in (source, target):
        m.compile(optimizer=reference.optimizers.Adam(), loss="mse")
    source.train_on_batch(x, y)
    source.save_weights(tmp_path / "m.weights.h5")
    expected = "Skipping variable loading for optimizer 'adam.*has 2 variables whereas the saved"
    with pytest.warns(UserWarning, match=expected + " optimizer has 14"):
        target.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(target.layers[0].kernel.numpy(), source.layers[0].kernel.numpy())
    assert target.optimizer.iterations == 0


BAD_CALLS = {
    "suffix on save": (lambda m, d: m.save_weights(d / "m.h5"), ValueError,
                       r"save_weights: the filename must end in `.weights.h5`"),
    "suffix on load": (lambda m, d: m.load_weights(d / "m.keras"), ValueError,
                       r"load_weights: the filename must end in `.weights.h5`"),
    "no file": (lambda m, d: m.load_weights(d / "none.weights.h5"), FileNotFoundError,
                r"no such file: .*none.weights.h5"),
    "not hdf5": (lambda m, d: ((d / "t.weights.h5").write_bytes(b"PK\x03\x04" * 64),
                               m.load_weights(d / "t.weights.h5")),
                 ValueError, r"not a readable HDF5 file"),
    "unbuilt": (lambda m, d: rl.Dense(2).load_weights(d / "m.weights.h5"), ValueError,
                r"Layer 'dense.*' is not built.*Try building the model first"),
    "no overwrite": (lambda m, d: m.save_weights(d / "m.weights.h5", overwrite=False),
                     FileExistsError, r"exists and overwrite=False"),
}  # fmt: skip


@pytest.mark.parametrize("call, error, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_calls(saved, call, error, message):
    path, target = saved
    with pytest.raises(error, match=message):
        call(target, path.parent)


def test_truncated_file_raises_and_changes_nothing(saved):
    path, target = saved
    data = path.read_bytes()
    before = target.get_weights()
    for cut in (len(data) // 4, len(data) // 2, len(data) - 64):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=str(path)):
            target.load_weights(path)
        for a, b in zip(target.get_weights(), before, strict=True):
            np.testing.assert_array_equal(a, b)


def test_failed_save_leaves_the_old_file(saved, monkeypatch):
    path, target = saved
    good = path.read_bytes()
    kernel = target.layers[2].kernel

    def fail():
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(kernel, "numpy", fail)
    with pytest.raises(RuntimeError, match="simulated"):
        target.save_weights(path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_killed_save_leaves_the_previous_file(tmp_path):
    """A process is killed (SIGKILL) in the middle of a save, after the first layer's datasets
    were written: the file at the target path is still the whole previous save, and the
    half-written temporary file beside it proves the kill landed mid-save."""
    path = tmp_path / "m.weights.h5"
    script = textwrap.dedent(f"""
        import time, numpy as np, reference
        from reference import layers as rl
        m = reference.Sequential([reference.Input((3,)), rl.Dense(4), rl.Dense(2)])
        m.set_weights([np.full(w.shape, 1.5, w.dtype) for w in m.weights])
        m.save_weights({str(path)!r})
        m.set_weights([np.full(w.shape, 2.5, w.dtype) for w in m.weights])

        def stall():  # the second layer's kernel: reached after the first layer was written
            print("mid-save", flush=True)
            time.sleep(60)

        m.layers[1].kernel.numpy = stall
        m.save_weights({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "mid-save"
    finally:
        proc.kill()
        proc.wait()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp")
    target = reference.Sequential([reference.Input((3,)), rl.Dense(4), rl.Dense(2)])
    target.load_weights(path)
    assert all((w == 1.5).all() for w in target.get_weights())


def test_h5py_missing_says_how_to_install(saved, monkeypatch):
    path, target = saved
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install h5py"):
        target.load_weights(path)


def test_walk_paths_follow_keras_rules():
    class Block(reference.Layer):
        def __init__(self):
            super().__init__()
            self.proj = rl.Dense(2)
            self.blocks = [rl.Dense(2), [rl.Dense(2)], {"k": rl.Dense(2)}]
            self._private = rl.Dense(2)
            self.again = self.proj  # saved once, at its first path

    paths = [p for p, _ in saving_weights.walk(Block())]
    # `again` sorts first, so the shared Dense is saved there (and not again under `proj`).
    assert paths == ["", "again", "blocks/dense", "blocks/container/dense",
                     "blocks/container_1/dense", "_private"]  # fmt: skip


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=150, deadline=None, derandomize=True)
@hypothesis.given(data=st.data())
def test_fuzzed_files_load_cleanly_or_change_nothing(tmp_path_factory, data):
    """Bytes flipped or the file truncated: a load either succeeds (a flip inside raw data goes
    unnoticed: Keras's files carry no checksum) or raises ValueError with no weight changed;
    never another exception, never a partial load."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "m.weights.h5"
    _model(0).save_weights(path)
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans(), "truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), "cut")]
    else:
        for _ in range(data.draw(st.integers(1, 8), "flips")):
            i = data.draw(st.integers(0, len(raw) - 1), "at")
            raw[i] ^= data.draw(st.integers(1, 255), "mask")
    path.write_bytes(bytes(raw))
    target = _model(1)
    before = target.get_weights()
    try:
        target.load_weights(path)
    except ValueError:
        for a, b in zip(target.get_weights(), before, strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        changed = [not np.array_equal(a, b) for a, b in zip(target.get_weights(), before,
                                                            strict=True)]  # fmt: skip
        assert all(changed), "a load that succeeded left some weights as they were"
