"""The report card of a trained flow against samples of P and Q (docs/method.md §3)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .classifier import RatioClassifier, kl_estimate, logistic_loss
from .flow import OTFlow
from .gaussians import Gaussian, l2_uvp, ot_map, w2_squared
from .integrate import path_kinetic_energy
from .metrics import energy_distance, exact_ot_cost, inversion_error, straightness
from .seeding import generator, init_layers


@dataclass
class FlowReport:
    transport_cost: float        # E ∫‖v‖² dt along the P→Q paths (W₂² scale)
    exact_ot_cost: float         # discrete OT cost of the same samples (POT)
    exact_ot_method: str         # 'exact', or 'subsample' above 5,000 points
    fit: float                   # energy distance T#P vs Q
    fit_reverse: float           # energy distance T⁻¹#Q vs P
    inversion_error: float       # mean ‖T⁻¹(T(x)) − x‖
    straightness: float          # mean path length / chord (1 = straight)
    kl_pq: float                 # classifier estimate of KL(T#P ‖ Q), nats (held-out)
    kl_qp: float                 # classifier estimate of KL(T⁻¹#Q ‖ P), nats (held-out)
    n_points: int
    w2_closed_form: float | None = None   # for Gaussian pairs
    l2_uvp: float | None = None           # % (Gaussian pairs)

    @property
    def cost_ratio(self) -> float:
        """transport cost / exact discrete OT cost (1 is a perfect map of these samples)."""
        return self.transport_cost / self.exact_ot_cost if self.exact_ot_cost > 0 else float("nan")

    def to_dict(self) -> dict:
        return {**asdict(self), "cost_ratio": self.cost_ratio}


def classifier_kl(a: torch.Tensor, b: torch.Tensor, steps: int = 300, seed: int = 0) -> float:
    """KL(p_a ‖ p_b) ≈ −E r(a) from a small logistic classifier fitted on half of each sample and
    read on the other half. a: (n, d), b: (m, d), in comparable (standardised) units."""
    gen = generator(seed)
    ha, hb = len(a) // 2, len(b) // 2
    clf = init_layers(RatioClassifier(a.shape[1]), seed)
    opt = torch.optim.AdamW(clf.parameters(), lr=1e-3, weight_decay=1e-3)
    for _ in range(steps):
        ia = torch.randint(0, ha, (min(512, ha),), generator=gen)
        ib = torch.randint(0, hb, (min(512, hb),), generator=gen)
        loss = logistic_loss(clf, a[ia], b[ib])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(kl_estimate(clf, a[ha:]))


@torch.no_grad()
def evaluate(flow: OTFlow, P: torch.Tensor, Q: torch.Tensor, *, gaussians: tuple[Gaussian, Gaussian] | None = None,
             max_points: int = 4000, kl: bool = True, seed: int = 0) -> FlowReport:
    """Measure a flow on samples P: (n, d) and Q: (m, d) (at most ``max_points`` of each are used).
    Pass ``gaussians=(p, q)`` for a Gaussian pair to get the closed-form W₂² and L2-UVP."""
    P = torch.as_tensor(P, dtype=torch.float32)[:max_points]
    Q = torch.as_tensor(Q, dtype=torch.float32)[:max_points]
    steps = flow.config.eval_steps
    times = torch.linspace(0.0, 1.0, steps + 1)
    path = flow.trajectory(P, times, solver="rk4", steps=steps).cpu()
    TP = path[-1]
    back_Q = flow.transport(Q, reverse=True).cpu()
    back_TP = flow.transport(TP, reverse=True).cpu()
    cost = float(path_kinetic_energy(path, times).mean())
    exact, method = exact_ot_cost(P, Q)
    kl_pq = kl_qp = float("nan")
    if kl:
        with torch.enable_grad():
            s = flow.standardizer
            kl_pq = classifier_kl(s.forward(TP), s.forward(Q), seed=seed)
            kl_qp = classifier_kl(s.forward(back_Q), s.forward(P), seed=seed)
    report = FlowReport(
        transport_cost=cost, exact_ot_cost=exact, exact_ot_method=method,
        fit=energy_distance(TP, Q), fit_reverse=energy_distance(back_Q, P),
        inversion_error=inversion_error(P, back_TP), straightness=straightness(path),
        kl_pq=kl_pq, kl_qp=kl_qp, n_points=len(P),
    )
    if gaussians is not None:
        p, q = gaussians
        report.w2_closed_form = w2_squared(p, q)
        report.l2_uvp = l2_uvp(TP, ot_map(p, q, P), q)
    return report
