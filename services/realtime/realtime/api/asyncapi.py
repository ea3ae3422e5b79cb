"""The events' AsyncAPI document (``bus.asyncapi``), for teams that integrate with the bus:
``/asyncapi.json`` and a page at ``/asyncapi``. Public like ``/docs``: it describes formats,
never data. Built once, on first request (a third of a second)."""

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from bus import asyncapi

router = APIRouter(include_in_schema=False)


@cache
def _document() -> dict[str, Any]:
    return asyncapi.document()


@cache
def _page() -> str:
    return asyncapi.page(_document())


@router.get("/asyncapi.json")
async def asyncapi_json() -> JSONResponse:
    return JSONResponse(_document())


@router.get("/asyncapi")
async def asyncapi_page() -> HTMLResponse:
    return HTMLResponse(_page())
