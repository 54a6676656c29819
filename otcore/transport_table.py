"""The transport plan of a flow as a table: each point x, its image T(x), the kinetic energy of its
path and the path's length — what ``otflow transport`` writes and the Trajectories page offers.

The deterministic map x ↦ T(x) is the flow's coupling of P and Q (a Monge plan): one row per point.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch

from .flow import OTFlow
from .integrate import path_kinetic_energy, path_length

#: a chunk's path (eval_steps + 1, rows, d) holds at most this many floats (16 MiB of float32)
CHUNK_FLOATS = 1 << 22


@dataclass(frozen=True)
class TransportTable:
    """points, images: (n, d) — x and T(x), or y and T⁻¹(y) when ``reverse``; cost, length: (n,) —
    Σ_k ‖x_k − x_{k−1}‖²/h_k (the trainer's transport cost, W₂² scale) and Σ_k ‖x_k − x_{k−1}‖
    along each path on the flow's evaluation grid. All on the CPU, in the user's units."""
    points: torch.Tensor
    images: torch.Tensor
    cost: torch.Tensor
    length: torch.Tensor
    reverse: bool = False

    @property
    def names(self) -> tuple[str, str]:
        """The names of the point and image columns: ('x', 'Tx'), or ('y', 'Tinvy') when reverse."""
        return ("y", "Tinvy") if self.reverse else ("x", "Tx")

    def columns(self) -> list[str]:
        """x_1 … x_d, Tx_1 … Tx_d, cost, length (y_i, Tinvy_i when reverse)."""
        d = self.points.shape[1]
        a, b = self.names
        return [f"{a}_{i}" for i in range(1, d + 1)] + [f"{b}_{i}" for i in range(1, d + 1)] + ["cost", "length"]


def chunk_rows(dim: int, steps: int) -> int:
    """Rows integrated at once so that a chunk's path (steps + 1, rows, dim) fits CHUNK_FLOATS."""
    return max(1, CHUNK_FLOATS // ((steps + 1) * dim))


def transport_table(flow: OTFlow, x: torch.Tensor, *, reverse: bool = False,
                    chunk: int | None = None) -> TransportTable:
    """Map x: (n, d) with T (t from 0 to 1), or with T⁻¹ when ``reverse``, integrating ``chunk``
    rows at a time (default: :func:`chunk_rows`) on the flow's evaluation grid and solver, so the
    images equal ``flow.transport(x, reverse)``. Raises ValueError if d is not the flow's dimension."""
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2 or x.shape[1] != flow.dim:
        got = f"{x.shape[1]}-dimensional ({x.shape[1]} columns)" if x.ndim == 2 else f"of shape {tuple(x.shape)}"
        raise ValueError(f"the points are {got} but the flow is {flow.dim}-dimensional")
    steps = flow.config.eval_steps
    times = torch.linspace(0.0, 1.0, steps + 1)
    times = times.flip(0) if reverse else times
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be at least 1 row, got {chunk}")
    rows = chunk or chunk_rows(flow.dim, steps)
    images, cost, length = [], [], []
    for part in x.split(rows):
        path = flow.trajectory(part, times).cpu()
        images.append(path[-1])
        cost.append(path_kinetic_energy(path, times))
        length.append(path_length(path))
    return TransportTable(x.cpu(), torch.cat(images), torch.cat(cost), torch.cat(length), reverse)


def table_csv(table: TransportTable) -> str:
    """The table as CSV text: a header of :meth:`TransportTable.columns`, one row per point, floats
    to 9 significant digits (float32 round-trips exactly)."""
    values = torch.cat([table.points, table.images, table.cost[:, None], table.length[:, None]], dim=1).numpy()
    out = io.StringIO()
    np.savetxt(out, values, fmt="%.9g", delimiter=",", header=",".join(table.columns()), comments="")
    return out.getvalue()


def table_npz(table: TransportTable) -> bytes:
    """The table as the bytes of an .npz: arrays x, Tx (or y, Tinvy), cost, length, reverse."""
    a, b = table.names
    out = io.BytesIO()
    np.savez(out, **{a: table.points.numpy(), b: table.images.numpy(), "cost": table.cost.numpy(),
                     "length": table.length.numpy(), "reverse": np.array(table.reverse)})
    return out.getvalue()


#: format name -> the table's bytes in it
WRITERS = {"csv": lambda table: table_csv(table).encode("utf-8"), "npz": table_npz}
