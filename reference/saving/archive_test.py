"""NumPy-only tests of reading a `.keras` archive's weights member: the CRC-32 combined from
pieces, the pieces' cover, the member read into memory on threads and checked, and weights read
as views of it, or through HDF5 where they are not stored raw (chunked, compressed, compact)."""

from __future__ import annotations

import os
import random
import zipfile
import zlib

import numpy as np
import pytest

import reference
from reference import layers as rl
from reference.saving import archive

h5py = pytest.importorskip("h5py")


@pytest.mark.parametrize("n", [0, 1, 7, 4096, 1 << 20, 3 * (1 << 20) + 5])
def test_crc32_combine_matches_zlib_on_every_split(n):
    rng = random.Random(n)
    data = rng.randbytes(n)
    for k in {0, n, n // 2, rng.randint(0, n), rng.randint(0, n)}:
        whole = archive.crc32_combine(zlib.crc32(data[:k]), zlib.crc32(data[k:]), n - k)
        assert whole == zlib.crc32(data)


@pytest.mark.parametrize("size", [0, 1, 2, 5, archive._PIECE, 3 * archive._PIECE + 1, 40_105_422])
def test_pieces_cover_the_member_in_order(size):
    pieces = archive._pieces(size)
    ends = [0] + [b for _, b in pieces]
    assert [a for a, _ in pieces] == ends[:-1] and ends[-1] == size
    assert all(b > a for a, b in pieces)


def _model(seed: int = 0) -> reference.Model:
    model = reference.Sequential([reference.Input((5,)), rl.Dense(300), rl.Dense(7)])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) for w in model.weights])
    return model


def _member(path) -> tuple[zipfile.ZipInfo, bytes]:
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("model.weights.h5")
        return info, z.read(info)


@pytest.mark.parametrize("crc", ["isal or zlib", "zlib"])
def test_member_image_reads_the_member_and_checks_its_crc(tmp_path, monkeypatch, crc):
    if crc == "zlib":
        monkeypatch.setattr(archive, "_crc", zlib)
    monkeypatch.setattr(archive, "_PIECE", 4096)  # many pieces, shared by both threads
    path = tmp_path / "m.keras"
    _model().save(path)
    info, data = _member(path)
    with archive.StoredMember(str(path), info, "m") as member:
        span = member.span
    image = archive.MemberImage(str(path), span, info.CRC, "m")
    image.verify()
    assert image.buffer.tobytes() == data
    with pytest.raises(ValueError, match="m: damaged archive member: its CRC-32 is"):
        archive.MemberImage(str(path), span, info.CRC ^ 1, "m").verify()
    with pytest.raises(ValueError, match="m: unreadable: the archive ends 10 bytes early"):
        archive.MemberImage(str(path), (span[0], os.path.getsize(path) - span[0] + 10), 0,
                            "m").verify()  # fmt: skip


def _rewrite(path, edit) -> None:
    """Apply edit(h5py.File) to the archive's weights member; store it back uncompressed."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    h5 = path.with_suffix(".h5")
    h5.write_bytes(members["model.weights.h5"])
    with h5py.File(h5, "a") as f:
        edit(f)
    members["model.weights.h5"] = h5.read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _restore(name: str, **create):
    def edit(f):
        value = f[name][()]
        del f[name]
        f.create_dataset(name, data=value.astype(create.pop("dtype", value.dtype)), **create)

    return edit


def _compact(name: str):
    """The dataset rewritten with HDF5's compact layout (its values inside its header)."""

    def edit(f):
        value = f[name][()]
        del f[name]
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple(value.shape)
        tid = h5py.h5t.py_create(value.dtype)
        h5py.h5d.create(f.id, name.encode(), tid, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, value
        )
        assert f[name].id.get_create_plist().get_layout() == h5py.h5d.COMPACT

    return edit


LAYOUTS = {
    "chunked and compressed": _restore("layers/dense/vars/0", chunks=(5, 30), compression="gzip"),
    "compact": _compact("layers/dense_1/vars/1"),
    "big-endian": _restore("layers/dense/vars/0", dtype=">f4"),
    "float64 into float32": _restore("layers/dense_1/vars/0", dtype="float64"),
    "fletcher32": _restore("layers/dense/vars/1", chunks=(100,), fletcher32=True),
}  # fmt: skip


@pytest.mark.parametrize("edit", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_load_model_reads_any_layout_exactly(tmp_path, edit):
    path = tmp_path / "m.keras"
    source = _model()
    source.save(path)
    _rewrite(path, edit)
    loaded = reference.saving.load_model(path)
    for a, b in zip(loaded.get_weights(), source.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).standard_normal((3, 5)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), source.predict(x, verbose=0))


@pytest.mark.parametrize("where", ["weight data", "metadata"])
def test_a_flipped_byte_in_the_member_is_refused(tmp_path, where):
    path = tmp_path / "m.keras"
    _model().save(path)
    info, data = _member(path)
    raw = path.read_bytes()
    start = raw.index(data)
    offset = len(data) // 2 if where == "weight data" else 200
    damaged = bytearray(raw)
    damaged[start + offset] ^= 0x10
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="damaged archive member|is not HDF5|damaged"):
        reference.saving.load_model(path)


def test_loaded_weights_are_views_of_one_checked_buffer_and_train(tmp_path):
    """The values are read-only views of the member's bytes; a later update (an optimizer step,
    an assign) gives the variable its own array and leaves the other weights as they were."""
    path = tmp_path / "m.keras"
    source = _model()
    source.compile(optimizer="adam", loss="mse")
    x, y = np.ones((4, 5), "float32"), np.zeros((4, 7), "float32")
    source.train_on_batch(x, y)
    source.save(path)
    loaded = reference.saving.load_model(path)
    values = [v._value for v in loaded.layers[0].weights]
    assert all(isinstance(v.base, np.ndarray) and not v.flags.writeable for v in values)
    assert values[0].base is values[1].base  # one buffer, the member's bytes
    before = loaded.get_weights()
    loaded.train_on_batch(x, y)
    source.train_on_batch(x, y)
    for a, b, c in zip(loaded.get_weights(), source.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_member_image_threads_do_not_outlive_a_failed_load(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    _rewrite(path, lambda f: f["layers/dense/vars/0"].attrs.create("x", 1))
    with zipfile.ZipFile(path) as z:
        config = z.read("config.json").replace(b'"Dense"', b'"NoSuchLayer"')
        members = {n: z.read(n) for n in z.namelist()}
    members["config.json"] = config
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    import threading

    before = threading.active_count()
    with pytest.raises(ValueError, match="NoSuchLayer"):
        reference.saving.load_model(path)
    assert threading.active_count() == before
    assert os.path.exists(path)


def test_datasets_pointing_at_the_same_bytes_load_as_separate_arrays(tmp_path, monkeypatch):
    """A crafted file whose two datasets share their bytes loads both values, but as arrays that
    do not share memory: an in-place update of one variable never changes another."""
    from reference.saving import _h5

    path = tmp_path / "m.keras"
    reference.Sequential([reference.Input((5,)), rl.Dense(7), rl.Dense(7)]).save(path)
    spans = {}
    original = _h5.Dataset.raw_span

    def shared(self):
        span = original(self)
        if span is not None and self.shape == (7,):  # both biases: the first one's bytes
            spans.setdefault("bias", span)
            return spans["bias"]
        return span

    monkeypatch.setattr(_h5.Dataset, "raw_span", shared)
    loaded = reference.saving.load_model(path)
    first, second = loaded.layers[0].bias, loaded.layers[1].bias
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    assert not np.shares_memory(first._value, second._value)
