"""Infinitesimal density-ratio estimation on a trained flow (docs/method.md §4): the time score r(x, s)
on the flow's bridge, log q − log p = ∫₀¹ r(x, s) ds, mutual information and an energy-based density, and samples of it."""
from .baselines import (OneStepRatio, fit_one_step_ratio, gaussian_log_ratio, kernel_log_ratio)
from .bridge import Bridge, bridge_samples
from .config import DensityRatioConfig, DensityRatioError
from .energy import EnergyDensity, EnergyDensityRun, EnergyStep, fit_energy_density, load_digits_dequantized
from .energy_model import EnergyModel
from .gaussian_bridge import GaussianBridge
from .mutual_information import MIStep, MutualInformation, MutualInformationRun, estimate_mutual_information
from .staged import StagedRun, StageStep
from .ratio import DensityRatio
from .sample_quality import SampleComparison, SampleQuality, compare_samples, sample_quality
from .sampling import EnergySamples, SamplerConfig, sample_energy, sample_model
from .trainer import DensityRatioTrainer, RatioStepMetrics, RatioValidation, fit_density_ratio

__all__ = [
    "DensityRatioConfig", "DensityRatioError", "DensityRatio", "DensityRatioTrainer", "RatioStepMetrics",
    "RatioValidation", "fit_density_ratio", "Bridge", "bridge_samples", "GaussianBridge", "OneStepRatio", "fit_one_step_ratio",
    "kernel_log_ratio", "gaussian_log_ratio", "MutualInformation", "MutualInformationRun", "MIStep", "estimate_mutual_information",
    "EnergyDensity", "EnergyDensityRun", "EnergyStep", "fit_energy_density", "load_digits_dequantized",
    "StagedRun", "StageStep", "EnergyModel", "SamplerConfig", "EnergySamples", "sample_energy", "sample_model",
    "SampleQuality", "SampleComparison", "sample_quality", "compare_samples",
]
