"""Where vbs keeps and finds its files. Standard library `os` only (and yaml where a file is read): the
shell-completion path imports this."""

from __future__ import annotations

import os
from collections.abc import Mapping


def _xdg(env: Mapping[str, str], variable: str, *default: str) -> str:
    """vbs's directory under an XDG base directory: $variable/vbs, else ~/<default>/vbs."""
    base = env.get(variable) or os.path.join(env.get("HOME") or os.path.expanduser("~"), *default)
    return os.path.join(os.path.expanduser(base), "vbs")


def config_file(env: Mapping[str, str]) -> str:
    """$VBS_CONFIG, else $XDG_CONFIG_HOME/vbs/config.yaml, else ~/.config/vbs/config.yaml."""
    if env.get("VBS_CONFIG"):
        return os.path.expanduser(env["VBS_CONFIG"])
    return os.path.join(_xdg(env, "XDG_CONFIG_HOME", ".config"), "config.yaml")


def cache_dir(env: Mapping[str, str]) -> str:
    """$XDG_CACHE_HOME/vbs, else ~/.cache/vbs."""
    return _xdg(env, "XDG_CACHE_HOME", ".cache")


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


CLOUDS_SUFFIXES = (".yaml", ".yml", ".json")


def clouds_search_dirs(env: Mapping[str, str], cwd: str) -> list[str]:
    """Where clouds.yaml and secure.yaml are looked for, in order, without repeats (openstacksdk's
    order): the current directory, $XDG_CONFIG_HOME/openstack, ~/.config/openstack,
    $XDG_CONFIG_DIRS/openstack (/etc/xdg/openstack) and /etc/openstack."""
    home = env.get("HOME") or os.path.expanduser("~")
    dirs = [cwd]
    if env.get("XDG_CONFIG_HOME"):
        dirs.append(os.path.join(os.path.expanduser(env["XDG_CONFIG_HOME"]), "openstack"))
    dirs.append(os.path.join(home, ".config", "openstack"))
    for base in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep):
        if base:
            dirs.append(os.path.join(base, "openstack"))
    dirs.append("/etc/openstack")
    seen: list[str] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def clouds_candidates(env: Mapping[str, str], cwd: str, stem: str, override: str) -> list[str]:
    """Every path `stem` (clouds, secure) is looked for at, the one the `override` variable names first."""
    paths = [os.path.expanduser(env[override])] if env.get(override) else []
    return paths + [os.path.join(d, stem + suffix) for d in clouds_search_dirs(env, cwd) for suffix in CLOUDS_SUFFIXES]


def first_readable(paths: list[str]) -> str | None:
    """The first of `paths` that is a readable file (an unreadable one is passed over, as openstacksdk does)."""
    return next((p for p in paths if os.path.isfile(p) and os.access(p, os.R_OK)), None)


def cloud_names(env: Mapping[str, str], cwd: str) -> list[str]:
    """The clouds of clouds.yaml and secure.yaml, found where vbs finds them, for completion; [] on any
    problem (never raises)."""
    names: set[str] = set()
    for stem, override in (("clouds", "OS_CLIENT_CONFIG_FILE"), ("secure", "OS_CLIENT_SECURE_FILE")):
        try:
            path = first_readable(clouds_candidates(env, cwd, stem, override))
            if path is None:
                continue
            with open(path, "rb") as handle:
                raw = handle.read()
            import yaml

            doc = yaml.safe_load(raw)
            clouds = doc.get("clouds") if isinstance(doc, dict) else None
            if isinstance(clouds, dict):
                names.update(str(name) for name in clouds)
        except Exception:  # noqa: BLE001 - a TAB press must never print an error
            continue
    return sorted(names)


def state_dir(env: Mapping[str, str]) -> str:
    """$XDG_STATE_HOME/vbs, else ~/.local/state/vbs: what outlives one command (a background emulator)."""
    return _xdg(env, "XDG_STATE_HOME", ".local", "state")
