"""RFC 6962 / RFC 9162 conformance: the transparency-dev/merkle test vectors (see vectors/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger.audit.merkle import MemoryTree, ProofError, hash_leaf, verify_consistency, verify_inclusion

VECTORS = Path(__file__).parent / "vectors" / "rfc6962"
VECTOR_FILES = sorted(VECTORS.rglob("*.json"))

LEAF_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_all_vector_files_are_present() -> None:
    assert len(VECTOR_FILES) == 196


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [b64(item) for item in case["proof"] or []]
    if "leafIdx" in case:

        def run() -> None:
            verify_inclusion(
                case["leafIdx"], case["treeSize"], b64(case["leafHash"]), proof, b64(case["root"])
            )
    else:

        def run() -> None:
            verify_consistency(case["size1"], case["size2"], proof, b64(case["root1"]), b64(case["root2"]))

    if case["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


def test_roots_of_the_eight_leaf_tree() -> None:
    tree = MemoryTree()
    assert tree.root().hex() == ROOTS[0]
    for size, leaf in enumerate(LEAF_INPUTS, start=1):
        tree.append(hash_leaf(bytes.fromhex(leaf)))
        assert tree.root().hex() == ROOTS[size]
    assert [tree.root(size).hex() for size in range(9)] == ROOTS
