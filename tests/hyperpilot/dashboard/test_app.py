"""The dashboard's server: pages and data, and its safety (bind address, host check, token,
forged ids, read-only by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from hyperpilot.cli import _parser, main  # noqa: E402
from hyperpilot.storage import Storage  # noqa: E402

from .demo import make_store  # noqa: E402
from .server import base, request, running  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("dash") / "s.sqlite", budget=3)


def _open_request(store: Path) -> int:
    st = Storage(store)
    try:
        sid = st.studies()[0]["study_id"]
        return st.add_request(sid, 4, 9.0, "stop", "below the median", "digest text")
    finally:
        st.close()


def _answers(store: Path) -> dict[int, str | None]:
    st = Storage(store, read_only=True)
    try:
        return {r["request_id"]: r["answer"] for r in st.requests()}
    finally:
        st.close()


def test_binds_to_this_machine_only_by_default(store: Path) -> None:
    assert _parser().parse_args(["dashboard", str(store)]).host == "127.0.0.1"
    with running([store]) as p:
        assert p.sock.getsockname()[0] == "127.0.0.1" and p.token is None
        assert "token" not in p.url


def test_serves_the_page_plotly_and_the_state_offline(store: Path) -> None:
    with running([store]) as p:
        status, page = request(base(p) + "/")
        assert status == 200 and '<script src="/plotly.min.js">' in page
        assert '"actions": false' in page
        status, js = request(base(p) + "/plotly.min.js")
        assert status == 200 and len(js) > 1_000_000, "plotly.js comes from the local package"
        status, s = request(base(p) + "/api/state?study=0")
        assert status == 200 and s["n_told"] > 0 and s["incumbent"]["ffe"]
        status, same = request(base(p) + f"/api/state?study=0&v={s['version']}")
        assert same == {"version": s["version"], "unchanged": True}
        assert request(base(p) + "/api/state?study=7")[0] == 404


def test_a_request_for_another_host_is_refused(store: Path) -> None:
    with running([store]) as p:
        status, _ = request(base(p) + "/api/studies", headers={"Host": "evil.example:80"})
        assert status == 400


def test_a_read_only_dashboard_refuses_every_action(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.sqlite", budget=1)
    rid = _open_request(path)
    with running([path]) as p:
        status, body = request(base(p) + "/api/answer", {"study": 0, "request_id": rid,
                                                         "action": "stop"})
    assert status == 403 and "read-only" in body["error"]
    assert _answers(path)[rid] is None


def test_actions_need_the_token_and_an_open_request(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.sqlite", budget=1)
    rid = _open_request(path)
    with running([path], allow_actions=True) as p:
        assert p.token and f"?token={p.token}" in p.url
        url, good = base(p) + "/api/answer", {"study": 0, "request_id": rid, "action": "continue"}
        tok = {"X-HyperPilot-Token": p.token}
        forged = p.token[:-1] + ("x" if p.token[-1] != "x" else "y")
        for body, headers, expected in [(good, {}, 403),  # no token
                                        (good, {"X-HyperPilot-Token": forged}, 403),
                                        ({**good, "request_id": rid + 100}, tok, 404),  # forged id
                                        ({**good, "action": "delete"}, tok, 400)]:
            got = request(url, body, headers)
            assert got[0] == expected, (body, headers, got)
        assert _answers(path)[rid] is None, "nothing written by a refused action"
        got = request(url, good, tok)
        assert got[0] == 200 and got[1]["ok"], got
        got = request(url, good, tok)
        assert got[0] == 404, ("an answered request is closed", got)
    assert _answers(path)[rid] == "continue"


def test_the_cli_refuses_a_missing_store(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", str(tmp_path / "nope.sqlite")]) != 0
    assert "does not exist" in capsys.readouterr().err
