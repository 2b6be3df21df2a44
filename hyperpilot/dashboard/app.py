"""``python -m hyperpilot dashboard STORE [STORE ...]``: a live web view of running studies.

A small Starlette app served by uvicorn, with plotly.js served from the installed plotly
package (no internet, no front-end build). The page polls ``/api/state`` once a second; the
server answers "unchanged" unless the store changed (``cache.StudyCache``), so an idle study
costs one statement per poll.

Safe by default: it binds to 127.0.0.1 unless ``--host`` says otherwise, accepts only requests
addressed to that host (no DNS rebinding), opens every store read-only, and has no action
unless started with ``--allow-actions``. Then it prints a token (as Jupyter does) that every
action must carry, and an action is only an answer to an open ``HumanPruner`` request of the
study it names, written through the study's own API (``hyperpilot.pruners.answer``).
"""

from __future__ import annotations

import json
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from hyperpilot.dashboard.cache import StudyCache
from hyperpilot.dashboard.views import comparison, state


class Dashboard:
    """The app's state: the studies watched, and the action token (None: read-only).

    Args:
        caches: one per study (``cache.open_studies``).
        token: the secret every action must carry, or None for a read-only dashboard.
        refresh_s: seconds between the page's polls.
    """

    def __init__(self, caches: list[StudyCache], token: str | None = None,
                 refresh_s: float = 1.0) -> None:
        self.caches, self.token, self.refresh_s = caches, token, refresh_s
        self._states: dict[int, tuple[int, dict[str, Any]]] = {}

    def state(self, k: int) -> dict[str, Any]:
        c = self.caches[k]
        c.refresh()
        cached = self._states.get(k)
        if cached is None or cached[0] != c.version:
            self._states[k] = (c.version, state(c))
        return self._states[k][1]

    def studies(self) -> list[dict[str, Any]]:
        return [{"id": i, "label": f"{c.path.name}:{c.name}", "method": c.definition["method"]}
                for i, c in enumerate(self.caches)]


def build_app(dash: Dashboard, hosts: list[str]) -> Any:
    """The Starlette application (routes: ``/``, ``/plotly.min.js``, ``/api/...``)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    page = resources.files("hyperpilot.dashboard").joinpath("page.html").read_text()
    plotly_js = Path(str(resources.files("plotly"))) / "package_data" / "plotly.min.js"

    async def index(request: Request) -> Response:
        cfg = {"studies": dash.studies(), "actions": dash.token is not None,
               "refresh_ms": int(dash.refresh_s * 1000)}
        return HTMLResponse(page.replace("/*CONFIG*/{}", json.dumps(cfg)))

    async def plotly(request: Request) -> Response:
        return FileResponse(plotly_js, media_type="application/javascript")

    async def studies(request: Request) -> Response:
        return JSONResponse(dash.studies())

    async def study_state(request: Request) -> Response:
        k = _index(request.query_params.get("study", "0"), len(dash.caches))
        if k is None:
            return JSONResponse({"error": "no such study"}, status_code=404)
        s = dash.state(k)
        if request.query_params.get("v") == str(s["version"]):
            return JSONResponse({"version": s["version"], "unchanged": True})
        return JSONResponse(s)

    async def compare(request: Request) -> Response:
        ks = [_index(x, len(dash.caches)) for x in request.query_params.get("ids", "").split(",")]
        for k in ks:
            if k is not None:
                dash.caches[k].refresh()
        return JSONResponse(comparison([dash.caches[k] for k in ks if k is not None]))

    async def act(request: Request) -> Response:
        return await _answer(dash, request)

    routes = [Route("/", index), Route("/plotly.min.js", plotly), Route("/api/studies", studies),
              Route("/api/state", study_state), Route("/api/compare", compare),
              Route("/api/answer", act, methods=["POST"])]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware,
                                                           allowed_hosts=hosts)])


async def _answer(dash: Dashboard, request: Any) -> Any:
    """An answer to an open request: refused without actions, without the token, for a
    request that is not open in the named study, or for an unknown action."""
    from starlette.responses import JSONResponse

    from hyperpilot.pruners import ACTIONS, answer

    if dash.token is None:
        return JSONResponse({"error": "read-only dashboard (start it with --allow-actions)"},
                            status_code=403)
    given = request.headers.get("x-hyperpilot-token", "")
    if not secrets.compare_digest(given.encode(), dash.token.encode()):
        return JSONResponse({"error": "missing or wrong token"}, status_code=403)
    try:
        body = json.loads(await request.body())
        k, rid, action = int(body["study"]), int(body["request_id"]), str(body["action"])
        reason = str(body.get("reason", ""))[:500]
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "expected JSON with study, request_id, action"},
                            status_code=400)
    if action not in ACTIONS or not 0 <= k < len(dash.caches):
        return JSONResponse({"error": f"action must be one of {ACTIONS}"}, status_code=400)
    c = dash.caches[k]
    c.refresh()
    if not any(q["request_id"] == rid and q["answer"] is None for q in c.requests):
        return JSONResponse({"error": f"no open request {rid} in this study"}, status_code=404)
    if not answer(c.path, rid, action, reason or "answered in the dashboard"):
        return JSONResponse({"error": f"request {rid} is no longer open"}, status_code=409)
    return JSONResponse({"ok": True, "request_id": rid, "action": action})


def _index(text: str, n: int) -> int | None:
    try:
        k = int(text)
    except ValueError:
        return None
    return k if 0 <= k < n else None


def allowed_hosts(host: str) -> list[str]:
    """Host headers the app answers: the bound address and, on loopback, ``localhost``."""
    if host in ("0.0.0.0", "::"):
        return ["*"]
    local = host in ("127.0.0.1", "localhost", "::1")
    return [host] + (["127.0.0.1", "localhost"] if local else [])
