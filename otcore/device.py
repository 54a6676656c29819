"""Choosing the compute device, once, at the edge."""
from __future__ import annotations

import torch


class DeviceError(ValueError):
    """The requested device does not exist on this machine."""


def available_devices() -> dict[str, str]:
    """Devices usable here, name -> human description (GPU names included)."""
    found = {"cpu": "CPU"}
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            found[f"cuda:{i}"] = f"GPU {i}: {torch.cuda.get_device_name(i)}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found["mps"] = "Apple GPU (MPS)"
    return found


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; an explicit device is honoured or refused."""
    if isinstance(device, torch.device):
        device = str(device)
    device = device.strip().lower()
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but no CUDA GPU is available here; use device='cpu' or 'auto'")
        dev = torch.device(device)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"{device} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
        return dev
    if device == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise DeviceError("Apple MPS was requested but is not available here; use 'cpu' or 'auto'")
        return torch.device("mps")
    raise DeviceError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
