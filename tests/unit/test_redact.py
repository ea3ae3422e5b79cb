"""Z-API's token never reaches a log line: not through structlog fields or exceptions, not
through a library's stdlib log record of a real HTTP request."""

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import structlog

from config.shared import LogSettings
from telemetry.logging import configure
from telemetry.redact import redact

SECRET = "F3a9cZ7Yq2TOKENVALUE"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"POST https://api.z-api.io/instances/ABC/token/{SECRET}/send-text",
            "POST https://api.z-api.io/instances/ABC/token/[redacted]/send-text",
        ),
        (
            f"/webhooks/zapi/k3y?token={SECRET}&x=1",
            "/webhooks/zapi/k3y?token=[redacted]&x=1",
        ),
        (f"?access_token={SECRET}", "?access_token=[redacted]"),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.fixture
def zapi_like_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("httpx").setLevel(logging.NOTSET)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_log_line_carries_the_zapi_token(
    fmt: str, zapi_like_server: str, configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(LogSettings(format=fmt, level="INFO"), "test")  # type: ignore[arg-type]
    url = f"{zapi_like_server}/instances/ABC/token/{SECRET}/send-text"
    logging.getLogger("httpx").setLevel(logging.INFO)  # httpx logs every request's URL
    assert httpx.post(url, json={}).status_code == 200
    log = structlog.get_logger("test")
    log.warning("provider call failed", url=url, error=repr(ValueError(url)))
    try:
        raise RuntimeError(f"boom at {url}")
    except RuntimeError:
        log.exception("provider call crashed")
    logging.getLogger("aiokafka").warning("request %s failed", f"/cb?token={SECRET}")
    out = capsys.readouterr().err
    assert "HTTP Request" in out and "provider call crashed" in out and "aiokafka" in out
    assert SECRET not in out
    assert "[redacted]" in out
    # uvicorn installs handlers of its own: its records are redacted when they are made.
    uvicorn = logging.getLogger("uvicorn.error")
    record = uvicorn.makeRecord("uvicorn.error", logging.ERROR, "f", 1, "%s", (url,), None)
    assert SECRET not in record.getMessage()
