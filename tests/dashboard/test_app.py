"""dashboard.app: the served script's server-side logging hygiene."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from dashboard.app import CLIENT_GONE_LOGGERS, ClientGoneFilter, quiet_client_disconnects


def _record(exc: BaseException, name: str = "asyncio") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, "Task exception was never retrieved", (),
                             (type(exc), exc, None))


@pytest.mark.parametrize("exc", [WebSocketClosedError(), StreamClosedError()])
def test_a_browser_leaving_mid_write_is_one_info_line_without_traceback(exc):
    rec = _record(exc)
    assert ClientGoneFilter().filter(rec)
    assert rec.levelno == logging.INFO and rec.exc_info is None
    assert "Traceback" not in logging.Formatter().format(rec)


def test_other_exceptions_keep_their_traceback():
    try:
        raise ValueError("a real bug")
    except ValueError as e:
        rec = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "boom", (), (ValueError, e,
                                                                                    e.__traceback__))
    assert ClientGoneFilter().filter(rec)
    assert rec.levelno == logging.ERROR
    assert "Traceback" in logging.Formatter().format(rec)


def test_the_filter_is_installed_once_and_catches_asyncio_unretrieved_task_errors(caplog):
    quiet_client_disconnects()
    quiet_client_disconnects()
    for name in CLIENT_GONE_LOGGERS:
        assert sum(isinstance(f, ClientGoneFilter) for f in logging.getLogger(name).filters) == 1

    async def write_to_closed_socket():
        raise WebSocketClosedError()

    # the way Tornado's write_message fails: a future nobody awaits, reported by asyncio when collected
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.INFO):
            task = loop.create_task(write_to_closed_socket())
            loop.run_until_complete(asyncio.sleep(0.01))
            del task
            import gc
            gc.collect()
    finally:
        loop.close()
    text = caplog.text
    assert "closed its connection" in text
    assert "Traceback" not in text and "WebSocketClosedError" not in text


def test_a_forged_session_token_is_one_warning_line_without_traceback():
    from bokeh.protocol.exceptions import ProtocolError

    from dashboard.app import RefusedTokenFilter

    rec = _record(ProtocolError("Invalid token signature"), name="tornado.application")
    assert RefusedTokenFilter().filter(rec)
    assert rec.levelno == logging.WARNING and rec.exc_info is None
    text = logging.Formatter().format(rec)
    assert "Invalid token signature" in text and "Traceback" not in text
    other = _record(ProtocolError("Unknown message type"), name="tornado.application")
    assert RefusedTokenFilter().filter(other) and other.exc_info is not None      # other protocol errors: kept


def test_the_server_runs_the_setup_script_that_installs_the_filters():
    from dashboard import serve

    argv, _env = serve.server_command(port=5007)
    assert argv[argv.index("--setup") + 1] == str(serve.SETUP) and serve.SETUP.is_file()
    assert "quiet_client_disconnects()" in serve.SETUP.read_text()
