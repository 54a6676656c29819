"""Baselines beside the infinitesimal estimator: closed form, kernel density ratio, one classifier."""
import numpy as np
import pytest
import torch

import otcore
from otcore.dre import DensityRatioConfig, DensityRatioError, fit_one_step_ratio, gaussian_log_ratio, kernel_log_ratio

P_GAUSS = otcore.Gaussian(np.array([0.0, 0.0]), np.eye(2))
Q_GAUSS = otcore.Gaussian(np.array([1.5, -0.5]), np.array([[0.7, 0.2], [0.2, 1.3]]))


def test_closed_form_is_log_q_minus_log_p_and_adds_up_along_the_path():
    x = torch.randn(300, 2) * 2
    full = gaussian_log_ratio(P_GAUSS, Q_GAUSS, x)
    assert torch.allclose(full, Q_GAUSS.log_prob(x) - P_GAUSS.log_prob(x), atol=1e-5)
    pieces = gaussian_log_ratio(P_GAUSS, Q_GAUSS, x, 0.0, 0.3) + gaussian_log_ratio(P_GAUSS, Q_GAUSS, x, 0.3, 1.0)
    assert torch.allclose(pieces, full, atol=1e-4)
    with pytest.raises(DensityRatioError, match=r"\[0, 1\]"):
        gaussian_log_ratio(P_GAUSS, Q_GAUSS, x, 0.0, 2.0)
    with pytest.raises(DensityRatioError, match="dimension"):
        gaussian_log_ratio(P_GAUSS, Q_GAUSS, torch.randn(4, 3))


def test_kernel_ratio_tracks_the_closed_form_in_the_bulk_and_refuses_high_dimension():
    P, Q = P_GAUSS.sample(4000, seed=0), Q_GAUSS.sample(4000, seed=1)
    x = torch.cat([P_GAUSS.sample(300, seed=2), Q_GAUSS.sample(300, seed=3)])
    est, truth = kernel_log_ratio(P, Q, x), gaussian_log_ratio(P_GAUSS, Q_GAUSS, x)
    assert np.corrcoef(est, truth)[0, 1] > 0.9
    with pytest.raises(DensityRatioError, match="d ≤ 3"):
        kernel_log_ratio(torch.randn(50, 4), torch.randn(50, 4), torch.randn(5, 4))
    with pytest.raises(DensityRatioError, match="dimension"):
        kernel_log_ratio(P, Q, torch.randn(5, 3))


def test_one_step_classifier_recovers_a_moderate_log_ratio():
    torch.manual_seed(0)
    P, Q = P_GAUSS.sample(3000, seed=0), Q_GAUSS.sample(3000, seed=1)
    clf = fit_one_step_ratio(P, Q, DensityRatioConfig(steps=150, batch=64, validate_every=25))
    x = torch.cat([P_GAUSS.sample(500, seed=2), Q_GAUSS.sample(500, seed=3)])
    est, truth = clf.log_ratio(x), gaussian_log_ratio(P_GAUSS, Q_GAUSS, x)
    assert np.corrcoef(est, truth)[0, 1] > 0.95
    assert clf.val_loss < 2 * np.log(2)
    with pytest.raises(DensityRatioError, match="NaN"):
        fit_one_step_ratio(P, torch.full_like(Q, float("inf")))
