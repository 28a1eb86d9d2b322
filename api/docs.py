"""Interactive API docs served from a local Swagger UI package, so /docs works offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/static/swagger-ui"

_FALLBACK = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p>The interactive documentation needs the <code>swagger-ui-bundle-v2</code> package.
The OpenAPI description is at <a href="{openapi}">{openapi}</a>.</p></body></html>
"""


def _swagger_ui_dir() -> Path | None:
    if importlib.util.find_spec("swagger_ui_bundle") is None:
        return None
    from swagger_ui_bundle import swagger_ui_path

    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI) -> None:
    """Serve /docs with Swagger UI's files from the installed package (no CDN)."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} — API"
    assets = _swagger_ui_dir()
    if assets is not None:
        app.mount(ASSETS, StaticFiles(directory=assets), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse(_FALLBACK.format(title=title, openapi=openapi_url))
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
