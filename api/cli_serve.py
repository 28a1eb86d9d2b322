"""`najda serve`: run the HTTP API under uvicorn, say where, and say why when it cannot."""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys

import uvicorn

from najda.api.settings import Settings


class _Server(uvicorn.Server):
    """Uvicorn server that prints where it listens once the sockets are bound."""

    def __init__(self, config: uvicorn.Config, store: str) -> None:
        super().__init__(config)
        self.store = store

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        host, port = self.config.host, self.config.port
        for server in self.servers:
            for sock in server.sockets:
                port = int(sock.getsockname()[1])
                break
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.config.is_ssl else "http"
        services = getattr(self.config.app, "state", None)
        issued = getattr(getattr(services, "services", None), "issued_tokens", [])
        for token in issued:
            print(token.line(), flush=True)
        if issued:
            print("Sign in with one of these tokens; they are shown this once.", flush=True)
        else:
            print(
                "Sign in with your token (`najda users rotate NAME` prints a new one).", flush=True
            )
        print(f"Najda is running at {scheme}://{shown}:{port}/ (store: {self.store})", flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        print("Najda stopped.", flush=True)


def serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; a start that fails says why and returns 1."""
    from najda.api.app import create_app
    from najda.api.live.frames import MAX_FRAME_BYTES, GuardedWebSocketProtocol
    from najda.api.logs import logging_config
    from najda.api.preflight import CannotStart, preflight
    from najda.projections.store.environment import secure_umask

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        response_plan_file=args.response_plan,
        seed_demo=False if args.no_demo else True if args.demo else None,
        poll_interval_s=args.poll_interval,
        road_network=args.road_network,
        policy=args.policy,
        demo_area=args.demo_area,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    secure_umask()
    problem = _cannot_listen(settings.host, settings.port)
    if problem is not None:
        where = f"{settings.host}:{settings.port}"
        print(f"najda: cannot listen on {where}: {problem}", file=sys.stderr)
        return 1
    try:  # before anything is written: a start that cannot succeed leaves no trace
        preflight(settings)
    except CannotStart as exc:
        print(f"najda: {exc}", file=sys.stderr)
        return 1
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        lifespan="on",
        # Live messages are small and go to hundreds of consoles: compressing each one
        # per connection cost more CPU than the fan-out itself.
        ws_per_message_deflate=False,
        ws=GuardedWebSocketProtocol,  # small frames until a client is authenticated
        ws_max_size=MAX_FRAME_BYTES,
        access_log=False,  # api/middleware.py logs each request with its user instead
        log_config=logging_config(args.log_format, args.log_level),
        ssl_certfile=None if settings.tls_cert is None else str(settings.tls_cert),
        ssl_keyfile=None if settings.tls_key is None else str(settings.tls_key),
    )
    server = _Server(config, settings.store_description())
    try:
        with contextlib.suppress(KeyboardInterrupt):  # re-raised by uvicorn after a clean stop
            server.run()
    except SystemExit:  # uvicorn exits when the lifespan or the bind fails
        pass
    if server.started:
        return 0
    failure = getattr(app.state, "start_failure", None)
    print(f"najda: the server did not start: {failure or 'see the messages above'}",
          file=sys.stderr, flush=True)
    return 1


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the address cannot be bound (port in use, unknown host), or None when it can."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return str(exc)
    for family, kind, proto, _name, address in infos[:1]:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                return exc.strerror or str(exc)
    return None
