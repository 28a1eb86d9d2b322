"""What one test run's processes share (the controlling process, its xdist workers, the servers
they start): a directory, and where temporary files go."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

#: Names the run's shared directory; xdist workers inherit it from the controlling process.
SHARED_DIR_ENV = "NAJDA_TEST_SHARED_DIR"
#: Where a run's temporary files go, if set (a disk path to run the tests on a disk).
TMP_ENV = "NAJDA_TEST_TMP"
#: Else, where they go when this machine has it: a RAM disk (tmpfs)...
RAM_DISK = Path("/dev/shm")
#: ... with room for a whole run's files (a container's default /dev/shm of 64 MiB is not).
RAM_DISK_MIN_FREE = 2 * 1024**3


def choose_tmp_root() -> Path:
    """Send this run's temporary files (tmp_path, tempfile, the servers' data directories) to
    NAJDA_TEST_TMP, else to the RAM disk when it is writable, else to the system's default.

    The tests commit to SQLite stores and PostgreSQL clusters tens of thousands of times; on a
    disk each commit waits for its fsync, on a tmpfs it does not. What a test can observe is the
    same: a killed process loses nothing the page cache holds either way, and no test cuts the
    machine's power. Set through TMPDIR, so that workers and subprocesses inherit it.
    """
    chosen = os.environ.get(TMP_ENV)
    if chosen is None and _roomy_ram_disk():
        chosen = str(RAM_DISK)
    if chosen is not None:
        os.environ["TMPDIR"] = chosen
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    return Path(tempfile.gettempdir())


def _roomy_ram_disk() -> bool:
    """The RAM disk is there, writable, and has room for a run."""
    if not (RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK | os.X_OK)):
        return False
    return shutil.disk_usage(RAM_DISK).free >= RAM_DISK_MIN_FREE


def open_shared_dir() -> Path | None:
    """Make the run's shared directory unless this process inherited one; the new one (for
    `close_shared_dir` at the end) or None."""
    if SHARED_DIR_ENV in os.environ:
        return None
    choose_tmp_root()
    directory = Path(tempfile.mkdtemp(prefix="najda-tests-"))
    os.environ[SHARED_DIR_ENV] = str(directory)
    return directory


def close_shared_dir(directory: Path) -> None:
    """Remove the shared directory this process made."""
    os.environ.pop(SHARED_DIR_ENV, None)
    shutil.rmtree(directory, ignore_errors=True)


def shared_dir() -> Path | None:
    """The run's shared directory, or None outside a pytest run."""
    value = os.environ.get(SHARED_DIR_ENV)
    return Path(value) if value else None
