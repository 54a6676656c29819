"""Play/Pause buttons and a 't = …' slider for plotly figures with one frame per time."""
from __future__ import annotations

from typing import Sequence


def playback(names: Sequence[str], *, frame_ms: int, redraw: bool) -> dict:
    """Layout entries ``updatemenus`` and ``sliders`` for frames named ``names`` (one per time).

    The buttons sit under the plot on the left, the slider to their right with its current value
    ('t = 0.50') at its right end, so the two never overlap in a narrow column. ``redraw`` must be
    True for heatmaps (plotly does not animate them otherwise) and may be False for scatter frames."""
    def go_to(name: str) -> dict:
        return dict(label=name, method="animate",
                    args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                       transition=dict(duration=0))])

    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=frame_ms, redraw=redraw), fromcurrent=True,
                                 transition=dict(duration=0), mode="immediate")])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")])
    buttons = dict(type="buttons", direction="left", showactive=False, x=0.0, y=0, xanchor="left", yanchor="top",
                   pad=dict(t=45, r=10), buttons=[play, pause])
    slider = dict(active=0, currentvalue=dict(prefix="t = ", xanchor="right", font=dict(size=14)),
                  pad=dict(t=40, b=10), len=0.68, x=0.32, steps=[go_to(n) for n in names])
    return dict(updatemenus=[buttons], sliders=[slider])
