"""The wandb stand-in's folder, made by several trial threads of one sweep at once."""

from __future__ import annotations

import shutil
import threading

from hunchlab.execute.captures import SHIM, shim_folder


def _make_at_once(project, threads: int) -> list[BaseException]:
    """``shim_folder`` from ``threads`` threads released together; the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def make() -> None:
        barrier.wait()
        try:
            shim_folder(project)
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    started = [threading.Thread(target=make) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


def test_threads_of_one_process_make_the_shim_folder_at_once_without_failing(project):
    for _ in range(100):  # a sweep's first trials all reach it in the same milliseconds (failed in 1 s before)
        shutil.rmtree(project.hunch_dir / "shim", ignore_errors=True)
        errors = _make_at_once(project, 8)
        assert not errors, errors
        assert (project.hunch_dir / "shim" / "wandb" / "__init__.py").read_bytes() == SHIM.read_bytes()
        assert not list((project.hunch_dir / "shim").rglob("*.tmp"))
