"""A local, in-memory VBS service for trying vbs and testing scripts without a cloud.

Standard library only (yaml is imported when a seed file is read), so `vbs` pays nothing for it
unless `vbs emulator` runs.

    with Emulator(EmulatorConfig(port=0, create_delay=0)) as emu:
        ...  # talk HTTP to emu.url with X-Auth-Token: emu.token; emu.stats() says what arrived

Modules: seed and history (starting data), state (backups), cycle with snapshots and volumes (the
rest of the service's rules: the store served), listing and answers (paging and answers as the service
writes them), auth and keystone (who may call, the IAM login), faults (failures on demand), api
(routes), handler (HTTP, control endpoints under /_emulator/, the request log), server (the emulator
and its thread), background (`vbs emulator start --detach`).
"""

from vbscli.emulator.faults import KINDS as FAULT_KINDS
from vbscli.emulator.faults import FaultError
from vbscli.emulator.seed import Seed, SeedError, demo_seed, load_seed
from vbscli.emulator.server import Emulator, EmulatorConfig, banner

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "FAULT_KINDS",
    "FaultError",
    "Seed",
    "SeedError",
    "banner",
    "demo_seed",
    "load_seed",
]
