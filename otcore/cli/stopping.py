"""A polite stop for long commands: SIGTERM (a job's Stop button, a scheduler, ``kill``) and Ctrl-C
ask the command to stop at its next step, so it can write a checkpoint of that very step first
instead of losing the work since its last timed one."""
from __future__ import annotations

import signal
import threading

#: exit status of a command stopped this way (the shell's convention for SIGTERM)
STOPPED_STATUS = 128 + signal.SIGTERM


class StopRequests:
    """Within ``with StopRequests() as stop:``, SIGTERM and SIGINT set ``stop.signal`` (its name)
    instead of ending the process; a second signal of either kind ends it at once. Disabled (a
    torchrun worker, whose launcher stops its ranks together), or outside the main thread (where
    Python cannot take signals), it does nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.signal: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if self.enabled and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._request)
        return self

    def _request(self, signum: int, frame) -> None:
        if self.signal is not None:           # asked twice: stop now
            self.__exit__(None, None, None)
            signal.raise_signal(signum)
            return
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
