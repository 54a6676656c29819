"""Regenerate the files in assets/: the home picture (a quickly trained moons → 8gaussians flow)
and the small example upload files. Run from the repository root:

    .venv/bin/python assets/make_assets.py

Deterministic (seeded); takes about half a minute on a 2-core CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import otcore  # noqa: E402
from otcore.viz.export import paths_png  # noqa: E402
from otcore.viz.trajectories import trajectory_data  # noqa: E402


def examples() -> None:
    moons = otcore.sample("moons", 300, seed=3).numpy()
    with open(HERE / "example_moons.csv", "w") as f:
        f.write("x,y\n")
        for x, y in moons:
            f.write(f"{x:.5f},{y:.5f}\n")
    rng = np.random.default_rng(4)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    blobs = centres[rng.integers(0, 3, 300)] + 0.4 * rng.standard_normal((300, 2))
    np.save(HERE / "example_blobs.npy", blobs.astype(np.float32))
    theta = 2 * np.pi * rng.random(300)
    ring = np.stack([2 * np.cos(theta), 2 * np.sin(theta), 0.5 * np.sin(3 * theta)], axis=1)
    ring += 0.05 * rng.standard_normal(ring.shape)
    np.savez(HERE / "example_ring3d.npz", samples=ring.astype(np.float32))


def home_picture() -> None:
    torch.manual_seed(0)
    P = otcore.sample("moons", 3000, seed=0)
    Q = otcore.sample("8gaussians", 3000, seed=1)
    cfg = otcore.FlowConfig(hidden=128, warm_batch=256, warm_steps=1200, refine_steps=0)
    flow = otcore.fit_flow(P, Q, cfg, device="cpu")
    data = trajectory_data(flow, P[:350], frames=25, background={"P": P[:1500], "Q": Q[:1500]}, arrows=False)
    (HERE / "home.png").write_bytes(paths_png(data, size=560, particles=350))


if __name__ == "__main__":
    torch.set_num_threads(1)
    examples()
    if "--examples-only" not in sys.argv:
        home_picture()
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix in {".png", ".csv", ".npy", ".npz"})))
