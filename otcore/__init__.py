"""otcore: dynamic optimal transport between two sample sets with flow networks (Q-flow).

Streamlit-free; the app, the CLI, the tests and notebooks all use these names.
"""
from .config import FlowConfig
from .device import DeviceError, available_devices, resolve_device
from .dre import (DensityRatio, DensityRatioConfig, DensityRatioError, DensityRatioTrainer, EnergyModel,
                  MutualInformation, SamplerConfig, estimate_mutual_information, fit_density_ratio, fit_energy_density,
                  fit_one_step_ratio, gaussian_log_ratio, kernel_log_ratio, sample_model)
from .evaluate import FlowReport, evaluate
from .field import VelocityField
from .fit import fit_flow
from .flow import FlowFileError, OTFlow
from .gaussians import (Gaussian, correlated_pairs, l2_uvp, mccann_marginal, mccann_path, mccann_velocity,
                        ot_map, random_gaussian, w2_squared)
from .loading import SampleLoadError, load_samples
from .metrics import energy_distance, exact_ot_cost
from .scaling import Standardizer
from .tblog import TensorBoardLogger, metric_scalars
from .toys import sample, toy_names
from .trainer import StepMetrics, Trainer, TrainingDiverged, Validation
from .transport_table import TransportTable, transport_table

__all__ = [
    "FlowConfig", "DeviceError", "available_devices", "resolve_device", "FlowReport", "evaluate",
    "VelocityField", "fit_flow", "FlowFileError", "OTFlow", "Gaussian", "correlated_pairs", "l2_uvp",
    "mccann_marginal", "mccann_path", "mccann_velocity", "ot_map", "random_gaussian", "w2_squared",
    "SampleLoadError", "load_samples", "energy_distance", "exact_ot_cost", "Standardizer", "sample",
    "toy_names", "StepMetrics", "Trainer", "TrainingDiverged", "Validation",
    "DensityRatio", "DensityRatioConfig", "DensityRatioError", "DensityRatioTrainer", "MutualInformation",
    "estimate_mutual_information", "fit_density_ratio", "fit_energy_density", "fit_one_step_ratio",
    "gaussian_log_ratio", "kernel_log_ratio", "TensorBoardLogger", "metric_scalars",
    "EnergyModel", "SamplerConfig", "sample_model", "TransportTable", "transport_table",
]
__version__ = "0.1.0"
