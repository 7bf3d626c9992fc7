"""Hypothesis over mutated REAL files: `.keras` archives and `.weights.h5` files written by
Keras 3, whole-model and weights-only `.h5` files written by tf_keras.

Mutations: bytes flipped, the file truncated, a zip member truncated, a JSON field of
config.json / model_config / training_config deleted or replaced, an HDF5 attribute
(layer_names, weight_names, name) replaced, a dataset replaced by one of another shape or dtype.
Every input must end in ValueError / FileNotFoundError, or in a correct load:
- load_weights: the target starts with sentinel weights (-7); after a load none is left and the
  values are the file's except the elements a mutation may change: a dataset replaced by one
  of the same shape, and per flipped byte one dataset (HDF5 files as Keras writes them have no
  checksums: a flipped byte of a number is another number, a flipped byte of a dataset's
  header can point its read at other bytes; in Keras too); after an error the weights are all
  still the sentinel (all or nothing).
- load_model: the model's weights are the saved ones (as a multiset when the config was
  changed: a changed config may legitimately reorder same-shaped layers), with the same
  allowance.
Mutated integers stay small (-3..40): a config may declare a layer as large as it likes, and the
loader builds it, as Keras does, before the weights are compared with the file's.

FUZZ_EXAMPLES=N (environment) sets the examples per test for a longer run (with -s, each test
prints how many inputs it tried); the suite runs 25.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
import zipfile

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import h5py  # noqa: E402
import hypothesis  # noqa: E402
import hypothesis.strategies as st  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tf_keras  # noqa: E402

import reference  # noqa: E402
from reference import layers as rl  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SETTINGS = hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                               suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
SENTINEL = -7.0
TRIED = {"count": 0}  # inputs tried (each test prints its count: run pytest with -s)


def _model(lib):
    """Dense -> BatchNormalization -> Dense: trainable and non-trainable weights."""
    L = keras.layers if lib is keras else tf_keras.layers if lib is tf_keras else rl
    x = lib.Input((3,))
    y = L.Dense(2)(L.BatchNormalization()(L.Dense(4)(x)))
    return lib.Model(x, y)


def _randomize(model):
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """The real files, and the weights they hold, written once per module."""
    folder = tmp_path_factory.mktemp("originals")
    keras.backend.clear_session()
    k_model = _model(keras)
    _randomize(k_model)
    k_model.save(folder / "m.keras")
    k_model.save_weights(folder / "m.weights.h5")
    tf_keras.backend.clear_session()
    t_model = _model(tf_keras)
    _randomize(t_model)
    t_model.compile(optimizer="adam", loss="mse")
    t_model.train_on_batch(np.ones((2, 3)), np.ones((2, 2)))  # optimizer_weights in the file
    _randomize(t_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_model.save(folder / "m.h5")
    t_model.save_weights(folder / "w.h5")
    return folder, [np.asarray(w) for w in k_model.get_weights()], t_model.get_weights()


# -- mutations -------------------------------------------------------------------------------

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 40), st.floats(-2, 2),
                   st.text(max_size=6), st.lists(st.integers(-1, 5), max_size=3))  # fmt: skip


def _json_paths(obj, path=()):
    yield path
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    )
    for key, value in items:
        yield from _json_paths(value, (*path, key))


def _mutate_json(data, text):
    """Delete or replace one field (any depth) of a JSON document."""
    doc = json.loads(text)
    paths = list(_json_paths(doc))[1:]
    if not paths:
        return text
    path = data.draw(st.sampled_from(paths), "json path")
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), "delete") and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(VALUES, "json value")
    return json.dumps(doc)


def _flip(data, raw):
    raw, n = bytearray(raw), data.draw(st.integers(1, 4), "flips")
    for _ in range(n):
        raw[data.draw(st.integers(0, len(raw) - 1), "at")] ^= data.draw(st.integers(1, 255))
    return bytes(raw), n


def _mutate_h5(data, path):
    """Change an attribute or a dataset of the HDF5 file at `path` in place; the number of
    weight elements that may now load with other values (a replaced dataset's size)."""
    with h5py.File(path, "r+") as f:
        objects = [f]
        f.visititems(lambda name, obj: objects.append(obj))
        target = data.draw(st.sampled_from(objects), "object")
        attrs = list(target.attrs)
        if isinstance(target, h5py.Dataset) and (not attrs or data.draw(st.booleans())):
            name = target.name
            parent = target.parent
            del parent[name.rsplit("/", 1)[1]]
            shape = data.draw(st.lists(st.integers(0, 4), max_size=3), "shape")
            dtype = data.draw(st.sampled_from(["f4", "f8", "i8", "f2", "S3", "c8", "u1"]))
            parent.create_dataset(name, data=np.ones(shape, dtype))
            return int(np.prod(shape))
        if not attrs:
            return 0
        key = data.draw(st.sampled_from(sorted(attrs)), "attribute")
        value = target.attrs[key]
        if key in ("model_config", "training_config"):
            text = value.decode() if hasattr(value, "decode") else str(value)
            target.attrs[key] = _mutate_json(data, text).encode()
        elif data.draw(st.booleans(), "drop"):
            del target.attrs[key]
        else:
            names = [x.encode() if isinstance(x, str) else bytes(x) for x in np.atleast_1d(value)]
            choice = data.draw(st.integers(0, 3), "names edit")
            if choice == 0 and names:
                names.pop(data.draw(st.integers(0, len(names) - 1)))
            elif choice == 1:
                names.append(data.draw(st.binary(max_size=8)))
            elif choice == 2:
                names = list(reversed(names))
            target.attrs[key] = np.array(names) if names else data.draw(VALUES.map(str))
    return 0


def _mutate_archive(data, src, dst):
    """A member of a `.keras` archive truncated, its config.json field changed, or its
    model.weights.h5 mutated as an HDF5 file; the weight elements that may change."""
    member = data.draw(st.sampled_from(["config.json", "model.weights.h5", "metadata.json"]))
    how = data.draw(st.sampled_from(["truncate", "json", "h5"]), "member mutation")
    changed = 0
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            raw = a.read(info)
            if info.filename == member:
                if how == "truncate":
                    raw = raw[: data.draw(st.integers(0, max(len(raw) - 1, 0)), "cut")]
                elif how == "json" and member.endswith(".json"):
                    raw = _mutate_json(data, raw.decode()).encode()
                elif how == "h5" and member.endswith(".h5"):
                    tmp = dst.parent / "inner.h5"
                    tmp.write_bytes(raw)
                    changed = _mutate_h5(data, tmp)
                    raw = tmp.read_bytes()
            b.writestr(info, raw)
    return changed


def _largest_dataset(path):
    sizes = [0]

    def visit(_, obj):  # returns None: visititems stops at the first other value
        sizes.append(obj.size if isinstance(obj, h5py.Dataset) else 0)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return max(sizes)


def _mutated(data, src, dst):
    """Write a mutated copy of the real file `src` to `dst`; how many weight elements may load
    with other values than the original's (a replaced dataset's size; per flipped byte, one in
    a zip, whose CRC-32 guards the data, a whole dataset in HDF5, where a flipped byte of a
    dataset's header can point its read at other bytes of the file)."""
    kinds = ["flip", "truncate", "archive" if src.suffix == ".keras" else "h5"]
    kind = data.draw(st.sampled_from(kinds), "mutation")
    TRIED["count"] += 1
    if kind == "flip":
        raw, n = _flip(data, src.read_bytes())
        dst.write_bytes(raw)
        return n * (1 if src.suffix == ".keras" else _largest_dataset(src))
    if kind == "truncate":
        raw = src.read_bytes()
        dst.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), "cut")])
        return 0
    if kind == "archive":
        return _mutate_archive(data, src, dst)
    shutil.copy(src, dst)
    return _mutate_h5(data, dst)


# -- oracles -----------------------------------------------------------------------------------


def _close_except(got, want, changed):
    """Same shapes; at most `changed` elements differ in all (NaN compares equal to NaN)."""
    assert [np.shape(a) for a in got] == [np.shape(b) for b in want]
    bad = sum(int(np.sum(~((a == b) | (np.isnan(a) & np.isnan(b)))))
              for a, b in zip(got, want, strict=True))  # fmt: skip
    assert bad <= changed, f"{bad} elements differ; the mutation may change {changed}"


def _check_model(model, want, changed):
    got = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    want = [np.asarray(w, dtype=np.float64) for w in want]
    if changed == 0:  # a changed config may reorder same-shaped layers: compare as multisets
        key = lambda a: (a.shape, a.tobytes())  # noqa: E731
        got, want = sorted(got, key=key), sorted(want, key=key)
    _close_except(got, want, changed)


def _load_model_or_error(path, want, changed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = reference.saving.load_model(path)
        except (ValueError, FileNotFoundError):
            return
    _check_model(model, want, changed)


def _load_weights_or_error(path, want, changed):
    reference.naming._uids.clear()
    target = _model(reference)
    target.set_weights([np.full(w.shape, SENTINEL, w.dtype) for w in target.get_weights()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            target.load_weights(path)
        except (ValueError, FileNotFoundError):
            for w in target.get_weights():  # all or nothing
                assert np.all(w == SENTINEL)
            return
    got = [np.asarray(w, np.float64) for w in target.get_weights()]
    assert not any(np.any(w == SENTINEL) for w in got), "a partial load"
    _close_except(got, [np.asarray(w, np.float64) for w in want], changed)


CASES = {
    "keras archive, load_model": ("m.keras", 1, _load_model_or_error),
    "weights.h5, load_weights": ("m.weights.h5", 1, _load_weights_or_error),
    "legacy model .h5, load_model": ("m.h5", 2, _load_model_or_error),
    "legacy weights .h5, load_weights": ("w.h5", 2, _load_weights_or_error),
}


@pytest.mark.parametrize("name, which, check", CASES.values(), ids=CASES.keys())
def test_mutated_real_files_load_or_raise_cleanly(originals, tmp_path_factory, name, which,
                                                  check):  # fmt: skip
    folder, keras_weights, tf_keras_weights = originals
    want = keras_weights if which == 1 else tf_keras_weights
    work = tmp_path_factory.mktemp("fuzz")

    @SETTINGS
    @hypothesis.given(data=st.data())
    def run(data):
        dst = work / f"bad{(folder / name).suffix}"
        if name.endswith(".weights.h5"):
            dst = work / "bad.weights.h5"
        changed = _mutated(data, folder / name, dst)
        check(dst, want, changed)

    before = TRIED["count"]
    run()
    assert TRIED["count"] > before
    print(f"{name}: {TRIED['count'] - before} mutated inputs tried")


# -- hostile archives and the loaders' source -------------------------------------------------


def _with_weights(src, dst, edit):
    """Copy the archive `src` to `dst` with its model.weights.h5 passed through edit(h5 file)."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            raw = a.read(info)
            if info.filename == "model.weights.h5":
                inner = dst.parent / "inner.weights.h5"
                inner.write_bytes(raw)
                with h5py.File(inner, "r+") as f:
                    edit(f)
                raw = inner.read_bytes()
            b.writestr(info, raw)


def _external(f):
    del f["layers/dense/vars/0"]
    f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/hostname", "/x")


def _virtual(f):
    shape = f["layers/dense/vars/0"].shape
    del f["layers/dense/vars/0"]
    layout = h5py.VirtualLayout(shape=shape, dtype="f4")
    layout[...] = h5py.VirtualSource("/tmp/elsewhere.h5", "x", shape=shape)
    f.create_virtual_dataset("layers/dense/vars/0", layout)


def _string(f):
    del f["layers/dense/vars/1"]
    f["layers/dense/vars/1"] = np.array([b"a", b"b", b"c", b"d"])


ARCHIVES = {
    "external link": (_external, r"m\.keras:model\.weights\.h5: refusing ExternalLink "
                                 r"'/layers/dense/vars/0'"),
    "virtual dataset": (_virtual, r"m\.keras:model\.weights\.h5: refusing dataset "
                                  r"'/layers/dense/vars/0'.*virtual"),
    "wrong dtype": (_string, r"layers/dense/vars/1 \(variable '[^']*bias'\): dtype mismatch"),
    "missing variable": (lambda f: f.__delitem__("layers/dense/vars/1"),
                         r"path 'layers/dense/vars'\) expected 2 variables, but received 1"),
    "extra variable": (lambda f: f.__setitem__("layers/dense/vars/2", np.ones(4, "f4")),
                       r"path 'layers/dense/vars'\) expected 2 variables, but received 3"),
}  # fmt: skip


@pytest.mark.parametrize("edit, message", ARCHIVES.values(), ids=ARCHIVES.keys())
def test_hostile_archive_weights_are_refused(originals, tmp_path, edit, message):
    _with_weights(originals[0] / "m.keras", tmp_path / "m.keras", edit)
    with pytest.raises(ValueError, match=message):
        reference.saving.load_model(tmp_path / "m.keras")


def test_oversized_member_is_refused_before_it_is_read(originals, tmp_path, monkeypatch):
    """A member whose declared size is over the limit (at an ordinary compression ratio)."""
    from reference.saving import keras_file

    monkeypatch.setattr(keras_file, "WEIGHTS_LIMIT", 1000)
    with pytest.raises(ValueError, match=r"m\.keras: member 'model\.weights\.h5' declares \d+ "
                                         r"bytes .*the limit is 1000 bytes"):  # fmt: skip
        reference.saving.load_model(originals[0] / "m.keras")


def test_loaders_never_unpickle_eval_or_import():
    """The saving package's source calls no eval/exec/compile/__import__, imports no pickle,
    marshal or importlib, and every NumPy load passes allow_pickle=False."""
    import ast
    import pathlib

    banned_names = {"eval", "exec", "compile", "__import__"}  # builtins; model.compile is fine
    banned_attributes = {"eval", "exec", "__import__", "import_module"}
    banned_modules = {"pickle", "marshal", "importlib", "dill", "cloudpickle", "shelve"}
    folder = pathlib.Path(reference.saving.__file__).parent
    sources = [p for p in folder.glob("*.py") if not p.name.endswith("_test.py")]
    assert len(sources) >= 6
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {n.split(".")[0] for n in names} & banned_modules, (path, names)
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                banned = banned_names if isinstance(func, ast.Name) else banned_attributes
                assert name not in banned, (path.name, node.lineno, name)
                if name in ("load", "loadtxt", "genfromtxt") and "np" in ast.unparse(func):
                    keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                    assert keywords.get("allow_pickle") == "False", (path.name, node.lineno)
