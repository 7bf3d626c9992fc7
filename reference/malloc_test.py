"""reference._malloc: glibc's heap thresholds pinned once, by the training loops, or left alone."""

import platform

import numpy as np
import pytest

import reference
from reference import _malloc

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


class FakeMallopt:
    """libc.mallopt as ctypes gives it: a callable that takes argtypes and restype."""

    def __init__(self):
        self.calls = []

    def __call__(self, param, value):
        self.calls.append((param, value))
        return 1


class FakeLibc:
    def __init__(self):
        self.mallopt = FakeMallopt()
        self.calls = self.mallopt.calls


@pytest.fixture
def fake_libc(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(_malloc, "_DONE", [])
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv("REFERENCE_KEEP_MALLOC", raising=False)
    return libc


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_pins_glibcs_ceilings_once(fake_libc):
    assert _malloc.pin_thresholds() and _malloc.pin_thresholds()
    # M_MMAP_THRESHOLD (-3) at glibc's 64-bit ceiling, M_TRIM_THRESHOLD (-1) twice that
    assert fake_libc.calls == [(-3, 32 << 20), (-1, 64 << 20)]


def test_keep_malloc_leaves_the_thresholds_alone(fake_libc, monkeypatch):
    monkeypatch.setenv("REFERENCE_KEEP_MALLOC", "1")
    assert not _malloc.pin_thresholds()
    assert fake_libc.calls == []


@pytest.mark.parametrize("loop", ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch"])
def test_the_training_loops_pin_the_thresholds(loop, monkeypatch):
    calls = []
    monkeypatch.setattr(_malloc, "pin_thresholds", lambda: calls.append(1))
    inp = reference.Input((3,))
    model = reference.Model(inp, reference.layers.Dense(2)(inp))
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3)), np.ones((4, 2))
    args = (x,) if loop == "predict" else (x, y)
    kwargs = {} if loop.endswith("on_batch") else {"verbose": 0}
    getattr(model, loop)(*args, **kwargs)
    assert calls


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_the_real_mallopt_accepts_the_values(monkeypatch):
    monkeypatch.setattr(_malloc, "_DONE", [])
    monkeypatch.delenv("REFERENCE_KEEP_MALLOC", raising=False)
    assert _malloc.pin_thresholds()
