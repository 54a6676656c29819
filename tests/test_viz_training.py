from otcore.viz.training import loss_figure, loss_terms, progress, stages, thin, validation_figure


def _rows():
    rows = [{"stage": "warm-start", "step": i + 1, "stage_steps": 3, "global_step": i + 1, "flow_matching": 1.0 / (i + 1),
             "lr": 0.01, "elapsed": 0.1 * i} for i in range(3)]
    for i in range(4):
        d = "pq" if i % 2 == 0 else "qp"
        rows.append({"stage": "refine", "step": i + 1, "stage_steps": 10, "global_step": 4 + i, f"kl_{d}": 0.5,
                     f"kinetic_{d}": 2.0, "objective": 0.6, "latest_kl_pq": 0.4, "latest_transport_cost": 2.1})
    rows[-1]["val_transport_cost"], rows[-1]["val_fit"] = 2.05, 0.01
    return rows


def test_loss_terms_exclude_bookkeeping_and_readouts():
    terms = loss_terms(_rows())
    assert terms == ["flow_matching", "kl_pq", "kinetic_pq", "objective", "kl_qp", "kinetic_qp"]
    assert stages(_rows()) == ["warm-start", "refine"]


def test_loss_figure_has_one_panel_per_stage_and_every_term():
    fig = loss_figure(_rows())
    assert "step 7" in fig.layout.title.text
    by_axis = {}
    for t in fig.data:
        by_axis.setdefault(t.xaxis, []).append(t.name)
    assert by_axis == {"x": ["flow_matching"], "x2": ["kl_pq", "kinetic_pq", "objective", "kl_qp", "kinetic_qp"]}
    fm = fig.data[0]
    assert list(fm.x) == [1, 2, 3] and list(fm.y) == [1.0, 0.5, 1.0 / 3]
    kl_qp = next(t for t in fig.data if t.name == "kl_qp")
    assert list(kl_qp.x) == [5, 7]           # only the steps that carry the term


def test_plain_dict_histories_work_too():
    rows = [{"loss": 3.0 - i, "step": i + 1} for i in range(3)]
    fig = loss_figure(rows)
    assert [t.name for t in fig.data] == ["loss"] and list(fig.data[0].y) == [3.0, 2.0, 1.0]
    assert progress(rows) == {}
    assert progress([{"step": 2, "total": 5}]) == {"": (2, 5)}


def test_progress_is_the_latest_row_of_each_stage():
    assert progress(_rows()) == {"warm-start": (3, 3), "refine": (4, 10)}


def test_thin_keeps_at_most_limit_points_and_the_last():
    idx = thin(10_001, 1000)
    assert len(idx) <= 1001 and idx[0] == 0 and idx[-1] == 10_000
    assert thin(5, 10) == [0, 1, 2, 3, 4]


def test_validation_figure_draws_the_exact_ot_reference():
    fig = validation_figure(_rows(), exact_ot_cost=2.0)
    assert list(fig.data[0].y) == [2.05] and list(fig.data[1].y) == [0.01]
    assert any(s.y0 == 2.0 for s in fig.layout.shapes)
