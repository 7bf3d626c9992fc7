"""Members of a `.keras` zip archive, read without extracting them (untrusted input).

Keras stores `model.weights.h5` uncompressed (ZIP_STORED), so its bytes lie contiguous in the
archive. `StoredMember` is a read-only file object over them, through which h5py reads the
HDF5 structure (a few dozen small reads). `MemberImage` reads the whole member into one buffer
and computes the zip's CRC-32 of it, piece by piece on a thread and the caller's (file reads
and the CRC release the GIL), while the caller rebuilds the model: the weights are then views of
that buffer, so the bytes whose CRC was checked are the bytes loaded, and nothing is read twice.
"""

from __future__ import annotations

import functools
import io
import itertools
import os
import struct
import threading
import zipfile
import zlib

import numpy as np

try:  # ISA-L's CRC-32 (optional, in the `tf` and `saving` extras): 3x zlib's, same values
    from isal import isal_zlib as _crc
except ImportError:  # pragma: no cover - the stdlib's zlib: a 40 MB member costs ~10 ms more
    _crc = zlib

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length
_PIECE = 2 << 20  # bytes read then checksummed at a time (in cache while their CRC runs)
# One thread besides the caller's, its first piece a bit over half the member: the caller
# rebuilds the model meanwhile (pure Python, holding the GIL), then takes pieces too. Measured
# on 2 cores for a 40 MB member: two threads, or short first pieces, left the threads waiting
# for the GIL between pieces (13-20 ms against 10.4-10.6 ms).
_THREADS = 1
_FIRST = (0.55,)
_POLY = 0xEDB88320  # CRC-32 (zlib, zip), reflected


class StoredMember(io.RawIOBase):
    """The bytes of a stored (uncompressed) member of an open zip file, as a file object.

    Computes: read/readinto/seek/tell over archive bytes [start, start + size).
    """

    def __init__(self, path: str, info: zipfile.ZipInfo, label: str) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        try:
            self._file.seek(info.header_offset)
            header = self._file.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size:
                raise ValueError(f"{label}: the member's local header is truncated.")
            signature, name_len, extra_len = _LOCAL_HEADER.unpack(header)
            if signature != b"PK\x03\x04":
                raise ValueError(f"{label}: the member's local header is damaged.")
            self._start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
            self._size = info.compress_size
            if self._start + self._size > os.fstat(self._file.fileno()).st_size:
                raise ValueError(f"{label}: the member runs past the end of the archive.")
        except BaseException:
            self._file.close()
            raise
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        self._file.seek(self._start + self._pos)
        done = 0
        while done < n:
            got = self._file.readinto(view[done:n])
            if not got:
                break
            done += got
        self._pos += done
        return done

    def close(self) -> None:
        self._file.close()
        super().close()

    @property
    def span(self) -> tuple[int, int]:
        """(offset of the member's first byte in the archive, its size)."""
        return self._start, self._size


class MemberImage:
    """The member's bytes in one uint8 buffer, read and CRC-checked in the background.

    Computes: buffer = archive[start : start + size]; crc = zlib.crc32(buffer), as pieces
    [a, b) each read and checksummed by whichever thread takes it (_THREADS started here, and
    the caller's in `verify`), their CRCs then combined in order (crc32_combine).
    `verify()` helps with the pieces left, waits, and raises ValueError naming the member when
    a read fails or the CRC differs from the archive's directory; only then is `buffer` valid.
    """

    def __init__(self, path: str, span: tuple[int, int], expected_crc: int, label: str) -> None:
        start, size = span
        self._path, self._start, self._expected, self._label = path, start, expected_crc, label
        self.buffer = np.empty(size, np.uint8)
        self._pieces = _pieces(size)
        self._crcs: list = [None] * len(self._pieces)
        self._next = itertools.count()  # next() is atomic under the GIL
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(_THREADS)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        try:
            with open(self._path, "rb", buffering=0) as f:
                for i in iter(lambda: next(self._next), None):
                    if i >= len(self._pieces) or self._errors:
                        return
                    a, b = self._pieces[i]
                    view = memoryview(self.buffer[a:b])
                    f.seek(self._start + a)
                    done = 0
                    while done < b - a:
                        got = f.readinto(view[done:])
                        if not got:
                            raise OSError(f"the archive ends {b - a - done} bytes early")
                        done += got
                    self._crcs[i] = _crc.crc32(view)
        except BaseException as e:  # reported by verify() on the caller's thread
            self._errors.append(e)

    def verify(self) -> None:
        self._work()
        for t in self._threads:
            t.join()
        if self._errors:
            e = self._errors[0]
            raise ValueError(f"{self._label}: unreadable: {e}") from e
        crc = 0
        for (a, b), piece_crc in zip(self._pieces, self._crcs, strict=True):
            crc = crc32_combine(crc, piece_crc, b - a)
        if crc != self._expected:
            raise ValueError(
                f"{self._label}: damaged archive member: its CRC-32 is {crc:#010x}, the "
                f"archive's directory says {self._expected:#010x}."
            )


def _pieces(size: int) -> list[tuple[int, int]]:
    """[a, b) ranges covering [0, size): long ones first (_FIRST: one per thread), then
    _PIECE-sized ones that whichever thread is free takes, the caller's included. A thread
    needs the GIL only between pieces, and the caller holds it while it rebuilds the model
    (pure Python): a long first piece keeps the thread reading and checksumming through that
    time instead of waiting for the GIL (up to sys.getswitchinterval(), 5 ms, at each piece)."""
    long = [int(size * f) for f in _FIRST]
    cuts = [0, *long, *range(long[-1] + _PIECE, size, _PIECE), size]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (bit-reflected, as zlib's crc32.c multmodp)."""
    m, p = 1 << 31, 0
    if a == 0:
        return 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()  # x^(2^k) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from crc1 = crc32(A), crc2 = crc32(B) and len(B) (zlib's
    crc32_combine): crc1 times x^(8 len2), plus crc2."""
    return _multmodp(_x8n(len2), crc1) ^ crc2


@functools.lru_cache(maxsize=64)
def _x8n(n: int) -> int:
    """x^(8 n) modulo the polynomial: the product of x^(2^k) over the bits of n << 3 (pieces
    mostly share one length, so it is cached)."""
    p, k = 1 << 31, 3  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p
