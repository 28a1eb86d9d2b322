"""One PostGIS template database per test run, made by the controlling process while its
pytest-xdist workers start, and shared by them.

Creating PostGIS in a database is the costliest step of the PostgreSQL fixtures (seconds of
the server's CPU). Made once per run, in the background from the run's start, no worker waits
for it at its first PostgreSQL test unless that test comes within the first seconds; and the
workers, each cloning the same template, no longer make one each. The process that made it
drops it at the end of the run.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.pgdatabases import drop_database, make_template, unavailable, unique_name
from tests.waiting import eventually

#: Names the run's template; workers inherit it from the controlling process.
TEMPLATE_ENV = "NAJDA_TEST_TEMPLATE"
#: How long a worker waits for the controlling process's template.
TEMPLATE_WAIT_S = 180.0


class RunTemplate:
    """The template the controlling process makes in the background for the whole run."""

    def __init__(self, shared: Path) -> None:
        self.name = unique_name("najda_template")
        self._error_file = shared / "pg_template.error"
        self._ready_file = shared / "pg_template.ready"
        self._made = False
        self._thread = threading.Thread(target=self._make, name="najda-template", daemon=True)
        os.environ[TEMPLATE_ENV] = self.name

    def start(self) -> RunTemplate:
        """Begin making the template; returns self."""
        self._thread.start()
        return self

    def _make(self) -> None:
        try:
            make_template(self.name)
            self._made = True
            self._ready_file.touch()
        except BaseException as exc:  # workers read the reason from the file
            writing = self._error_file.with_suffix(".writing")
            writing.write_text(f"{type(exc).__name__}: {exc}")
            writing.rename(self._error_file)  # whole, or not there

    def close(self) -> None:
        """Wait for the making to end, then drop the template if it was made."""
        self._thread.join()
        os.environ.pop(TEMPLATE_ENV, None)
        if self._made:
            drop_database(self.name, template=True)


def run_template(shared: Path) -> str:
    """The run's template, once the controlling process has made it (skipped, or failed in CI,
    when it could not be)."""
    name = os.environ[TEMPLATE_ENV]
    error, ready = shared / "pg_template.error", shared / "pg_template.ready"
    eventually(lambda: error.exists() or ready.exists(), timeout_s=TEMPLATE_WAIT_S, interval_s=0.1)
    if error.exists():
        unavailable(error.read_text())
    return name
