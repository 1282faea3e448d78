"""A sweep's code tree as one archive for Ray workers: packed once per sweep, unpacked once per machine.

The archive's bytes depend on the tree's content only: entries in sorted order, every
time stamp, owner and group zeroed, and a gzip header without a time. So the same tree
gives the same digest on every sweep and resume (it once changed each time, with the
gzip time stamp and the files' fresh mtimes), and each machine's cache of unpacked
trees holds one copy per code state, not one per submission.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path

CODE_CACHE_DAYS = 7  # unpacked trees unused this long are removed by the next task on the machine


def pack_tree(folder: Path) -> bytes:
    """The files under ``folder`` as a gzipped tar whose bytes depend on nothing but their content and modes."""

    def plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        tar.add(folder, arcname=".", filter=plain)  # TarFile.add walks folders in sorted order
    return buf.getvalue()


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def unpack(code: bytes, digest: str) -> Path:
    """The code tree on this machine, unpacked once per code state (shared by its tasks).

    Trees unused for ``CODE_CACHE_DAYS`` are removed here, as no task knows when a sweep ends.
    """
    cache = Path(tempfile.gettempdir()) / "hunch-ray-code"
    dest = cache / digest
    if dest.is_dir():
        os.utime(dest)
        return dest
    for old in cache.glob("*"):
        try:
            stale = time.time() - old.stat().st_mtime > CODE_CACHE_DAYS * 86400
        except OSError:  # removed by another task just now
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)
    tmp = dest.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(code), mode="r:gz") as tar:
        tar.extractall(tmp, filter="data")
    try:
        tmp.rename(dest)
    except OSError:  # another task on this machine unpacked it first
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
