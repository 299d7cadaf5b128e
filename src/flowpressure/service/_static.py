"""The dashboard's files: ``/``, ``/static/{name}`` and Plotly's JavaScript, all served locally.

Files come from the package's ``static`` directory through :mod:`importlib.resources`; a
name is looked up among the files that directory holds, never joined onto a path, so no
request can reach a file outside it. Plotly's bundle comes from the installed ``plotly``
package (no CDN: the dashboard works offline).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from flowpressure.service._models import ErrorOut

router = APIRouter(tags=["dashboard"])

#: Media type of each suffix the static directory may serve.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}
#: Plotly's bundle does not change while the service runs: let browsers keep it for 30 days.
PLOTLY_CACHE = "public, max-age=2592000"
#: The dashboard's own files may change between releases: revalidate each time.
FILE_CACHE = "no-cache"

_NOT_FOUND = {"model": ErrorOut, "description": "No such file."}
_ANY_FILE = {
    "description": "The file.",
    "content": {media.split(";")[0]: {} for media in MEDIA_TYPES.values()},
}


def _media(name: str) -> str | None:
    dot = name.rfind(".")
    return MEDIA_TYPES.get(name[dot:].lower()) if dot > 0 else None


def _folder() -> Traversable:
    """Return the package's ``static`` directory."""
    return resources.files("flowpressure.service").joinpath("static")


def _static_file(name: str) -> bytes | None:
    """Bytes of ``static/<name>``, or None when the directory has no such file."""
    folder = _folder()
    if not folder.is_dir():
        return None
    for entry in folder.iterdir():
        if entry.name == name and entry.is_file():
            return entry.read_bytes()
    return None


def _not_found(what: str) -> Response:
    body = ErrorOut(detail=f"{what} is not available", field="name")
    return Response(body.model_dump_json(), status_code=404, media_type="application/json")


def _file_response(request: Request, name: str) -> Response:
    media = _media(name)
    data = _static_file(name) if media is not None else None
    if data is None or media is None:
        return _not_found(f"static file {name!r}")
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"Cache-Control": FILE_CACHE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media, headers=headers)


@functools.lru_cache(maxsize=1)
def _plotly() -> tuple[bytes, bytes, str]:
    """Return Plotly's bundle as bytes, gzipped, and its ETag (built once)."""
    import plotly  # type: ignore[import-untyped]
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    raw = get_plotlyjs().encode()
    etag = f'"plotly-{plotly.__version__}"'
    return raw, gzip.compress(raw, compresslevel=6, mtime=0), etag


@router.get(
    "/",
    summary="The dashboard",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The page."}, 404: _NOT_FOUND},
)
def dashboard(request: Request) -> Response:
    """Serve the dashboard page (``static/dashboard.html``)."""
    return _file_response(request, "dashboard.html")


@router.get(
    "/static/plotly.min.js",
    summary="Plotly's JavaScript",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}, "description": "plotly.min.js."}},
)
def plotly_js(request: Request) -> Response:
    """Serve Plotly's bundle from the installed package, gzipped when the client accepts it."""
    raw, packed, etag = _plotly()
    headers = {"Cache-Control": PLOTLY_CACHE, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media = MEDIA_TYPES[".js"]
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media, headers=headers)
    return Response(raw, media_type=media, headers=headers)


@router.get(
    "/static/{name}",
    summary="A file of the dashboard",
    response_class=Response,
    responses={200: _ANY_FILE, 404: _NOT_FOUND},
)
def static_file(
    request: Request,
    name: Annotated[
        str,
        Path(
            min_length=1,
            max_length=128,
            description="File name in the static directory (dashboard.js, dashboard.css).",
        ),
    ],
) -> Response:
    """Serve a file of the package's static directory; anything else is 404."""
    return _file_response(request, name)
