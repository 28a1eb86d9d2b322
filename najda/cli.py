"""The `najda` command: the server's commands (api/cli.py) and the simulator's `najda
simulate` (simulations/cli.py), put together here at the package root, the one place that may
import every layer, so that the API never imports the simulator."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from najda.api import cli as api_cli
from najda.simulations import cli as simulations_cli

#: The sub-commands of the layers above the API, by name.
COMMANDS = {
    "simulate": api_cli.Command(simulations_cli.add_parser, simulations_cli.simulate_command),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `najda` console script."""
    return api_cli.main(argv, COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
