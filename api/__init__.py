"""HTTP API of the dispatch centre: app factory, routes, settings and the `najda` CLI."""
