"""Where vbs keeps its files. Standard library `os` only: the shell-completion path imports this."""

from __future__ import annotations

import os
from collections.abc import Mapping


def config_file(env: Mapping[str, str]) -> str:
    """$VBS_CONFIG, else $XDG_CONFIG_HOME/vbs/config.yaml, else ~/.config/vbs/config.yaml."""
    if env.get("VBS_CONFIG"):
        return os.path.expanduser(env["VBS_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(os.path.expanduser(base), "vbs", "config.yaml")


def cache_dir(env: Mapping[str, str]) -> str:
    """$XDG_CACHE_HOME/vbs, else ~/.cache/vbs."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.expanduser(base), "vbs")


def profile_names(env: Mapping[str, str]) -> list[str]:
    """The profile names in the profile file, for completion; [] on any problem (never raises)."""
    try:
        with open(config_file(env), "rb") as handle:
            raw = handle.read()
        import yaml

        doc = yaml.safe_load(raw)
        profiles = doc.get("profiles") if isinstance(doc, dict) else None
        return sorted(str(name) for name in profiles) if isinstance(profiles, dict) else []
    except Exception:  # noqa: BLE001 - a TAB press must never print an error
        return []


def state_dir(env: Mapping[str, str]) -> str:
    """$XDG_STATE_HOME/vbs, else ~/.local/state/vbs: what outlives one command (a background emulator)."""
    base = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "state")
    return os.path.join(os.path.expanduser(base), "vbs")
