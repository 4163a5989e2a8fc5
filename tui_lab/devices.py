"""Which compute devices exist here (cpu, each cuda:i with name and memory, mps) and picking one.

`list_devices()` describes them; `resolve_device("auto")` picks the best (cuda:0 > mps > cpu);
asking for a device that does not exist raises ConfigError listing those that do.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_lab.errors import ConfigError


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cpu", "cuda:0", "mps"
    kind: str  # "cpu" | "cuda" | "mps"
    description: str  # human name, e.g. "NVIDIA H100 80GB HBM3"
    total_memory: int | None = None  # bytes, CUDA only
    free_memory: int | None = None  # bytes, CUDA only

    def label(self) -> str:
        """One line for menus: 'cuda:0  NVIDIA H100 (79.1 GiB free of 79.6 GiB)'."""
        if self.total_memory is None:
            return f"{self.name}  {self.description}"
        gib = 1024**3
        return (
            f"{self.name}  {self.description} "
            f"({(self.free_memory or 0) / gib:.1f} GiB free of {self.total_memory / gib:.1f} GiB)"
        )


def list_devices() -> list[DeviceInfo]:
    import platform

    import torch

    devices = [DeviceInfo("cpu", "cpu", f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            try:
                free, total = torch.cuda.mem_get_info(i)
            except Exception:  # a busy or broken GPU should not hide the others
                free, total = None, torch.cuda.get_device_properties(i).total_memory
            devices.append(DeviceInfo(f"cuda:{i}", "cuda", torch.cuda.get_device_name(i), total, free))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "mps", "Apple Metal (MPS)"))
    return devices


def resolve_device(name: str = "auto") -> str:
    """Map a user's device name to one that exists; 'auto' picks cuda:0, then mps, then cpu."""
    from tui_lab.limits import shown

    if name is None:
        name = "auto"
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("device", f"must name a device (auto, cpu, cuda:N or mps), got {shown(name)}")
    names = [d.name for d in list_devices()]
    wanted = name.strip().lower()
    if wanted == "auto":
        for prefer in ("cuda:0", "mps"):
            if prefer in names:
                return prefer
        return "cpu"
    if wanted == "cuda":
        wanted = "cuda:0"
    if wanted not in names:
        raise ConfigError("device", f"no device {shown(name)} here; available: auto, {', '.join(names)}")
    return wanted
