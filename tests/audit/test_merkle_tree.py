"""Reader-based Merkle computations against a naive RFC 6962 reference, for every size 1..64."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import pytest

from ledger.audit import merkle
from ledger.audit.merkle import (
    MemoryTree,
    MerkleFrontier,
    MissingNodeError,
    NodeKey,
    ProofError,
    consistency_proof,
    consistency_proof_from_nodes,
    consistency_proof_keys,
    hash_children,
    hash_leaf,
    inclusion_proof,
    inclusion_proof_from_nodes,
    inclusion_proof_keys,
    leaf_hashes,
    nodes_completed_by_append,
    peaks_of,
    perfect_levels,
    root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 64
LEAVES = tuple(hash_leaf(f"leaf {i}".encode()) for i in range(MAX_SIZE))


# --- naive reference: RFC 6962 section 2.1, recursion over leaf lists ---------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def naive_root(start: int, end: int) -> bytes:
    """MTH(D[start:end])."""
    if end - start == 0:
        return merkle.EMPTY_ROOT
    if end - start == 1:
        return LEAVES[start]
    k = _split(end - start)
    return hash_children(naive_root(start, start + k), naive_root(start + k, end))


def naive_path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]), m relative to start."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*naive_path(m, start, start + k), naive_root(start + k, end)]
    return [*naive_path(m - k, start + k, end), naive_root(start, start + k)]


def naive_subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b)."""
    n = end - start
    if m == n:
        return [] if complete else [naive_root(start, end)]
    k = _split(n)
    if m <= k:
        return [*naive_subproof(m, start, start + k, complete), naive_root(start + k, end)]
    return [*naive_subproof(m - k, start + k, end, False), naive_root(start, start + k)]


# --- readers that count what they are asked for -----------------------------


class CountingReader:
    """Serves the perfect nodes of a tree of ``size`` leaves, and only those."""

    def __init__(self, tree: MemoryTree, size: int) -> None:
        self.tree = tree
        self.size = size
        self.reads = 0

    def perfect_node(self, level: int, index: int) -> bytes:
        # A node beyond the tree size would not exist yet on the server.
        assert (index + 1) << level <= self.size, f"read ({level}, {index}) beyond size {self.size}"
        self.reads += 1
        return self.tree.perfect_node(level, index)


class CountingBatchReader(CountingReader):
    def __init__(self, tree: MemoryTree, size: int) -> None:
        super().__init__(tree, size)
        self.batches = 0

    def perfect_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.batches += 1
        return {(level, index): self.perfect_node(level, index) for level, index in keys}


def read_bound(size: int) -> int:
    return 2 * math.ceil(math.log2(size)) + 2 if size > 1 else 2


@pytest.fixture(scope="module")
def full_tree() -> MemoryTree:
    return MemoryTree(LEAVES)


SIZES = range(1, MAX_SIZE + 1)


@pytest.mark.parametrize("size", SIZES)
def test_roots(full_tree: MemoryTree, size: int) -> None:
    reader = CountingReader(full_tree, size)
    assert root(size, reader) == naive_root(0, size)
    assert reader.reads == size.bit_count()  # one perfect piece per set bit
    assert MemoryTree(LEAVES[:size]).root() == naive_root(0, size)


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs(full_tree: MemoryTree, size: int) -> None:
    tree_root = naive_root(0, size)
    for index in range(size):
        reader = CountingReader(full_tree, size)
        proof = inclusion_proof(index, size, reader)
        assert proof == naive_path(index, 0, size)
        assert reader.reads <= read_bound(size)
        verify_inclusion(index, size, LEAVES[index], proof, tree_root)


@pytest.mark.parametrize("size2", SIZES)
def test_consistency_proofs(full_tree: MemoryTree, size2: int) -> None:
    root2 = naive_root(0, size2)
    for size1 in range(1, size2 + 1):
        reader = CountingReader(full_tree, size2)
        proof = consistency_proof(size1, size2, reader)
        assert proof == naive_subproof(size1, 0, size2, True)
        assert reader.reads <= read_bound(size2)
        verify_consistency(size1, size2, proof, naive_root(0, size1), root2)


@pytest.mark.parametrize("size", [1, 2, 7, 13, 32, 63])
def test_batch_readers_get_one_query_per_computation(full_tree: MemoryTree, size: int) -> None:
    for index in range(size):
        reader = CountingBatchReader(full_tree, size)
        assert inclusion_proof(index, size, reader) == naive_path(index, 0, size)
        assert reader.batches == (1 if size > 1 else 0)
    reader = CountingBatchReader(full_tree, size)
    root(size, reader)
    assert reader.batches == 1


def test_keys_then_compute_matches_reader_functions(full_tree: MemoryTree) -> None:
    size = 45
    keys = inclusion_proof_keys(17, size)
    nodes = full_tree.perfect_nodes(keys)
    assert inclusion_proof_from_nodes(17, size, nodes) == naive_path(17, 0, size)
    keys = consistency_proof_keys(11, size)
    nodes = full_tree.perfect_nodes(keys)
    assert consistency_proof_from_nodes(11, size, nodes) == naive_subproof(11, 0, size, True)
    with pytest.raises(MissingNodeError):
        inclusion_proof_from_nodes(17, size, {})


def test_append_completes_exactly_the_perfect_nodes() -> None:
    stored: dict[NodeKey, bytes] = {}

    class DictReader:
        def perfect_node(self, level: int, index: int) -> bytes:
            return stored[(level, index)]

    for index, leaf in enumerate(LEAVES):
        completed = nodes_completed_by_append(index, leaf, DictReader())
        assert completed[0] == (0, index, leaf)
        for level, node_index, digest in completed:
            start = node_index << level
            assert digest == naive_root(start, start + (1 << level))
            stored[(level, node_index)] = digest
    expected = {(level, i) for level in range(7) for i in range(MAX_SIZE >> level)}
    assert set(stored) == expected


def test_memory_tree_appends_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = merkle.hash_children

    def counting(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(left, right)

    monkeypatch.setattr(merkle, "hash_children", counting)
    size = 5000
    tree = MemoryTree(hash_leaf(i.to_bytes(4, "big")) for i in range(size))
    # Every interior perfect node is hashed exactly once: n - popcount(n) of them.
    assert calls == size - size.bit_count()
    assert tree.size == size


def test_frontier_matches_tree_at_every_size() -> None:
    frontier = MerkleFrontier()
    assert frontier.root() == merkle.EMPTY_ROOT
    for size, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf)
        assert frontier.size == size
        assert frontier.root() == naive_root(0, size)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 37, MAX_SIZE])
def test_levels_of_a_block_give_the_frontier_at_every_size(count: int) -> None:
    """A block of leaves hashed a level at a time has, at every size inside it, the peaks the
    frontier reaches leaf by leaf, and the frontier's peaks fold to the naive root."""
    levels = perfect_levels(LEAVES[:count])
    frontier = MerkleFrontier()
    assert peaks_of(levels, 0) == ()
    for size, leaf in enumerate(LEAVES[:count], start=1):
        frontier.append(leaf)
        assert peaks_of(levels, size) == frontier.peaks
        assert MerkleFrontier.from_peaks(size, peaks_of(levels, size)).root() == naive_root(0, size)
    with pytest.raises(ValueError, match="outside"):
        peaks_of(levels, count + 1)


def test_leaf_hashes_are_each_items_leaf_hash() -> None:
    items = [b"", b"a", "账".encode()]
    assert leaf_hashes(items) == [hash_leaf(item) for item in items]


def test_memory_tree_proof_helpers(full_tree: MemoryTree) -> None:
    assert full_tree.size == MAX_SIZE
    assert full_tree.inclusion_proof(5) == naive_path(5, 0, MAX_SIZE)
    assert full_tree.consistency_proof(9, 20) == naive_subproof(9, 0, 20, True)
    with pytest.raises(ValueError, match="outside"):
        full_tree.root(MAX_SIZE + 1)
    with pytest.raises(MissingNodeError):
        full_tree.perfect_node(7, 0)


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        (inclusion_proof_keys, (5, 5)),
        (inclusion_proof_keys, (0, 0)),
        (inclusion_proof_keys, (-1, 5)),
        (consistency_proof_keys, (0, 5)),
        (consistency_proof_keys, (6, 5)),
    ],
)
def test_proof_requests_outside_the_tree_are_refused(function: object, arguments: tuple[int, int]) -> None:
    assert callable(function)
    with pytest.raises(ValueError, match=r"must|below|needs"):
        function(*arguments)


def test_equal_sizes_have_an_empty_consistency_proof(full_tree: MemoryTree) -> None:
    assert consistency_proof(9, 9, CountingReader(full_tree, 9)) == []
    verify_consistency(9, 9, [], naive_root(0, 9), naive_root(0, 9))


@pytest.mark.parametrize("size", [2, 5, 8, 13, 64])
def test_every_altered_proof_is_rejected(size: int) -> None:
    tree = MemoryTree(LEAVES[:size])
    tree_root = tree.root()
    index = size // 2
    proof = tree.inclusion_proof(index)
    for position in range(len(proof)):
        altered = list(proof)
        altered[position] = bytes([altered[position][0] ^ 1]) + altered[position][1:]
        with pytest.raises(ProofError):
            verify_inclusion(index, size, LEAVES[index], altered, tree_root)
    with pytest.raises(ProofError, match="needs"):
        verify_inclusion(index, size, LEAVES[index], [*proof, proof[0]], tree_root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, hash_leaf(b"not in the tree"), proof, tree_root)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(index, size, LEAVES[index][:31], proof, tree_root)
    old = size // 2 or 1
    if old < size:
        proof = tree.consistency_proof(old)
        for position in range(len(proof)):
            altered = list(proof)
            altered[position] = bytes([altered[position][0] ^ 1]) + altered[position][1:]
            with pytest.raises(ProofError):
                verify_consistency(old, size, altered, tree.root(old), tree_root)
        with pytest.raises(ProofError):
            verify_consistency(old, size, proof, tree.root(old), tree.root(old))
