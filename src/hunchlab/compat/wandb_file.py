"""Reading a W&B offline run's ``.wandb`` file: its records, parsed with wandb's own protobuf classes.

wandb 0.31 no longer ships a Python reader (``wandb.sdk.internal.datastore`` was
removed), so the framing is read here; the records themselves are decoded by the
``wandb`` package's ``Record`` message, never by hand. The framing is LevelDB's log
format behind a 7-byte ``:W&B`` header: 32 KiB blocks of chunks, each
``crc32 (IEEE, seeded with the chunk type) u32 | length u16 | type u8``, a record split
over FIRST/MIDDLE/LAST chunks when it crosses a block. A torn or corrupt tail ends the
scan, as wandb's own reader treats an incomplete file. ``bench/worker.py`` reads W&B's
output with this too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hunchlab.errors import MissingPackage

BLOCK = 32768
HEADER = 7  # crc u32, length u16, type u8
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def wandb_records(path: Path) -> Iterator[Any]:
    """Yield the protobuf ``Record`` messages of a ``.wandb`` file, in order."""
    try:
        from wandb.proto import wandb_internal_pb2 as pb
    except ImportError:
        raise MissingPackage("reading W&B run files needs the wandb package (it is only read, nothing is sent)",
                             fix="pip install wandb") from None
    for payload in _payloads(path.read_bytes()):
        record = pb.Record()  # type: ignore[attr-defined]  # generated protobuf code, no stubs
        record.ParseFromString(payload)
        yield record


def _payloads(data: bytes) -> Iterator[bytes]:
    if len(data) < HEADER or data[:4] != b":W&B":
        return
    pos, buf = HEADER, b""
    while True:
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # a block's trailer padding
            pos += left
            continue
        if pos + HEADER > len(data):
            return
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        body = data[pos + HEADER: pos + HEADER + length]
        if len(body) < length or kind == 0 or zlib.crc32(body, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
            return  # a torn or corrupt tail
        pos += HEADER + length
        if kind in (FULL, FIRST):
            buf = body
        else:
            buf += body
        if kind in (FULL, LAST):
            yield buf
