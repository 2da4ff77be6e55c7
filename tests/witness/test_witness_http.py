"""The witness's HTTP API, in process: every answer of C2SP tlog-witness ``add-checkpoint``.

The log here is an in-memory Merkle tree signed with a test key: the witness sees only HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from werkzeug.test import Client, TestResponse

from ledger.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.audit.cosignature import Cosigner, check_cosignatures
from ledger.audit.merkle import MemoryTree
from ledger.audit.note import NoteSigner, generate_signer, split_note
from ledger.witness.server import Witness, WitnessApp
from ledger.witness.state import WitnessState

ORIGIN = "grants.example.org/audit-log"
SIZE_TYPE = "text/x.tlog.size"


class Log:
    """A log the test controls: leaves, signed checkpoints, consistency proofs."""

    def __init__(self, signer: NoteSigner, variant: str = "") -> None:
        self.signer = signer
        self.variant = variant
        self.tree = MemoryTree()

    def grow_to(self, size: int) -> Log:
        while self.tree.size < size:
            self.tree.append(hashlib.sha256(f"{self.variant}{self.tree.size}".encode()).digest())
        return self

    def note(self, size: int) -> str:
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.tree.root(size)), self.signer)

    def request(self, old: int, size: int, proof: list[bytes] | None = None) -> bytes:
        if proof is None:
            proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return f"old {old}\n{lines}\n{self.note(size)}".encode()


@pytest.fixture
def log_signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture
def cosigner() -> Cosigner:
    return Cosigner.generate("witness.example.org/w1")


@pytest.fixture
def state(tmp_path: Path, log_signer: NoteSigner) -> WitnessState:
    state = WitnessState.create(tmp_path / "witness.sqlite3")
    state.add_log_key(log_signer.vkey)
    return state


@pytest.fixture
def client(state: WitnessState, cosigner: Cosigner) -> Client:
    return Client(WitnessApp(Witness(state, cosigner, clock=lambda: 1_900_000_000.5)))


@pytest.fixture
def log(log_signer: NoteSigner) -> Log:
    return Log(log_signer).grow_to(40)


def add(client: Client, body: bytes) -> TestResponse:
    return client.post("/add-checkpoint", data=body)


def test_first_checkpoint_is_cosigned_and_served(
    client: Client, log: Log, cosigner: Cosigner, log_signer: NoteSigner
) -> None:
    response = add(client, log.request(0, 10))
    assert response.status_code == 200
    line = response.get_data(as_text=True)
    assert line.startswith(f"— {cosigner.name} ")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    # The client may append the answer to its note and verify with the witness key.
    found = check_cosignatures(log.note(10) + line, [cosigner.verifier])
    assert [c.timestamp for c in found.valid] == [1_900_000_000]
    latest = client.get("/checkpoint", query_string={"origin": ORIGIN})
    assert latest.status_code == 200
    assert latest.mimetype == "text/plain"
    served = latest.get_data(as_text=True)
    assert open_checkpoint(served, [log_signer.verifier])[0].size == 10
    assert len(check_cosignatures(served, [cosigner.verifier]).valid) == 1
    assert client.get("/key").get_data(as_text=True) == cosigner.vkey + "\n"


def test_growing_checkpoints_are_cosigned_with_consistency_proofs(client: Client, log: Log) -> None:
    assert add(client, log.request(0, 3)).status_code == 200
    assert add(client, log.request(3, 8)).status_code == 200
    assert add(client, log.request(8, 40)).status_code == 200
    # The same checkpoint again (old size = its size, empty proof) is cosigned again.
    assert add(client, log.request(40, 40)).status_code == 200
    served = client.get("/checkpoint", query_string={"origin": ORIGIN}).get_data(as_text=True)
    assert split_note(served)[0].splitlines()[1] == "40"


def test_a_stale_old_size_gets_409_with_the_cosigned_size(client: Client, log: Log) -> None:
    assert add(client, log.request(0, 10)).status_code == 200
    for old in (0, 5):
        response = add(client, log.request(old, 20))
        assert response.status_code == 409
        assert response.headers["Content-Type"] == SIZE_TYPE
        assert response.get_data() == b"10\n"
    assert add(client, log.request(10, 20)).status_code == 200


def test_a_forked_log_at_a_larger_size_gets_422_and_is_not_cosigned(
    client: Client, log: Log, log_signer: NoteSigner, state: WitnessState
) -> None:
    assert add(client, log.request(0, 10)).status_code == 200
    fork = Log(log_signer, variant="fork").grow_to(30)  # same origin and key, other history
    response = add(client, fork.request(10, 30))  # a proof that is consistent only within the fork
    assert response.status_code == 422
    served = client.get("/checkpoint", query_string={"origin": ORIGIN}).get_data(as_text=True)
    assert split_note(served)[0].splitlines()[1] == "10"
    assert [(old, size, status) for old, size, status, _ in state.refusals(ORIGIN)] == [(10, 30, 422)]
    # The real log continues to be cosigned.
    assert add(client, log.request(10, 30)).status_code == 200


def test_another_root_at_the_cosigned_size_gets_409(client: Client, log: Log, log_signer: NoteSigner) -> None:
    assert add(client, log.request(0, 10)).status_code == 200
    fork = Log(log_signer, variant="fork").grow_to(10)
    response = add(client, fork.request(10, 10))
    assert response.status_code == 409
    assert response.get_data() == b"10\n"


def test_a_wrong_proof_gets_422(client: Client, log: Log) -> None:
    assert add(client, log.request(0, 10)).status_code == 200
    proof = log.tree.consistency_proof(10, 20)
    assert add(client, log.request(10, 20, proof[:-1])).status_code == 422
    assert add(client, log.request(10, 20, [bytes(32)] * len(proof))).status_code == 422
    assert add(client, log.request(10, 10, [bytes(32)])).status_code == 422


def test_an_unknown_origin_gets_404(client: Client) -> None:
    other = Log(generate_signer("other.example.org/log")).grow_to(4)
    body = (
        f"old 0\n\n{sign_checkpoint(Checkpoint('other.example.org/log', 4, other.tree.root()), other.signer)}"
    )
    assert add(client, body.encode()).status_code == 404


def test_a_checkpoint_not_signed_by_the_trusted_key_gets_403(client: Client) -> None:
    impostor = Log(generate_signer(ORIGIN)).grow_to(4)  # right origin, another key
    assert add(client, impostor.request(0, 4)).status_code == 403


def test_a_bad_signature_by_the_trusted_key_gets_403(client: Client, log: Log) -> None:
    body = log.request(0, 4).decode()
    text, signature = body.rsplit(" ", 1)
    flipped = base64.b64decode(signature)
    flipped = flipped[:-1] + bytes([flipped[-1] ^ 1])
    assert add(client, f"{text} {base64.b64encode(flipped).decode()}\n".encode()).status_code == 403


def _malformed(log: Log) -> dict[str, bytes]:
    good = log.request(10, 20).decode()
    note = log.note(20)
    proof = "".join(base64.b64encode(h).decode() + "\n" for h in log.tree.consistency_proof(10, 20))
    zero_line = base64.b64encode(bytes(32)).decode() + "\n"
    return {
        "no-old-line": f"\n{note}".encode(),
        "leading-zero": good.replace("old 10\n", "old 010\n").encode(),
        "old-spelled-wrong": good.replace("old 10\n", "Old 10\n").encode(),
        "proof-not-base64": f"old 10\n!!!!\n\n{note}".encode(),
        "proof-not-32-bytes": f"old 10\nAAAA\n\n{note}".encode(),
        "64-proof-lines": f"old 10\n{zero_line * 64}\n{note}".encode(),
        "no-empty-line": f"old 10\n{proof}".encode(),
        "note-without-signature": f"old 10\n{proof}\n{split_note(note)[0]}".encode(),
        "not-a-checkpoint": b"old 0\n\n" + log.signer.sign("hello\n").encode(),
        "not-utf8": b"old 0\n\n\xff\n",
        "old-larger-than-size": log.request(30, 20, []),
        "proof-with-old-0": log.request(0, 20, [bytes(32)]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no-old-line",
        "leading-zero",
        "old-spelled-wrong",
        "proof-not-base64",
        "proof-not-32-bytes",
        "64-proof-lines",
        "no-empty-line",
        "note-without-signature",
        "not-a-checkpoint",
        "not-utf8",
        "old-larger-than-size",
        "proof-with-old-0",
    ],
)
def test_malformed_requests_get_400(client: Client, log: Log, case: str) -> None:
    assert add(client, log.request(0, 10)).status_code == 200
    response = add(client, _malformed(log)[case])
    assert response.status_code == 400, response.get_data(as_text=True)
    served = client.get("/checkpoint", query_string={"origin": ORIGIN}).get_data(as_text=True)
    assert split_note(served)[0].splitlines()[1] == "10"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/add-checkpoint", 405),
        ("POST", "/checkpoint", 405),
        ("GET", "/nothing", 404),
        ("GET", "/checkpoint", 400),
        ("GET", f"/checkpoint?origin={ORIGIN}", 404),
    ],
)
def test_other_requests(client: Client, method: str, path: str, status: int) -> None:
    assert client.open(path, method=method).status_code == status


def test_the_check_and_the_update_are_one_transaction(
    state: WitnessState, cosigner: Cosigner, log: Log, tmp_path: Path
) -> None:
    """A request that finds the database locked waits; it never acts on a size it read before."""
    witness = Witness(state, cosigner)
    assert witness.add_checkpoint(log.request(0, 10)).status == 200
    blocker = sqlite3.connect(state.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("UPDATE witness_checkpoint SET size = 12")  # as if a concurrent request won
    results: list[int] = []

    def run() -> None:
        results.append(witness.add_checkpoint(log.request(10, 20)).status)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive()  # waiting for the lock
    blocker.execute("COMMIT")
    blocker.close()
    thread.join(10)
    assert results == [409]


def test_an_oversized_body_gets_413(client: Client) -> None:
    assert add(client, b"old 0\n" + b"A" * (2 * 1024 * 1024)).status_code == 413
