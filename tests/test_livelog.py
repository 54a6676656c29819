"""The live metrics file (otcore.livelog): a reader in another process gets back every step a trainer
yielded, as the same chart rows; long runs stay bounded and evenly thinned; a resumed run continues
the file without repeating steps; anything unreadable reads as "no live metrics"."""
import json

import pytest

import otcore
from otcore.livelog import LIVE, LiveLog, Thinned, read_live
from otcore.viz.rows import as_row


@pytest.fixture(scope="module")
def history():
    P = otcore.sample("moons", 300, seed=0)
    Q = otcore.sample("8gaussians", 300, seed=1)
    config = otcore.FlowConfig(hidden=16, depth=2, warm_steps=30, warm_batch=64, refine_steps=6, refine_batch=64,
                               classifier_warmup=5, validate_every=3, eval_steps=4, refine_min_dim=1)
    trainer = otcore.Trainer(P, Q, config)
    return list(trainer.run())


def test_the_file_gives_back_every_step_as_the_same_chart_rows(tmp_path, history):
    with LiveLog(tmp_path) as live:
        for m in history:
            live(m)
    found = read_live(tmp_path)
    assert [it["global_step"] for it in found.items] == [m.global_step for m in history]
    assert [as_row(it, i) for i, it in enumerate(found.items)] == [as_row(m, i) for i, m in enumerate(history)]
    assert any(it["validation"] is not None for it in found.items) and {it["stage"] for it in found.items} == \
        {m.stage for m in history}
    assert found.latest["global_step"] == history[-1].global_step
    assert [p.name for p in tmp_path.iterdir()] == [LIVE]          # written atomically: no temporary file left


def test_a_reader_sees_the_run_while_it_goes(tmp_path, history):
    live = LiveLog(tmp_path, every_s=3600)
    live(history[0])
    assert [it["global_step"] for it in read_live(tmp_path).items] == [1]      # the first step at once
    for m in history[1:10]:
        live(m)
    assert len(read_live(tmp_path).items) == 1                                 # then at most every every_s
    live.close()
    assert len(read_live(tmp_path).items) == 10


def test_thinning_keeps_a_bounded_even_spread():
    kept = Thinned(keep=100)
    for i in range(10_000):
        kept.add({"global_step": i + 1})
    steps = [it["global_step"] for it in kept.values()]
    assert 50 <= len(steps) <= 100 and steps[0] == 1
    gaps = {b - a for a, b in zip(steps, steps[1:])}
    assert len(gaps) == 1 and gaps.pop() * len(steps) >= 10_000 - steps[-1]   # one stride, covering the run


def test_a_long_run_stays_bounded_with_its_latest_and_validated_steps(tmp_path, history):
    with LiveLog(tmp_path, keep=4) as live:
        for m in history:
            live(m)
    found = read_live(tmp_path)
    validated = [m.global_step for m in history if m.validation is not None]
    assert len(found.items) <= 4 + 4 + 1 and found.items[-1]["global_step"] == history[-1].global_step
    assert sum(it["validation"] is not None for it in found.items) >= min(2, len(validated))


def test_a_resumed_run_continues_the_file_without_repeating_steps(tmp_path, history):
    with LiveLog(tmp_path) as live:
        for m in history[:20]:
            live(m)
    with LiveLog(tmp_path) as live:                  # resumed from a checkpoint at step 12
        for m in history[12:]:
            live(m)
    steps = [it["global_step"] for it in read_live(tmp_path).items]
    assert steps == [m.global_step for m in history]
    body = json.loads((tmp_path / LIVE).read_text())
    written = [it["global_step"] for key in ("steps", "validated") for it in body[key]]
    assert sorted(written) == steps                                    # the file itself holds each step once


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", json.dumps({"format": "other", "version": 1}),
                                  json.dumps({"format": "otflow-live", "version": 99, "steps": []})])
def test_unreadable_or_foreign_files_read_as_none(tmp_path, text):
    (tmp_path / LIVE).write_text(text)
    assert read_live(tmp_path) is None
    assert read_live(tmp_path / "missing") is None
