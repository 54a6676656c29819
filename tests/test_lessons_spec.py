"""The lessons' links (ui.lessons_spec): every lesson round-trips through its query string, and bad
or hostile values fall back to the defaults with a message instead of raising."""
import math
import sys
import urllib.parse

import pytest

from ui.lessons_spec import DEFAULT_LESSON, LESSONS, MAX_MESSAGES, MAX_VALUE, decode, encode


def as_url_params(params: dict[str, str]) -> dict[str, list[str]]:
    """What a browser sends: the query string, parsed as Streamlit parses it."""
    return urllib.parse.parse_qs(urllib.parse.urlencode(params), keep_blank_values=True)


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_every_pair_and_nondefault_setting_round_trips(lesson):
    spec = LESSONS[lesson]
    for pair in spec.pairs:
        settings = {s.name: (s.high if s.integer else (s.low + s.high) / 3) for s in spec.settings}
        d = decode(as_url_params(encode(lesson, pair, settings)))
        assert (d.lesson, d.pair, d.messages) == (lesson, pair, ())
        assert d.settings == settings
        assert all(isinstance(d.settings[s.name], int) for s in spec.settings if s.integer)


def test_an_empty_link_is_the_default_lesson_with_its_defaults():
    d = decode({})
    assert d.lesson == DEFAULT_LESSON
    assert d.pair == LESSONS[DEFAULT_LESSON].default_pair
    assert d.settings == LESSONS[DEFAULT_LESSON].defaults()
    assert d.messages == ()


def test_unknown_lesson_and_pair_fall_back_with_messages():
    d = decode({"lesson": "nope", "pair": "moons-8gaussians"})
    assert d.lesson == DEFAULT_LESSON
    assert d.pair == LESSONS[DEFAULT_LESSON].default_pair       # that pair belongs to another lesson
    assert any("no lesson 'nope'" in m for m in d.messages)
    assert any("no pair 'moons-8gaussians'" in m for m in d.messages)


@pytest.mark.parametrize("value, why", [
    ("abc", "not a number"), ("nan", "not a finite"), ("inf", "not a finite"), ("-1e400", "not a finite"),
    ("1e9", "outside"), ("-3", "outside"), ("0", "outside"), ("", "not a number"), ("0x10", "not a number"),
])
def test_bad_numbers_fall_back_to_the_default(value, why):
    d = decode({"lesson": "ratio", "kl": value})
    assert d.settings["kl"] == LESSONS["ratio"].defaults()["kl"]
    assert len(d.messages) == 1 and why in d.messages[0]


def test_integers_must_be_whole():
    d = decode({"lesson": "ratio", "ratio_steps": "100.5", "seed": "7"})
    assert d.settings["ratio_steps"] == LESSONS["ratio"].defaults()["ratio_steps"]
    assert d.settings["seed"] == 7 and isinstance(d.settings["seed"], int)
    assert "whole number" in d.messages[0]


def test_hostile_values_are_cut_quoted_and_never_echoed_whole():
    script = "<script>alert(1)</script>" + "x" * 5000
    d = decode({"lesson": script, "pair": "a\x00\nb", "steps": "9" * (MAX_VALUE + 1), "seed": "**bold**"})
    assert d.lesson == DEFAULT_LESSON and d.settings == LESSONS[DEFAULT_LESSON].defaults()
    text = " ".join(d.messages)
    assert "<script>alert(1)</script>" not in text and "xxxxxxxxxxxxxxxxxx" not in text
    assert "\x00" not in text and "\n" not in text
    assert all(len(m) < 200 for m in d.messages)


def test_repeated_keys_use_the_first_value_and_say_so():
    d = decode({"lesson": ["straight", "ratio"], "steps": ["30", "400"]})
    assert d.lesson == "straight" and d.settings["steps"] == 30
    assert any("appears 2 times" in m for m in d.messages)


def test_unknown_keys_are_ignored_and_listed_briefly():
    d = decode({f"junk{i}": "1" for i in range(50)} | {"lesson": "refine"})
    assert d.lesson == "refine" and d.settings == LESSONS["refine"].defaults()
    assert len(d.messages) == 1 and "…" in d.messages[0]


def test_many_problems_give_a_short_list():
    params = {"lesson": "ratio", "pair": "?", "kl": "x", "ratio_steps": "x", "flow_steps": "x", "seed": "x", "a": "1",
              "lessonx": ["1", "2"], "pair2": "3"}
    assert len(decode(params).messages) <= MAX_MESSAGES


def test_encode_refuses_what_decode_would_not_reproduce():
    with pytest.raises(ValueError):
        encode("nope", "stretch", {})
    with pytest.raises(ValueError):
        encode("gaussians", "moons-8gaussians", {})
    with pytest.raises(ValueError):
        encode("gaussians", "stretch", {"steps": 1e6})
    with pytest.raises(ValueError):
        encode("gaussians", "stretch", {"steps": math.nan})


def test_the_spec_module_needs_neither_streamlit_nor_torch():
    import subprocess
    code = ("import sys; import ui.lessons_spec; "
            "assert 'streamlit' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parent.parent))
