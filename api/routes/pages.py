"""The browser pages: the dispatcher console at `/`, the crew screen at `/crew`, the auditor's
view at `/audit`, and their files.

The pages need no token to load: they ask for one and send it with every request and as the
first websocket message. Everything they load is served from here (api/static), never a CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS = "/ui"

#: The pages may load and connect to this server only (a CSP the browser enforces).
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=HEADERS)


@router.get("/")
async def console() -> FileResponse:
    """The dispatcher console: live map, incident queue, unit board, intake, assignment."""
    return _page("console.html")


@router.get("/crew")
async def crew() -> FileResponse:
    """The crew screen: one unit's assignment and its status buttons (phone-sized)."""
    return _page("crew.html")


@router.get("/audit")
async def audit() -> FileResponse:
    """The auditor's read-only view: history search, timelines, past states, verification."""
    return _page("audit.html")


def install_pages(app: FastAPI) -> None:
    """Serve the pages and their scripts, styles and vendored libraries."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="ui")
