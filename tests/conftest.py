import os
import sys

import pytest
import torch

# Tests run on 2 cores next to nothing else: one torch thread keeps timings stable and leaves a
# core for the Streamlit server in app tests.
torch.set_num_threads(int(os.environ.get("OTFLOW_TEST_THREADS", "1")))
os.environ.setdefault("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))   # caps the engine's thread rule


@pytest.fixture
def tiny_config():
    """A flow config that trains in a second or two (for plumbing tests, not accuracy)."""
    import otcore

    return otcore.FlowConfig(hidden=32, depth=2, warm_steps=40, warm_batch=128, refine_steps=4,
                             refine_batch=128, classifier_warmup=10, validate_every=2, eval_steps=8,
                             refine_min_dim=1)


@pytest.fixture(autouse=True)
def no_job_outlives_its_test():
    """App tests share the server-wide job pool (its cap is 1 on 2 cores): a job a test leaves
    running would hold the slot and make the next test's job wait. Reset whatever is left."""
    yield
    pool = sys.modules.get("ui.pool")
    if pool is not None:
        for job in pool.POOL.jobs():
            job.reset()
