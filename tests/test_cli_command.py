"""The Train page's job command line (ui.cli_command): read back by the CLI's own parser it gives the
same FlowConfig; under torchrun, torchrun's own parser hands every flag to the script untouched;
what a distributed run refuses is refused before a process starts."""
from dataclasses import fields
from pathlib import Path

import pytest
from torch.distributed.run import get_args_parser

import otcore
from otcore.cli import build_parser
from otcore.cli.common import config_from_args
from ui.cli_command import config_flags, job_threads, resume_command, train_command

CHANGED = otcore.FlowConfig(hidden=48, depth=4, warm_steps=1234, warm_batch=96, warm_lr=3.5e-4, refine_steps=7,
                            gamma_start=0.0125, seed=11, pairing="sinkhorn", refine_method="qflow", budget_s=0.0)


def _bools():
    return [f.name for f in fields(otcore.FlowConfig) if isinstance(getattr(CHANGED, f.name), bool)]


def _parsed(argv):
    return build_parser().parse_args(argv)


def test_the_default_config_needs_no_flags_and_each_change_is_one_flag():
    assert config_flags(otcore.FlowConfig()) == []
    flags = config_flags(CHANGED)
    assert flags[flags.index("--warm-steps") + 1] == "1234" and "--pairing" in flags
    assert len([f for f in flags if f.startswith("--")]) == 10             # the 10 fields that differ


@pytest.mark.parametrize("flip", [False, True])
def test_the_cli_reads_the_flags_back_into_the_same_config(flip):
    config = CHANGED
    if flip:                                    # every boolean field the other way round
        config = config.replace(**{name: not getattr(config, name) for name in _bools()})
    args = _parsed(["train", *config_flags(config)])
    assert config_from_args(args, otcore.FlowConfig) == config


def test_one_process_runs_the_cli_into_the_run_folder(tmp_path):
    cmd = train_command(tmp_path / "run", CHANGED, tmp_path / "P.npy", tmp_path / "Q.npy", device="cpu",
                        tensorboard=True, checkpoint_every=10, python="/py")
    assert cmd[:4] == ["/py", "-m", "otcore", "train"]
    args = _parsed(cmd[3:])
    assert (Path(args.out), Path(args.source), Path(args.target)) == (tmp_path / "run", tmp_path / "P.npy",
                                                                      tmp_path / "Q.npy")
    assert args.log == "tensorboard" and args.device == "cpu" and args.checkpoint_every == 10
    assert config_from_args(args, otcore.FlowConfig) == CHANGED
    assert _parsed(train_command(tmp_path, CHANGED, "p", "q")[3:]).log == "none"


def test_under_torchrun_every_flag_reaches_the_script(tmp_path):
    config = CHANGED.replace(refine_method="reflow", pairing="exact")
    cmd = train_command(tmp_path / "run", config, "p.npy", "q.npy", device="cuda:1", procs=2, tensorboard=True,
                        python="/py")
    assert cmd[:3] == ["/py", "-m", "torch.distributed.run"]
    outer = get_args_parser().parse_args(cmd[3:])                       # torchrun's own parser
    assert outer.standalone and outer.module and str(outer.nproc_per_node) == "2"
    assert outer.training_script == "otcore" and outer.training_script_args[0] == "train"
    args = _parsed(outer.training_script_args)
    assert config_from_args(args, otcore.FlowConfig) == config
    assert args.log == "tensorboard" and args.device == "cuda" and Path(args.out) == tmp_path / "run"


@pytest.mark.parametrize("change, procs, device, why", [
    ({"budget_s": 60.0}, 2, "cpu", "time budget"),
    ({"refine_method": "qflow", "refine_steps": 10}, 2, "cpu", "reflow only"),
    ({"warm_batch": 129}, 2, "cpu", "multiple of the 2 processes"),
    ({}, 2, "mps", "CPU or on CUDA"),
    ({}, 0, "cpu", "at least 1 process"),
])
def test_what_a_distributed_run_refuses_is_refused_up_front(tmp_path, change, procs, device, why):
    config = otcore.FlowConfig(refine_method="reflow").replace(**change)
    with pytest.raises(ValueError, match=why):
        train_command(tmp_path, config, "p", "q", device=device, procs=procs)
    assert train_command(tmp_path, config, "p", "q", device="cpu", procs=1)   # one process takes them all


def test_resume_continues_the_folder_in_one_process(tmp_path):
    cmd = resume_command(tmp_path, device="cpu", tensorboard=True, python="/py")
    args = _parsed(cmd[3:])
    assert cmd[:4] == ["/py", "-m", "otcore", "train"] and Path(args.resume) == tmp_path and args.log == "tensorboard"


@pytest.mark.parametrize("cores, procs, threads", [(2, 1, 1), (16, 1, 15), (16, 2, 7), (16, 4, 3), (2, 4, 1)])
def test_job_threads_leave_a_core_to_the_server(cores, procs, threads):
    assert job_threads(cores, procs) == threads
