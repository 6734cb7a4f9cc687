"""A local, in-memory VBS service for trying vbs and testing scripts without a cloud.

Standard library only (and yaml for seed files), so `vbs` pays nothing for it unless `vbs emulator`
runs. See `vbs emulator --help` and the README's quick start.
"""

from vbscli.emulator.faults import KINDS as FAULT_KINDS
from vbscli.emulator.faults import FaultError
from vbscli.emulator.seed import Seed, SeedError, demo_seed, load_seed
from vbscli.emulator.server import Emulator, EmulatorConfig, banner

__all__ = ["Emulator", "EmulatorConfig", "FAULT_KINDS", "FaultError", "Seed", "SeedError", "banner",
           "demo_seed", "load_seed"]
