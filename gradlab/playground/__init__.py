"""The gradlab playground: train small networks on 2-D data in the browser, with gradlab doing the work.

Run it with ``gradlab playground`` (or ``python -m gradlab playground``). The parts:

* :mod:`~gradlab.playground.config` -- settings, limits and their validation;
* :mod:`~gradlab.playground.data` -- data sets, CSV upload, input features;
* :mod:`~gradlab.playground.session` -- one network training, and the frames it sends;
* :mod:`~gradlab.playground.protocol` -- the session-level messages and their answers;
* :mod:`~gradlab.playground.host` -- the sessions of one worker, running the server's requests;
* :mod:`~gradlab.playground.worker` -- worker processes and the fair queue in front of each;
* :mod:`~gradlab.playground.manager` -- the live sessions' bookkeeping, limits and idle expiry;
* :mod:`~gradlab.playground.export` -- safetensors + a Python snippet rebuilding the network;
* :mod:`~gradlab.playground.security` -- the WebSocket Origin check and the host names answered;
* :mod:`~gradlab.playground.connection` -- one page's WebSocket: messages, play loop, time-sliced steps;
* :mod:`~gradlab.playground.app` -- the Starlette app (HTTP + WebSocket) and ``serve`` (uvicorn);
* ``static/`` -- the page (plain JavaScript and canvas, no build step).

The server parts need the ``playground`` extra (starlette, uvicorn, websockets); the rest is plain gradlab.
"""
from .config import SettingsError
from .manager import ClientLimitError, SessionLimitError, SessionManager
from .session import Session

__all__ = ["Session", "SessionManager", "SettingsError", "SessionLimitError", "ClientLimitError", "create_app", "serve"]


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`gradlab.playground.app.create_app` (imported lazily: it needs starlette).

    >>> type(create_app(max_fps=None)).__name__
    'Starlette'
    """
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


def serve(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`gradlab.playground.app.serve`.

    >>> serve(port=0)  # doctest: +SKIP
    gradlab playground: open http://127.0.0.1:40123/ in a browser (Ctrl+C to stop)
    """
    from .app import serve as _serve

    return _serve(*args, **kwargs)
