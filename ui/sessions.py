"""Is a browser session still there? The answer a background job asks before each slice of work.

Streamlit's runtime tracks every session; ``Runtime.is_active_session(id)`` (thread-safe) is True
while the session's browser tab is connected. A closed tab makes the session inactive at once and
it expires later (``server.disconnectedSessionTTL``); a reconnecting tab becomes active again, which
is why ``ui.jobs`` waits a grace period before it calls a session gone.
"""
from __future__ import annotations

from typing import Callable


def session_id() -> str | None:
    """This script run's session id (None outside a Streamlit script run)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.session_id


def is_alive(sid: str) -> bool | None:
    """True while session ``sid`` is connected, False when it is not, None when no runtime can say
    (a bare script, a test harness)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    answer = Runtime.instance().is_active_session(sid)
    return answer if isinstance(answer, bool) else None


def watcher() -> Callable[[], bool | None]:
    """A callable answering :func:`is_alive` for the session running this script, from any thread."""
    sid = session_id()
    if sid is None:
        return lambda: None
    return lambda: is_alive(sid)
