"""The disks of the emulated project: their detail and listing (reports show their names), and their
state while a restore writes to them (`restoring-backup`, then `available` or `error_restoring`).

A part of the cycle's store (vbscli.emulator.cycle.CycleStore): it uses the store's lock, clocks
and seed, and its `settled()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from vbscli.emulator.answers import Answer, invalid, not_found
from vbscli.emulator.listing import after_marker, limit_of, next_links
from vbscli.emulator.seed import Seed, Volume


class VolumeRules:
    """The disks' states and answers, for the store they are part of."""

    # The store's (vbscli.emulator.state.Store), and its settled() and _settle():
    seed: Seed
    lock: threading.Lock
    max_limit: int
    started: datetime
    volumes: dict[str, Volume]
    settled: Callable[[], AbstractContextManager[float]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.volume_status: dict[str, str] = {}
        """Disks whose status an operation changed (the seed's status otherwise)."""
        self.volume_busy: dict[str, tuple[float, str]] = {}
        """Disk id -> (when the restore writing to it ends, the status it ends in)."""
        self.volume_names: dict[str, str] = {}
        """Names of the disks a restore made (upstream Cinder; VBS requires a target)."""

    def _settle(self, now: float) -> None:
        super()._settle(now)
        for volume_id, (until, final) in list(self.volume_busy.items()):
            if now >= until:
                del self.volume_busy[volume_id]
                self.volume_status[volume_id] = final

    def clear(self) -> None:
        super().clear()
        with self.lock:
            self.volumes = {v.id: v for v in self.seed.volumes}
            for table in (self.volume_status, self.volume_busy, self.volume_names):
                table.clear()

    def volume_state(self, volume: Volume) -> str:
        return self.volume_status.get(volume.id, volume.status)

    def volume_name(self, volume: Volume) -> str | None:
        return self.volume_names.get(volume.id, volume.name)

    def volume_links(self, base: str, volume_id: str, *, bookmark: bool = True) -> list[dict[str, str]]:
        project = self.seed.project_id
        links = [{"href": f"{base}/v3/{project}/volumes/{volume_id}", "rel": "self"}]
        if bookmark:
            links.append({"href": f"{base}/{project}/volumes/{volume_id}", "rel": "bookmark"})
        return links

    def volume_detail(self, volume: Volume, base: str) -> dict[str, Any]:
        status = self.volume_state(volume)
        return {
            "id": volume.id,
            "name": self.volume_name(volume),
            "status": status,
            "size": volume.size,
            "availability_zone": volume.availability_zone,
            "bootable": "false",
            "encrypted": False,
            "multiattach": False,
            "volume_type": "SATA",
            "description": None,
            "metadata": {},
            "snapshot_id": None,
            "attachments": [{"volume_id": volume.id, "device": "/dev/vdb", "attachment_id": volume.id}]
            if status == "in-use"
            else [],
            "created_at": self.started.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "links": self.volume_links(base, volume.id),
        }

    def volume_listing(self, query: dict[str, str], base: str, path: str, detail: bool) -> Answer:
        """GET .../volumes[/detail]: the seed's disks in seed order, limit and marker paging like backups."""
        limit = limit_of(query, self.max_limit)
        if limit is None:
            return invalid(f"Invalid limit {query.get('limit')!r}.")
        with self.settled():
            marker = (query.get("marker") or "").lower()
            items = after_marker(list(self.volumes.values()), marker, lambda v: v.id)
            if items is None:
                return invalid(f"Marker {marker} could not be found.")
            page, more = items[:limit], len(items) > limit
            if detail:
                shown = [self.volume_detail(v, base) for v in page]
            else:
                shown = [
                    {"id": v.id, "name": self.volume_name(v), "links": self.volume_links(base, v.id, bookmark=False)}
                    for v in page
                ]
        doc: dict[str, Any] = {"volumes": shown}
        if more and page:
            doc["volumes_links"] = next_links(query, base, path, limit, page[-1].id)
        return 200, doc

    def show_volume(self, volume_id: str, base: str) -> Answer:
        with self.settled():
            volume = self.volumes.get(volume_id.lower())
            if volume is None:
                return not_found(404, f"Volume {volume_id} could not be found.")
            return 200, {
                "volume": {
                    "id": volume.id,
                    "name": self.volume_name(volume),
                    "status": self.volume_state(volume),
                    "size": volume.size,
                    "availability_zone": volume.availability_zone,
                    "attachments": [],
                    "links": self.volume_links(base, volume.id, bookmark=False),
                }
            }
