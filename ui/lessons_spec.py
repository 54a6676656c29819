"""The guided lessons as data, and their shareable links: which lessons exist, which pairs and
settings each offers, and the query string that carries them (``?lesson=…&pair=…&steps=…``).

Streamlit-free and torch-free: the Lessons page draws widgets from these specs, and
:func:`decode` turns whatever a URL holds into valid settings. A missing, unknown, malformed or
hostile value never raises: it falls back to the default and :class:`Decoded` says why, in a
sentence a teacher can read (values quoted, cut to a few characters).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

#: longest query value looked at; anything longer is refused before parsing
MAX_VALUE = 40
#: most messages reported for one link (a link full of junk gives a short list)
MAX_MESSAGES = 6


@dataclass(frozen=True)
class Setting:
    """One numeric knob of a lesson, carried in the URL under ``name``."""
    name: str
    label: str
    default: float
    low: float
    high: float
    integer: bool = False
    help: str = ""

    def parse(self, text: str) -> float:
        """The value of ``text``; ValueError with a reason when it is not a valid value."""
        try:
            value = float(text)
        except ValueError:
            raise ValueError("is not a number") from None
        if not math.isfinite(value):
            raise ValueError("is not a finite number")
        if self.integer and value != int(value):
            raise ValueError("is not a whole number")
        if not self.low <= value <= self.high:
            raise ValueError(f"is outside {_fmt(self.low)} … {_fmt(self.high)}")
        return int(value) if self.integer else value


@dataclass(frozen=True)
class Lesson:
    key: str                              # the URL's ``lesson=`` value
    title: str
    pairs: dict[str, str]                 # pair key -> what the student sees; the first is the default
    settings: tuple[Setting, ...]
    methods: tuple[str, ...] = ()         # otcore.compare methods drawn side by side ('' for the ratio lesson)

    @property
    def default_pair(self) -> str:
        return next(iter(self.pairs))

    def defaults(self) -> dict[str, float]:
        return {s.name: s.default for s in self.settings}


def _steps(default: int, name: str = "steps", label: str = "Warm-start steps") -> Setting:
    return Setting(name, label, default, 10, 20000, integer=True,
                   help="flow-matching steps of each learned flow (FlowConfig.warm_steps): a step count, not a "
                        "time, so the same link trains the same flows on any machine")


SEED = Setting("seed", "Seed", 0, 0, 9999, integer=True, help="the samples and every network")

#: key -> lesson, in the order the page offers them; the first is the default
LESSONS: dict[str, Lesson] = {lesson.key: lesson for lesson in (
    Lesson("gaussians", "Gaussian → Gaussian: learned paths against the exact ones",
           {"stretch": "N(0, I) → N((3, 1), Σ), shifted and stretched",
            "shift": "N(0, I) → N((4, 0), I), a pure translation",
            "squeeze": "N(0, diag(2, 0.3)) → N(0, diag(0.3, 2)), squeezed the other way"},
           (_steps(800), SEED), ("pipeline", "closed-form")),
    Lesson("straight", "Why OT pairing straightens paths",
           {"gaussian-8gaussians": "one Gaussian → eight Gaussians on a circle",
            "moons-8gaussians": "two moons → eight Gaussians",
            "circles-moons": "two circles → two moons"},
           (_steps(800), SEED), ("independent", "warm-start", "exact")),
    Lesson("ratio", "Density ratios along time: one classifier against the telescoping sum",
           {"shift-scale": "N(0, I) → N(μ, 0.7² I) in 2-D, ‖μ‖ set by the KL",
            "shift": "N(0, I) → N(μ, I) in 2-D, ‖μ‖ set by the KL"},
           (Setting("kl", "KL(Q‖P) in nats", 20.0, 1.0, 60.0, help="how far apart P and Q are"),
            Setting("ratio_steps", "Ratio steps", 300, 20, 5000, integer=True,
                    help="training steps of the time score (and of the one classifier)"),
            _steps(800, "flow_steps", "Flow steps"), SEED)),
    Lesson("refine", "The second stage, honestly: warm start alone against the full pipeline",
           {"gauss8": "two random Gaussians in 8 dimensions", "gauss16": "two random Gaussians in 16 dimensions"},
           (_steps(1000), Setting("refine_steps", "Second-stage steps", 200, 1, 5000, integer=True,
                                  help="steps of the refinement (reflow) on top of the same warm start"), SEED),
           ("warm-start", "pipeline", "closed-form")),
)}
DEFAULT_LESSON = next(iter(LESSONS))


@dataclass(frozen=True)
class Decoded:
    lesson: str
    pair: str
    settings: dict[str, float]
    messages: tuple[str, ...] = field(default=())   # why something in the link was not used


def _fmt(value: float) -> str:
    """Whole numbers without a decimal point; others exactly (``repr``), so links round-trip."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _quote(text: str) -> str:
    """A value as it may be shown: printable, at most 24 characters, in quotes."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return repr(clean[:24] + ("…" if len(clean) > 24 else ""))


def _one(params: Mapping[str, str | Sequence[str]], name: str, messages: list[str]) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        values = [v for v in value if isinstance(v, str)]
        if not values:
            return None
        if len(values) > 1:
            messages.append(f"'{name}' appears {len(values)} times in the link; the first is used.")
        value = values[0]
    if len(value) > MAX_VALUE:
        messages.append(f"'{name}' is {len(value)} characters long, more than a setting can be; the default is used.")
        return None
    return value.strip()


def decode(params: Mapping[str, str | Sequence[str]]) -> Decoded:
    """The lesson, pair and settings a link asks for (``st.query_params.to_dict()`` or
    ``{key: [values]}``), every invalid part replaced by its default with a message."""
    messages: list[str] = []
    key = _one(params, "lesson", messages)
    if key is not None and key not in LESSONS:
        messages.append(f"There is no lesson {_quote(key)}; showing “{LESSONS[DEFAULT_LESSON].title}”.")
        key = None
    lesson = LESSONS[key or DEFAULT_LESSON]
    pair = _one(params, "pair", messages)
    if pair is not None and pair not in lesson.pairs:
        messages.append(f"This lesson has no pair {_quote(pair)}; using {lesson.default_pair!r} "
                        f"(choices: {', '.join(lesson.pairs)}).")
        pair = None
    settings = lesson.defaults()
    for s in lesson.settings:
        text = _one(params, s.name, messages)
        if text is None:
            continue
        try:
            settings[s.name] = s.parse(text)
        except ValueError as why:
            messages.append(f"'{s.name}' = {_quote(text)} {why}; using {_fmt(s.default)}.")
    known = {"lesson", "pair", *(s.name for s in lesson.settings)}
    unknown = sorted(str(k) for k in params if k not in known)
    if unknown:
        shown = ", ".join(_quote(k) for k in unknown[:3]) + (" …" if len(unknown) > 3 else "")
        messages.append(f"Ignored what this lesson does not use: {shown}.")
    if len(messages) > MAX_MESSAGES:
        messages = messages[:MAX_MESSAGES - 1] + [f"… and {len(messages) - MAX_MESSAGES + 1} more problems."]
    return Decoded(lesson.key, pair or lesson.default_pair, settings, tuple(messages))


def encode(lesson: str, pair: str, settings: Mapping[str, float]) -> dict[str, str]:
    """The query parameters of a lesson (``st.query_params.from_dict``); ValueError on invalid input,
    so a link the app writes always decodes to the same lesson."""
    if lesson not in LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}")
    spec = LESSONS[lesson]
    if pair not in spec.pairs:
        raise ValueError(f"lesson {lesson!r} has no pair {pair!r}")
    out = {"lesson": lesson, "pair": pair}
    for s in spec.settings:
        value = settings.get(s.name, s.default)
        out[s.name] = _fmt(s.parse(repr(float(value))))
    return out
