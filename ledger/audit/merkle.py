"""RFC 6962 / RFC 9162 Merkle tree over the audit log's leaf hashes.

The audit log is a Merkle tree in the shape RFC 6962 defines: the tree over
``n`` leaves splits at the largest power of two smaller than ``n``, the left
part is a *perfect* subtree and the right part is whatever remains. Hashes are
domain-separated so a leaf can never be mistaken for an interior node::

    leaf  = SHA-256(0x00 || data)
    node  = SHA-256(0x01 || left || right)
    empty = SHA-256("")

**Perfect nodes.** The server stores, for every level ``L`` and index ``i``
that is complete, the hash of the perfect, aligned subtree over leaves
``[i * 2**L, (i + 1) * 2**L)``. Level 0 is the leaf hash itself. Perfect nodes
never change once written, so they can live in an append-only table. Every
node of every RFC 6962 tree is either such a perfect node or a *tail*: a
range ``[a, n)`` on the right edge of the tree, whose hash folds from the
perfect pieces of the binary decomposition of ``n - a`` (at most
``log2(n)`` of them). That is what lets roots and proofs be computed from
O(log n) stored nodes instead of a pass over every leaf.

Each computation comes in three forms so a database-backed reader can fetch
everything in one query:

* ``*_keys(...)`` lists the ``(level, index)`` perfect nodes needed;
* ``*_from_nodes(..., nodes)`` computes the result from a mapping of them;
* the plain function (``root``, ``inclusion_proof``, ...) does both through a
  :class:`NodeReader`, batching when the reader offers ``perfect_nodes``.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows
RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and needs no reader.
:class:`MerkleFrontier` computes roots while streaming leaves in O(log n)
memory; :class:`MemoryTree` is a complete in-memory reader for tests and the
offline verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
"""A perfect node's address: ``(level, index)``."""

CompletedNode = tuple[int, int, bytes]
"""A perfect node with its hash: ``(level, index, hash)``."""


class ProofError(ValueError):
    """A Merkle proof failed to verify, or its inputs were malformed."""


class MissingNodeError(LookupError):
    """A perfect node needed for a computation was not supplied."""

    def __init__(self, key: NodeKey) -> None:
        level, index = key
        super().__init__(f"perfect node (level={level}, index={index}) is not available")
        self.key = key


def hash_leaf(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


@runtime_checkable
class NodeReader(Protocol):
    """Anything that can return a stored perfect node by level and index."""

    def perfect_node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree over leaves [index*2**level, (index+1)*2**level)."""
        ...


@runtime_checkable
class BatchNodeReader(NodeReader, Protocol):
    """A reader that can also fetch many perfect nodes at once (one query)."""

    def perfect_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Hashes of all the requested perfect nodes, keyed by (level, index)."""
        ...


def read_nodes(reader: NodeReader, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Fetch ``keys`` from ``reader``, in one batch when the reader supports it."""
    if not keys:
        return {}
    if isinstance(reader, BatchNodeReader):
        fetched = reader.perfect_nodes(keys)
        return {key: _lookup(fetched, key) for key in keys}
    return {(level, index): reader.perfect_node(level, index) for level, index in keys}


# --- shape of the tree -------------------------------------------------------


def _split_point(size: int) -> int:
    """Largest power of two strictly smaller than ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def _require_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _require_digest(name: str, value: bytes) -> None:
    """Reject a hash that is not a SHA-256 digest before it is stored or combined."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{name} must be {HASH_SIZE} bytes")


def _range_pieces(start: int, end: int) -> list[NodeKey]:
    """Perfect nodes whose hashes fold into the RFC 6962 hash of leaves [start, end).

    Only ranges that are nodes of some RFC 6962 tree are accepted: a perfect
    aligned range, or a tail whose first piece is aligned (the later pieces are
    then aligned automatically, being smaller powers of two).
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    pieces: list[NodeKey] = []
    position = start
    while position < end:
        level = (end - position).bit_length() - 1
        if position % (1 << level):
            raise ValueError(f"leaf range [{start}, {end}) is not a node of any RFC 6962 tree")
        pieces.append((level, position >> level))
        position += 1 << level
    return pieces


def _fold_pieces(pieces: Sequence[NodeKey], nodes: Mapping[NodeKey, bytes]) -> bytes:
    # A tail [a, n) is node(piece0, node(piece1, ... pieceK)): fold right to left.
    digest = _lookup(nodes, pieces[-1])
    for key in reversed(pieces[:-1]):
        digest = hash_children(_lookup(nodes, key), digest)
    return digest


def _lookup(nodes: Mapping[NodeKey, bytes], key: NodeKey) -> bytes:
    try:
        return nodes[key]
    except KeyError:
        raise MissingNodeError(key) from None


def _unique(keys: Iterable[NodeKey]) -> list[NodeKey]:
    return list(dict.fromkeys(keys))


def _inclusion_ranges(leaf_index: int, tree_size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the RFC 6962 audit path PATH(m, D[n]), leaf side first."""
    _require_size("leaf_index", leaf_index)
    _require_size("tree_size", tree_size)
    if leaf_index >= tree_size:
        raise ValueError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    ranges: list[tuple[int, int]] = []
    low, high = 0, tree_size
    while high - low > 1:
        middle = low + _split_point(high - low)
        if leaf_index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    # The walk runs root-to-leaf; the proof lists siblings leaf-to-root.
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges of the RFC 6962 consistency proof PROOF(m, D[n])."""
    _require_size("size1", size1)
    _require_size("size2", size2)
    if not 0 < size1 <= size2:
        raise ValueError(f"a consistency proof needs 0 < size1 <= size2, got size1={size1}, size2={size2}")
    ranges: list[tuple[int, int]] = []
    low, high = 0, size2
    # SUBPROOF(m, D[low:high], b): b stays true while we only ever descend left,
    # because then the old root itself is a node the verifier already knows.
    old_root_is_known = True
    while size1 != high:
        middle = low + _split_point(high - low)
        if size1 <= middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
            old_root_is_known = False
    if not old_root_is_known:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


# --- keys (what to fetch) ----------------------------------------------------


def root_keys(tree_size: int) -> list[NodeKey]:
    """Perfect nodes needed for the root of a tree of ``tree_size`` leaves."""
    _require_size("tree_size", tree_size)
    return _range_pieces(0, tree_size) if tree_size else []


def inclusion_proof_keys(leaf_index: int, tree_size: int) -> list[NodeKey]:
    """Perfect nodes needed for the inclusion proof of ``leaf_index``."""
    ranges = _inclusion_ranges(leaf_index, tree_size)
    return _unique(key for start, end in ranges for key in _range_pieces(start, end))


def consistency_proof_keys(size1: int, size2: int) -> list[NodeKey]:
    """Perfect nodes needed for the consistency proof from ``size1`` to ``size2``."""
    ranges = _consistency_ranges(size1, size2)
    return _unique(key for start, end in ranges for key in _range_pieces(start, end))


def append_keys(leaf_index: int) -> list[NodeKey]:
    """Perfect nodes (left siblings) needed to complete nodes when appending ``leaf_index``.

    Appending leaf ``i`` completes one node per trailing one-bit of ``i``: at
    each level the new node's left half is an already stored perfect node.
    """
    _require_size("leaf_index", leaf_index)
    keys: list[NodeKey] = []
    level, index = 0, leaf_index
    while index & 1:
        keys.append((level, index - 1))
        level, index = level + 1, index >> 1
    return keys


# --- computations from fetched nodes ----------------------------------------


def root_from_nodes(tree_size: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """Root of a tree of ``tree_size`` leaves from its :func:`root_keys` nodes."""
    keys = root_keys(tree_size)
    return _fold_pieces(keys, nodes) if keys else EMPTY_ROOT


def inclusion_proof_from_nodes(
    leaf_index: int, tree_size: int, nodes: Mapping[NodeKey, bytes]
) -> list[bytes]:
    """RFC 9162 inclusion proof from its :func:`inclusion_proof_keys` nodes."""
    ranges = _inclusion_ranges(leaf_index, tree_size)
    return [_fold_pieces(_range_pieces(start, end), nodes) for start, end in ranges]


def consistency_proof_from_nodes(size1: int, size2: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """RFC 9162 consistency proof from its :func:`consistency_proof_keys` nodes."""
    ranges = _consistency_ranges(size1, size2)
    return [_fold_pieces(_range_pieces(start, end), nodes) for start, end in ranges]


def nodes_completed_from_nodes(
    leaf_index: int, leaf_hash: bytes, nodes: Mapping[NodeKey, bytes]
) -> list[CompletedNode]:
    """Perfect nodes completed by appending ``leaf_index``, leaf first, from its
    :func:`append_keys` nodes."""
    _require_digest("leaf_hash", leaf_hash)
    completed: list[CompletedNode] = [(0, leaf_index, leaf_hash)]
    digest = leaf_hash
    for level, left_index in append_keys(leaf_index):
        digest = hash_children(_lookup(nodes, (level, left_index)), digest)
        completed.append((level + 1, left_index >> 1, digest))
    return completed


# --- through a reader --------------------------------------------------------


def root(tree_size: int, reader: NodeReader) -> bytes:
    """Merkle tree hash of the first ``tree_size`` leaves."""
    return root_from_nodes(tree_size, read_nodes(reader, root_keys(tree_size)))


def inclusion_proof(leaf_index: int, tree_size: int, reader: NodeReader) -> list[bytes]:
    """Audit path for ``leaf_index`` in the tree of ``tree_size`` leaves."""
    nodes = read_nodes(reader, inclusion_proof_keys(leaf_index, tree_size))
    return inclusion_proof_from_nodes(leaf_index, tree_size, nodes)


def consistency_proof(size1: int, size2: int, reader: NodeReader) -> list[bytes]:
    """Consistency proof between the trees of ``size1`` and ``size2`` leaves."""
    nodes = read_nodes(reader, consistency_proof_keys(size1, size2))
    return consistency_proof_from_nodes(size1, size2, nodes)


def nodes_completed_by_append(leaf_index: int, leaf_hash: bytes, reader: NodeReader) -> list[CompletedNode]:
    """Perfect nodes (the leaf itself first) that appending ``leaf_index`` completes."""
    nodes = read_nodes(reader, append_keys(leaf_index))
    return nodes_completed_from_nodes(leaf_index, leaf_hash, nodes)


# --- verification (RFC 9162) -------------------------------------------------


def _require_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes")


def _require_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        if not isinstance(element, bytes) or len(element) != HASH_SIZE:
            raise ProofError(f"proof hash #{position} is not {HASH_SIZE} bytes")


def _inclusion_proof_length(leaf_index: int, tree_size: int) -> int:
    # Hashes below the point where the leaf's path leaves the right edge, plus
    # one per left sibling met on the right edge above it.
    inner = (leaf_index ^ (tree_size - 1)).bit_length()
    border = (leaf_index >> inner).bit_count()
    return inner + border


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree with ``root``.

    RFC 9162 section 2.1.3.2. Raises :class:`ProofError` on any failure.
    """
    if leaf_index < 0 or tree_size < 0:
        raise ProofError("leaf index and tree size must be non-negative")
    if leaf_index >= tree_size:
        raise ProofError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    _require_hash("leaf hash", leaf_hash)
    _require_proof_hashes(proof)
    # The RFC algorithm rejects a proof of the wrong length too; checking first
    # only makes the message say what is wrong.
    expected = _inclusion_proof_length(leaf_index, tree_size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes; leaf {leaf_index} of a tree of "
            f"size {tree_size} needs {expected}"
        )
    fn, sn = leaf_index, tree_size - 1
    computed = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            computed = hash_children(sibling, computed)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            computed = hash_children(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if computed != root:
        raise ProofError("inclusion proof does not lead to the given root")


def _consistency_proof_length(size1: int, size2: int) -> int:
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1
    # When size1 is a power of two the old root is the proof's seed and is not sent.
    seed = 0 if size1 == 1 << shift else 1
    return seed + (inner - shift) + border


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of the tree of
    ``size2`` with ``root2``.

    RFC 9162 section 2.1.4.2 (which requires ``0 < size1 < size2``); equal sizes
    need an empty proof and equal roots. Raises :class:`ProofError` on failure.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError("tree sizes must be non-negative")
    if size1 > size2:
        raise ProofError(f"size1 ({size1}) is larger than size2 ({size2})")
    if size1 == 0:
        # RFC 9162 defines no proof from the empty tree: it would prove nothing.
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different roots")
        return
    _require_proof_hashes(proof)
    expected = _consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof has {len(proof)} hashes; sizes {size1} -> {size2} need {expected}"
        )
    # Step 1: an empty path fails (already excluded by the length check).
    path = list(proof)
    # Step 2: when size1 is a power of two the old root is itself a node of the new tree.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Steps 3-4.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # Step 5.
    first_root = second_root = path[0]
    # Step 6.
    for node in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            first_root = hash_children(node, first_root)
            second_root = hash_children(node, second_root)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            second_root = hash_children(second_root, node)
        fn, sn = fn >> 1, sn >> 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if first_root != root1:
        raise ProofError(f"consistency proof does not reproduce the root of size {size1}")
    if second_root != root2:
        raise ProofError(f"consistency proof does not reproduce the root of size {size2}")


# --- streaming and in-memory trees -------------------------------------------


class MerkleFrontier:
    """Running Merkle root over appended leaf hashes in O(log n) memory.

    Keeps only the roots of the perfect subtrees that cover the leaves so far
    (one per set bit of the size), which is all a root needs. Used by the
    streaming verifier, which must not hold a million leaves.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self._size = 0

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> MerkleFrontier:
        """The frontier of a tree of ``size`` leaves whose perfect subtrees' roots are ``peaks``.

        ``peaks`` run from the largest subtree to the smallest, one per set bit of ``size``: the
        frontier of leaves ``[0, a)`` followed by that of ``[a, size)`` when ``a`` is a multiple
        of a power of two above ``size - a`` (how ranges verified apart are joined).
        """
        _require_size("size", size)
        if len(peaks) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} peaks, got {len(peaks)}")
        for peak in peaks:
            _require_digest("peak", peak)
        frontier = cls()
        frontier._peaks = list(peaks)
        frontier._size = size
        return frontier

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees covering the leaves so far, largest first."""
        return tuple(self._peaks)

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf hash."""
        _require_digest("leaf_hash", leaf_hash)
        digest = leaf_hash
        # Each trailing one-bit of the old size is a peak the new leaf completes.
        remaining = self._size
        while remaining & 1:
            digest = hash_children(self._peaks.pop(), digest)
            remaining >>= 1
        self._peaks.append(digest)
        self._size += 1

    def root(self) -> bytes:
        """Merkle tree hash of all leaves appended so far."""
        if not self._peaks:
            return EMPTY_ROOT
        digest = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            digest = hash_children(peak, digest)
        return digest


def leaf_hashes(items: Sequence[bytes]) -> list[bytes]:
    """:func:`hash_leaf` of each item, in one comprehension (no call per item)."""
    sha256, prefix = hashlib.sha256, LEAF_PREFIX
    return [sha256(prefix + item).digest() for item in items]


def perfect_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect node over ``leaves``, level by level: ``levels[L][i]`` covers leaves
    ``[i * 2**L, (i + 1) * 2**L)``. A whole batch of leaves at once, one comprehension per level:
    what :class:`MerkleFrontier` computes leaf by leaf, for a block of leaves in hand."""
    sha256, prefix = hashlib.sha256, NODE_PREFIX
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [
                sha256(prefix + left + right).digest()
                for left, right in zip(below[::2], below[1::2], strict=False)
            ]
        )
    return levels


def peaks_of(levels: Sequence[Sequence[bytes]], size: int) -> tuple[bytes, ...]:
    """The frontier's peaks (:attr:`MerkleFrontier.peaks`) after the first ``size`` leaves of
    :func:`perfect_levels`: one perfect node per set bit of ``size``, largest first."""
    if not 0 <= size <= (len(levels[0]) if levels else 0):
        raise ValueError(f"size {size} is outside the {len(levels[0]) if levels else 0} leaves")
    peaks: list[bytes] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            peaks.append(levels[level][start >> level])
            start += 1 << level
    return tuple(peaks)


class MemoryTree:
    """An in-memory Merkle tree that stores perfect nodes as leaves arrive.

    Appending n leaves costs O(n) hashing in total (each append completes one
    node per trailing one-bit of its index); roots and proofs read O(log n)
    perfect nodes through the same functions the server uses.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Add a leaf hash; returns its leaf index."""
        leaf_index = self.size
        for level, index, digest in nodes_completed_by_append(leaf_index, leaf_hash, self):
            if level == len(self._levels):
                self._levels.append([])
            # Nodes complete in index order, so each lands at the end of its level.
            assert len(self._levels[level]) == index
            self._levels[level].append(digest)
        return leaf_index

    def perfect_node(self, level: int, index: int) -> bytes:
        """Stored hash of the perfect subtree (level, index)."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise MissingNodeError((level, index))

    def perfect_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored hashes of several perfect subtrees."""
        return {(level, index): self.perfect_node(level, index) for level, index in keys}

    def _size_or_current(self, tree_size: int | None) -> int:
        if tree_size is None:
            return self.size
        if not 0 <= tree_size <= self.size:
            raise ValueError(f"tree size {tree_size} is outside 0..{self.size}")
        return tree_size

    def root(self, tree_size: int | None = None) -> bytes:
        """Root of the first ``tree_size`` leaves (default: all of them)."""
        return root(self._size_or_current(tree_size), self)

    def inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> list[bytes]:
        """Audit path of ``leaf_index`` in the tree of ``tree_size`` leaves."""
        return inclusion_proof(leaf_index, self._size_or_current(tree_size), self)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from ``size1`` to ``size2`` leaves (default: all)."""
        return consistency_proof(size1, self._size_or_current(size2), self)
