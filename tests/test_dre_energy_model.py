"""The saved energy model (otcore.dre.energy_model): base + ratio read back without unpickling, the
same log-density, a log-ratio that is differentiable and equal to the ratio's own, clear refusals."""
import numpy as np
import pytest
import torch

from otcore.dre import DensityRatio, DensityRatioConfig, DensityRatioError
from otcore.dre.energy import fit_gaussian
from otcore.dre.energy_model import DIGITS_META, EnergyModel
from otcore.dre.ratio import build_network
from otcore.scaling import Standardizer


def make_model(dim: int = 3, seed: int = 0, meta=None) -> EnergyModel:
    x = torch.randn(400, dim, generator=torch.Generator().manual_seed(seed)) * 2 + 1
    config = DensityRatioConfig(slices=4, hidden=16, seed=seed)
    net = build_network(dim, config)
    with torch.no_grad():                       # a non-zero quadratic head, so L is not linear
        net.coef.bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(seed))
    return EnergyModel(fit_gaussian(x), DensityRatio(net, config, Standardizer.fit(x)), dict(meta or {}))


def test_round_trip_keeps_the_log_density_and_the_log_ratio_is_differentiable(tmp_path):
    model = make_model()
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(model.log_ratio(x), model.ratio.log_ratio(x), atol=1e-5)
    back = EnergyModel.load(model.save(tmp_path / "energy.pt"))
    assert torch.allclose(back.log_prob(x), model.log_prob(x), atol=1e-5)
    assert np.allclose(back.base.cov, model.base.cov) and back.meta == {}
    assert torch.allclose(EnergyModel.load(model.to_bytes()).log_prob(x), model.log_prob(x), atol=1e-5)
    # the gradient against central differences
    x0 = x[:4].double().requires_grad_(True)
    grad, = torch.autograd.grad(model.log_prob(x0.float()).sum(), x0)
    e = 1e-2 * torch.eye(3)
    for i in range(3):
        fd = (model.log_prob(x[:4] + e[i]) - model.log_prob(x[:4] - e[i])) / 2e-2
        assert torch.allclose(grad[:, i].float(), fd, rtol=2e-2, atol=2e-2)


def test_images_of_a_digits_model_and_refusals(tmp_path):
    model = make_model(64, meta=DIGITS_META)
    img = model.images(torch.full((5, 64), 8.5))
    assert img.shape == (5, 1, 8, 8) and torch.allclose(img, torch.full_like(img, 0.5))
    with pytest.raises(DensityRatioError, match="not a model of square images"):
        make_model(3).images(torch.zeros(2, 3))
    with pytest.raises(DensityRatioError, match="dimension"):
        EnergyModel(make_model(3).base, make_model(4).ratio)


def test_files_that_are_not_an_energy_model_are_refused(tmp_path):
    model = make_model()
    model.ratio.save(tmp_path / "ratio.pt")
    with pytest.raises(DensityRatioError, match="not an energy model"):
        EnergyModel.load(tmp_path / "ratio.pt")
    state = model.state()
    state["base_cov"] = -torch.eye(3, dtype=torch.float64)
    with pytest.raises(DensityRatioError, match="damaged"):
        EnergyModel.from_state(state)
    state = model.state()
    state["ratio"]["weights"]["mlp.0.weight"][0, 0] = float("nan")
    with pytest.raises(DensityRatioError, match="NaN"):
        EnergyModel.from_state(state)
    with pytest.raises(DensityRatioError, match="not an energy model"):
        EnergyModel.load(b"not a file")
