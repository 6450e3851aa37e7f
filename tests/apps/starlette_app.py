"""A Starlette app with a lifespan handler: its startup state reaches every request."""
from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


@contextlib.asynccontextmanager
async def lifespan(app):
    yield {"started": "yes-from-lifespan"}


async def homepage(request):
    return JSONResponse({"started": request.state.started})


app = Starlette(routes=[Route("/", homepage)], lifespan=lifespan)
