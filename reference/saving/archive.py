"""Members of a `.keras` zip archive, read without extracting them (untrusted input).

Keras stores `model.weights.h5` uncompressed (ZIP_STORED), so its bytes lie contiguous in the
archive: `StoredMember` is a read-only file object over them that h5py reads directly, each
dataset straight into its array (no copy of the member into memory first). The zip's CRC-32
of the member is checked on a second thread while h5py reads (zlib releases the GIL), so a
damaged member is still refused; the load waits for the check before it returns.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import zipfile
import zlib

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length
_CHUNK = 1 << 22


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

    def crc32(self) -> int:
        """The CRC-32 of the member's bytes (read on their own handle: safe on any thread)."""
        crc, left = 0, self._size
        buffer = memoryview(bytearray(min(_CHUNK, self._size)))
        with open(self._file.name, "rb", buffering=0) as f:
            f.seek(self._start)
            while left:
                got = f.readinto(buffer[: min(len(buffer), left)])
                if not got:
                    break
                crc = zlib.crc32(buffer[:got], crc)
                left -= got
        return crc


class CrcCheck:
    """The member's CRC-32 computed on a thread from construction; `verify()` waits and raises
    ValueError naming the member when it differs from the archive's directory."""

    def __init__(self, member: StoredMember, info: zipfile.ZipInfo, label: str) -> None:
        self._expected, self._label, self._result = info.CRC, label, None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(member,), daemon=True)
        self._thread.start()

    def _run(self, member: StoredMember) -> None:
        try:
            self._result = member.crc32()
        except BaseException as e:  # reported by verify() on the caller's thread
            self._error = e

    def verify(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise ValueError(f"{self._label}: unreadable: {self._error}") from self._error
        if self._result != self._expected:
            raise ValueError(
                f"{self._label}: damaged archive member: its CRC-32 is {self._result:#010x}, the "
                f"archive's directory says {self._expected:#010x}."
            )
