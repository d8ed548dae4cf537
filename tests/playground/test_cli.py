"""``gradlab playground``: its arguments (the server itself is exercised by test_e2e.py)."""
from __future__ import annotations

import socket

import pytest

from gradlab.cli import main


def test_help_names_the_options(capsys):
    assert main(["playground", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "127.0.0.1" in out
    for flag in ("--allow-origin", "--allow-host", "--workers", "--max-per-client"):
        assert flag in out


@pytest.mark.parametrize("args, words", [
    (["--port", "99999"], "--port must be between 0 and 65535"),
    (["--port", "http"], "--port must be an integer"),
    (["--max-sessions", "0"], "--max-sessions must be between 1"),
    (["--max-fps", "-1"], "--max-fps must be between 0"),
    (["--workers", "-1"], "--workers must be between 0 and 64"),
    (["--max-per-client", "0"], "--max-per-client must be between 1"),
])
def test_bad_arguments_exit_2(args, words, capsys):
    assert main(["playground", *args]) == 2
    assert words in capsys.readouterr().err


def test_a_taken_port_is_reported(capsys):
    pytest.importorskip("uvicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["playground", "--port", str(port)]) == 1
    assert "address already in use" in capsys.readouterr().err.lower()


def test_the_flags_reach_the_server(monkeypatch):
    import gradlab.playground.app as app

    seen: dict = {}
    monkeypatch.setattr(app, "serve", lambda host, port, **kw: seen.update(host=host, port=port, **kw))
    assert main(["playground", "--port", "0", "--workers", "0", "--max-per-client", "3", "--allow-origin",
                 "https://a.example", "--allow-origin", "https://b.example", "--allow-host", "play.example"]) == 0
    assert seen["allow_origins"] == ["https://a.example", "https://b.example"]
    assert seen["allow_hosts"] == ["play.example"]
    manager = seen["manager"]
    assert manager.max_per_client == 3 and manager.pool.inline
