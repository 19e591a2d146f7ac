"""Sticky assignment of requests to a rollout's arms.

A request's *key* (the OpenAI ``user`` field or the ``x-turnout-key`` header)
hashes with the rollout's salt to a bucket in [0, 10000). The canary serves the
buckets below its weight (basis points), so a key in the canary at 1 % stays in
it at 10 %, 50 % and 100 % — the ramp is monotone and users do not flap between
versions. Salting per rollout keeps one rollout's early adopters from being
every rollout's early adopters.
"""

from __future__ import annotations

import hashlib

__all__ = ["BUCKETS", "bucket", "in_canary"]

BUCKETS = 10_000
"""Buckets per rollout: weights are whole basis points."""


def bucket(salt: str, key: str) -> int:
    """The key's bucket in [0, BUCKETS) for this salt: uniform and stable.

    BLAKE2b is keyed-hash quality at C speed; 64 bits modulo 10,000 leaves a
    bias below 1e-15, far under anything a gate could see.
    """
    digest = hashlib.blake2b(key.encode(), digest_size=8, key=salt.encode()[:64]).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(bucket_: int, weight: int) -> bool:
    """Whether a bucket is served the canary at ``weight`` basis points."""
    return bucket_ < weight
