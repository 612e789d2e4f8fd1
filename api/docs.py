"""/docs: Swagger UI served from this server (fastapi-offline ships its assets), so the API's
reference works on a network that reaches nothing else. FastAPI's own page would load them from a
CDN and set them up with inline script, which the Content-Security-Policy forbids."""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bestpart API</title>
<link rel="icon" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


async def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def mount_docs(app: FastAPI) -> None:
    # Starlette routes, not API routes: the reference is public, like the schema it renders.
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    app.add_route("/docs", docs_page, include_in_schema=False)
