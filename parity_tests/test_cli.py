"""`python -m parity_tests check|record|verify`, bundles (good and bad) and --plot.

verify must run without TensorFlow: one test runs it in a subprocess where importing
tensorflow, keras or tf_keras fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from parity_tests import bundle, plot
from parity_tests.__main__ import main

from .test_compare import keras_model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A saved model, a bundle Keras recorded for it, and a model with a layer the reference
    lacks."""
    d = tmp_path_factory.mktemp("cli")
    keras_model().save(d / "m.keras")
    assert main(["record", str(d / "m.keras"), str(d / "b.npz")]) == 0
    inp = keras.Input((6,))
    h = keras.layers.Rescaling(2.0, name="scale_up")(keras.layers.Dense(4, name="d1")(inp))
    keras.Model(inp, keras.layers.Dense(2, name="d2")(h)).save(d / "rescaling.keras")
    return d


def test_check_a_faithful_model_exits_0_with_json_and_plot(files, tmp_path, capsys):
    argv = ["check", str(files / "m.keras"), "--json", str(tmp_path / "r.json")]
    assert main([*argv, "--plot", str(tmp_path / "r.png")]) == 0
    out = capsys.readouterr().out
    assert "5/5 layers agree" in out and "no divergence" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ok"] and [r["name"] for r in data["layers"]][0] == "conv"
    png = (tmp_path / "r.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(png) < 500_000


def test_check_names_a_layer_the_reference_lacks_and_exits_1(files, capsys):
    assert main(["check", str(files / "rescaling.keras")]) == 1
    out = capsys.readouterr().out
    assert "scale_up" in out and "Rescaling" in out and "unsupported" in out
    assert "could not load the file" in out  # and every other layer was still compared
    assert "2/3 layers agree" in out and "FAIL: the reference cannot load" in out


def test_check_takes_inputs_from_an_npz(files, tmp_path, capsys):
    x = np.random.default_rng(3).standard_normal((4, 8, 8, 3)).astype("float32")
    np.savez(tmp_path / "x.npz", x)
    assert main(["check", str(files / "m.keras"), "--inputs", str(tmp_path / "x.npz")]) == 0
    np.savez(tmp_path / "bad.npz", x[..., :2])
    assert main(["check", str(files / "m.keras"), "--inputs", str(tmp_path / "bad.npz")]) == 2
    assert "expects shape (None, 8, 8, 3), received (4, 8, 8, 2)" in capsys.readouterr().err


def test_verify_passes_a_faithful_port_and_fails_a_wrong_answer(files, tmp_path, capsys):
    assert main(["verify", str(files / "m.keras"), str(files / "b.npz")]) == 0
    assert "PASS" in capsys.readouterr().out
    arrays = bundle.load(files / "b.npz")
    for key in ("grad_weight_0", "64_grad_weight_0"):  # Keras's conv/kernel gradient, both runs
        arrays[key] = arrays[key] * 1.001
    np.savez(tmp_path / "wrong.npz", **arrays)
    argv = ["verify", str(files / "m.keras"), str(tmp_path / "wrong.npz")]
    assert main([*argv, "--json", str(tmp_path / "v.json")]) == 1
    assert "FAIL" in capsys.readouterr().out
    failing = [t["tensor"] for t in json.loads((tmp_path / "v.json").read_text())["tensors"]
               if not t["ok"]]  # fmt: skip
    assert failing == ["d conv/kernel"]


def test_legacy_h5_models_check_record_and_verify(tmp_path, capsys):
    path, saved = str(tmp_path / "m.h5"), str(tmp_path / "b.npz")
    keras_model().save(path)  # Keras 3 writes the legacy HDF5 format for a .h5 name
    assert main(["check", path]) == 0
    assert "5/5 layers agree" in capsys.readouterr().out
    assert main(["record", path, saved]) == 0 and main(["verify", path, saved]) == 0
    assert "PASS" in capsys.readouterr().out


def test_verify_runs_where_tensorflow_cannot_be_imported(files):
    script = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from parity_tests.__main__ import main
        code = main(["verify", {str(files / "m.keras")!r}, {str(files / "b.npz")!r}])
        assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)
        sys.exit(code)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=os.getcwd()
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout


def _changed(**updates):
    return lambda path, good, raw: np.savez(path, **{**good, **updates})


def _write(transform):
    return lambda path, good, raw: path.write_bytes(transform(raw))


def _flip(raw: bytes) -> bytes:
    data = bytearray(raw)
    for i in range(200, len(data), 97):
        data[i] ^= 0xFF
    return bytes(data)


def _drop(key):
    return lambda path, good, raw: np.savez(path, **{k: v for k, v in good.items() if k != key})


BAD_BUNDLES = [  # (id, writer(path, good arrays, good bytes), what the message says)
    ("truncated", _write(lambda raw: raw[: len(raw) // 2]), "not a readable parity bundle"),
    ("not a zip", _write(lambda raw: b"\x00garbage" * 50), "not a readable parity bundle"),
    ("flipped bytes", _write(_flip), "not a readable parity bundle"),
    ("pickled array", _changed(input_0=np.array([object()])), "not a readable parity bundle"),
    ("other format", _changed(format=np.array("something else")), "is not a parity bundle"),
    ("input shape", _changed(input_0=np.zeros((2, 8, 8, 4), "float32")), "input_0 has shape"),
    ("weight grad shape", _changed(grad_weight_1=np.zeros(5, "float32")), "grad_weight_1 has"),
    ("missing weight grad", _drop("grad_weight_7"), "7 weight gradients, the model has 8"),
    ("dy shape", _changed(dy_0=np.zeros((2, 4), "float32")), "upstream gradients (dy_i)"),
]


@pytest.mark.parametrize("write, message", [r[1:] for r in BAD_BUNDLES],
                         ids=[r[0] for r in BAD_BUNDLES])  # fmt: skip
def test_bad_bundles_are_clear_errors(files, tmp_path, capsys, write, message):
    good, raw = bundle.load(files / "b.npz"), (files / "b.npz").read_bytes()
    path = tmp_path / "bad.npz"
    write(path, good, raw)
    assert main(["verify", str(files / "m.keras"), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m parity_tests verify: verify:") and message in err, err
    assert "Traceback" not in err


def test_plot_without_matplotlib_says_so(files, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(plot, "available", lambda: False)
    argv = ["check", str(files / "m.keras"), "--plot", str(tmp_path / "p.png")]
    assert main(argv) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize(
    "shape, drawn",
    [((5,), (1, 5)), ((3, 4), (3, 4)), ((2, 5, 3), (5, 3)), ((2, 6, 7, 3), (6, 7)), ((), (1, 1))],
)
def test_the_heat_map_draws_two_axes(shape, drawn):
    """The last two; for an image (rank >= 4) height and width, the two before the channels."""
    err = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    grid = plot.error_map(err)
    assert grid.shape == drawn
    assert grid.max() == err.max()  # leading axes reduced by their maximum
