"""The cycle's operations against `responses`: what is sent, what is looked up, and what is cleaned up."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses import matchers

from tests.conftest import VOLUME
from vbscli import cycle, deletion, polling, preview, restore, snapshots
from vbscli.auth import TokenAuth
from vbscli.backups import BackupSpec
from vbscli.client import Client
from vbscli.errors import BackupFailed, NetworkError, ServiceError, WaitTimeout
from vbscli.iam import PasswordAuth
from vbscli.polling import WaitPolicy

ENDPOINT = "https://evs.test.example"
BASE = f"{ENDPOINT}/v3/p1"
SID = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
BID = "bb089eba-6b38-41c8-85a4-2b94fad7d570"
OTHER = "bb089eba-6b38-41c8-85a4-2b94fad7d571"
FAST = {"sleep": lambda seconds: None}
LOST = requests.exceptions.ReadTimeout()  # sent, and no answer: it may have been processed


@pytest.fixture
def client():
    c = Client(ENDPOINT, "p1", TokenAuth("t"))
    yield c
    c.close()


def snap(status="available", **extra):
    return {"snapshot": {"id": SID, "status": status, "volume_id": VOLUME, **extra}}


def test_the_snapshot_body_marks_it_as_vbs_and_sends_force_only_when_true():
    plain = snapshots.SnapshotSpec(VOLUME, "nightly-20261128", token="ab12cd34").body()
    assert plain == {
        "snapshot": {
            "volume_id": VOLUME,
            "name": "vbs-for-nightly-20261128",
            "description": "made by vbs for backup nightly-20261128",
            "metadata": {"created_by": "vbs", "vbs_backup": "nightly-20261128", "vbs_request": "ab12cd34"},
        }
    }
    assert snapshots.SnapshotSpec(VOLUME, "n", force=True).body()["snapshot"]["force"] is True
    long = snapshots.SnapshotSpec(VOLUME, "x" * 64)
    assert len(long.name) == 64 and not long.name.startswith(snapshots.RESERVED_PREFIX)


@responses.activate
def test_a_lost_snapshot_answer_is_found_by_its_token_among_look_alikes(client):
    spec = snapshots.SnapshotSpec(VOLUME, "nightly", token="feedbeef")
    responses.post(f"{BASE}/snapshots", body=LOST)
    lookalike = {"id": OTHER, "name": spec.name, "volume_id": VOLUME, "status": "available"}
    responses.get(
        f"{BASE}/snapshots/detail",
        json={
            "snapshots": [
                {**lookalike, "metadata": {"created_by": "vbs", "vbs_request": "00000000"}},  # an earlier run's
                {**lookalike, "id": SID, "metadata": {"created_by": "someone", "vbs_request": "feedbeef"}},
                {**lookalike, "id": SID, "volume_id": "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4aff"},  # another disk
                {**lookalike, "id": BID, "metadata": {"created_by": "vbs", "vbs_request": "feedbeef"}},
            ]
        },
        match=[matchers.query_param_matcher({"volume_id": VOLUME, "limit": "200"})],
    )
    lines = []
    found = snapshots.create(client, spec, notify=lines.append)
    assert found["snapshot"]["id"] == BID
    assert len(responses.calls) == 2 and f"but snapshot {BID} was made: reporting it" in lines[0]


@responses.activate
def test_a_snapshot_that_is_still_in_use_is_deleted_once_it_is_free(client):
    responses.delete(f"{BASE}/snapshots/{SID}", status=400, json={"badRequest": {"code": 400, "message": "busy"}})
    responses.get(f"{BASE}/snapshots/{SID}", json=snap("backing-up"))
    responses.get(f"{BASE}/snapshots/{SID}", json=snap("available"))
    responses.delete(f"{BASE}/snapshots/{SID}", status=202)
    snapshots.remove(client, SID, WaitPolicy(timeout=60), **FAST)
    assert [c.request.method for c in responses.calls] == ["DELETE", "GET", "GET", "DELETE"]


@responses.activate
def test_a_lost_delete_answer_counts_as_done_when_the_backup_is_going_or_gone(client):
    responses.delete(f"{BASE}/backups/{BID}", body=LOST)
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "deleting"}})
    deletion.delete(client, BID)
    assert [c.request.method for c in responses.calls] == ["DELETE", "GET"]


@responses.activate
def test_a_lost_delete_answer_of_a_backup_still_there_is_sent_again(client):
    from vbscli.retry import RetryPolicy

    client.retry = RetryPolicy(max_attempts=2, sleep=lambda s: None)
    responses.delete(f"{BASE}/backups/{BID}", body=LOST)
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "available"}})
    responses.delete(f"{BASE}/backups/{BID}", status=202)
    deletion.delete(client, BID)
    assert [c.request.method for c in responses.calls] == ["DELETE", "GET", "DELETE"]


@responses.activate
def test_waiting_for_a_deletion_that_stops_is_a_failure(client):
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "deleting"}})
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "error", "fail_reason": "disk"}})
    with pytest.raises(deletion.DeleteFailed, match="was not deleted: it is error \\(disk\\)") as caught:
        deletion.wait_gone(client, BID, WaitPolicy(timeout=60), **FAST)
    assert caught.value.exit_code == 6


def test_deletions_wait_for_their_dependents_and_skip_when_one_fails(client):
    order, gone = [], []

    def work(item: str) -> str:
        order.append(item)
        if item == "c2":
            raise ServiceError(status=400, message="refused")
        return "deleting"

    outcomes = deletion.run_all(
        client,
        ["a1", "a2", "a3", "c1", "c2"],
        work,
        parallel=4,
        after={"a1": ["a2"], "a2": ["a3"], "c1": ["c2"]},
        settle=gone.append,
    )
    assert order.index("a3") < order.index("a2") < order.index("a1") and "c1" not in order
    assert gone == ["a3", "a2"] or sorted(gone) == ["a2", "a3"]
    results = {o.id: (o.result, o.exit_code) for o in outcomes}
    assert results == {
        "a1": ("deleting", 0),
        "a2": ("deleted", 0),
        "a3": ("deleted", 0),
        "c1": ("failed", 1),
        "c2": ("failed", 1),
    }
    assert outcomes[3].error["code"] == "DependentNotDeleted" and deletion.exit_code(outcomes) == 1


def test_polling_gives_up_at_the_timeout_and_goes_on_through_failed_polls():
    ticks = iter(range(0, 1000, 10))
    answers = iter([ServiceError(status=503, message="later"), (False, None, "creating"), (False, None, "creating")])

    def look():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(WaitTimeout, match="thing is still creating after 20 s"):
        polling.until(look, WaitPolicy(timeout=15), what="thing", check="x", clock=lambda: next(ticks), **FAST)


@responses.activate
def test_restore_sends_the_target_and_waits_for_backup_and_disk(client):
    responses.post(
        f"{BASE}/backups/{BID}/restore",
        status=202,
        json={"restore": {"backup_id": BID, "volume_id": VOLUME, "volume_name": None}},
        match=[matchers.json_params_matcher({"restore": {"volume_id": VOLUME}}, strict_match=True)],
    )
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "restoring"}})
    responses.get(f"{BASE}/volumes/{VOLUME}", json={"volume": {"id": VOLUME, "status": "restoring-backup"}})
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "available"}})
    responses.get(f"{BASE}/volumes/{VOLUME}", json={"volume": {"id": VOLUME, "status": "available"}})
    spec = restore.RestoreSpec(BID, VOLUME)
    assert restore.restore(client, spec)["restore"]["volume_id"] == VOLUME
    volume = restore.wait_restored(client, BID, VOLUME, WaitPolicy(timeout=60), **FAST)
    assert volume["volume"]["status"] == "available"
    assert restore.RestoreSpec(BID, new_volume_name="copy").body() == {"restore": {"name": "copy"}}


@responses.activate
def test_a_lost_restore_answer_into_a_new_volume_is_never_repeated(client):
    responses.post(f"{BASE}/backups/{BID}/restore", body=LOST)
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "available"}})
    with pytest.raises(NetworkError) as caught:
        restore.restore(client, restore.RestoreSpec(BID, new_volume_name="copy"))
    assert "a restore into a new volume may be done already" in caught.value.message
    assert caught.value.hint.startswith("before trying again, check for a new volume named 'copy'")
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1


@responses.activate
def test_a_backup_that_fails_takes_its_fresh_snapshot_with_it(client):
    responses.post(f"{BASE}/snapshots", status=202, json=snap("creating"))
    responses.get(f"{BASE}/snapshots/{SID}", json=snap("available"))
    responses.post(
        f"{BASE}/backups",
        status=202,
        json={"backup": {"id": BID, "name": "n", "links": []}},
        match=[matchers.json_params_matcher({"backup": {"volume_id": VOLUME, "snapshot_id": SID, "name": "n"}})],
    )
    responses.get(f"{BASE}/backups/{BID}", json={"backup": {"id": BID, "status": "error", "fail_reason": "I/O"}})
    responses.delete(f"{BASE}/snapshots/{SID}", status=202)
    with pytest.raises(BackupFailed, match="I/O"):
        cycle.backup(client, BackupSpec(VOLUME, None, "n"), WaitPolicy(timeout=60))
    assert responses.calls[-1].request.method == "DELETE"


@responses.activate
def test_a_refused_backup_removes_its_snapshot_but_an_unanswered_one_keeps_it(client):
    responses.post(f"{BASE}/snapshots", status=202, json=snap("available"))
    responses.get(f"{BASE}/snapshots/{SID}", json=snap("available"))
    responses.post(f"{BASE}/backups", status=400, json={"badRequest": {"code": "VolumeBackup.0012", "message": "no"}})
    responses.delete(f"{BASE}/snapshots/{SID}", status=202)
    with pytest.raises(ServiceError):
        cycle.backup(client, BackupSpec(VOLUME, None, "n"))
    assert responses.calls[-1].request.method == "DELETE"

    responses.reset()
    responses.post(f"{BASE}/snapshots", status=202, json=snap("available"))
    responses.get(f"{BASE}/snapshots/{SID}", json=snap("available"))
    responses.post(f"{BASE}/backups", status=502, json={"computeFault": {"code": 502, "message": "gateway"}})
    responses.get(f"{BASE}/backups/detail", json={"backups": []})
    with pytest.raises(ServiceError) as caught:
        cycle.backup(client, BackupSpec(VOLUME, None, "n"))
    assert f"snapshot {SID} stays until 'vbs backup prune' removes it" in caught.value.one_line()
    assert all(c.request.method != "DELETE" for c in responses.calls)


def test_a_dry_run_with_a_password_login_shows_a_placeholder_and_never_logs_in():
    def login(url, body):
        raise AssertionError("a dry run logged in")

    auth = PasswordAuth(
        {"auth_url": "https://iam.example/v3", "username": "u", "password": "p", "domain": "d", "project_name": "pn"},
        login=login,
        cache=None,
    )
    client = Client(ENDPOINT, "", auth)
    call = preview.prepare(client, "DELETE", f"/backups/{BID}")
    assert call.url == f"{ENDPOINT}/v3/{{project_id}}/backups/{BID}"
    assert call.headers["X-Auth-Token"] == preview.TOKEN_PLACEHOLDER
    assert json.dumps(call.headers).count("<token") == 1


def test_a_failing_report_of_one_outcome_ends_the_run_instead_of_hanging(client):
    def broken(outcome):
        raise BrokenPipeError("stderr is gone")

    with pytest.raises(BrokenPipeError):
        deletion.run_all(client, ["a", "b"], lambda item: "deleting", parallel=2, on_done=broken)


def test_nothing_to_run_returns_at_once_and_a_circle_is_refused(client):
    assert deletion.run_all(client, [], lambda item: "deleting", parallel=2) == []
    with pytest.raises(ValueError, match="cycle"):
        deletion.run_all(client, ["a", "b", "c"], lambda item: "deleting", parallel=2, after={"a": ["b"], "b": ["a"]})


def test_deletions_throttled_together_halve_the_concurrency_once(monkeypatch):
    """Four deletions sent together and throttled together (the service answers them only once all
    four have arrived) are one signal, one round trip: the limit halves once, as a fleet run's creates
    and a report's listings do, not four times."""
    import threading

    from tests.test_history import Rendezvous
    from vbscli import batch
    from vbscli.retry import RetryPolicy

    halvings: list[bool] = []
    limits: list[float] = []

    class Recording(batch.Limiter):
        def throttled(self, ticket=None):
            halved = super().throttled(ticket)
            halvings.append(halved)
            limits.append(self.limit)
            return halved

    monkeypatch.setattr(batch, "Limiter", Recording)
    ids = [f"bb089eba-6b38-41c8-85a4-2b94fad7d57{n}" for n in range(4)]
    answers: list[int] = []
    lock = threading.Lock()
    with Rendezvous(parties=4) as service:

        def do_delete(handler):
            with lock:
                together = len(answers) < 4
                answers.append(429 if together else 202)
            body = b""
            if together:
                try:
                    service.barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                body = b'{"error_code": "APIGW.0308", "error_msg": "throttled"}'
            handler.send_response(429 if together else 202)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        service.server.RequestHandlerClass.do_DELETE = do_delete
        client = service.client(pool=4)
        client.retry = RetryPolicy(max_attempts=2, sleep=lambda seconds: None)
        try:
            outcomes = deletion.delete_many(client, ids, parallel=4)
        finally:
            client.close()
    assert [o.result for o in outcomes] == ["deleting"] * 4
    assert sorted(answers) == [202] * 4 + [429] * 4
    assert sorted(halvings) == [False, False, False, True] and min(limits) == 2  # 4 halved once, not to 1


@responses.activate
def test_an_accepted_snapshot_whose_answer_cannot_be_read_and_is_not_found_is_never_sent_again(client):
    from vbscli.errors import BadResponseError

    spec = snapshots.SnapshotSpec(VOLUME, "nightly", token="feedbeef")
    responses.post(f"{BASE}/snapshots", status=202, body="<html>accepted</html>")
    responses.get(f"{BASE}/snapshots/detail", json={"snapshots": []})
    with pytest.raises(BadResponseError) as caught:
        snapshots.create(client, spec)
    assert caught.value.hint.startswith("snapshot 'vbs-for-nightly' may exist; before trying again, check")
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]


def test_a_bug_met_by_one_deletion_is_an_internal_error_without_secrets_and_the_others_go_on(client):
    from vbscli import redact

    redact.remember("sk-BUG-secret")

    def work(item: str) -> str:
        if item == "b":
            raise RuntimeError("broken by sk-BUG-secret")
        return "deleting"

    outcomes = deletion.run_all(client, ["a", "b", "c"], work, 2)
    assert [o.result for o in outcomes] == ["deleting", "failed", "deleting"]
    assert outcomes[1].exit_code == 70 and outcomes[1].error == {
        "status": None,
        "code": "InternalError",
        "message": "unexpected RuntimeError: broken by <redacted> (a bug in vbs)",
        "request_id": None,
    }


def test_every_error_code_vbs_can_give_is_in_the_readmes_table():
    import re
    from pathlib import Path

    import vbscli.cli.confirm  # noqa: F401 - defines Declined
    from vbscli.errors import ServiceError, VbsError

    def kinds(cls: type) -> set[str]:
        found = set()
        for sub in cls.__subclasses__():
            if sub is not ServiceError:  # a service error carries the service's code
                found |= {sub.kind} | kinds(sub)
        return found

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("| `code` | Exit | Meaning |", 1)[1].split("\n\n", 1)[0]  # the table of codes
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {code for row in rows for code in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert kinds(VbsError) | {"InternalError", "DependentNotDeleted"} <= documented
