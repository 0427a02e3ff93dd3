"""Data functions for the trainer: batch `n` as a function of n alone, so that a
resumed run reads exactly the batches an uninterrupted one would."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnlab._checks import check_positive_int
from rnnlab.models import Batch


def epoch_batches(n: int, batch_size: int, make: Callable[[np.ndarray], Batch], seed: int = 0,
                  shuffle: bool = True) -> Callable[[int], Batch]:
    """data(step) over n examples in epochs: the permutation of epoch e comes from
    default_rng([seed, e]), so batch `step` depends on step alone (exact resume).
    make(indices) builds the Batch of those example indices; the last partial batch
    of an epoch is dropped."""
    per_epoch = n // check_positive_int("batch_size", batch_size)
    if per_epoch == 0:
        raise ValueError(f"batch_size: expected at most the {n} examples, got {batch_size}")

    def data(step: int) -> Batch:
        epoch, i = divmod(step, per_epoch)
        order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
        return make(order[i * batch_size : (i + 1) * batch_size])

    return data


class TokenStreams:
    """B parallel streams of one long token array, for stateful truncated BPTT.

    The N tokens are cut into B streams of S = N // B consecutive tokens (the rest is
    dropped): stream j is tokens[jS : (j+1)S]. Batch b reads window i = b mod per_epoch,
    per_epoch = (S - 1) // T, of every stream: x = steps [iT, iT + T) (T, B), y = the
    next token at each step. Consecutive batches continue each stream where the last
    one stopped, so the state carried between them is the right one; reset it at
    every epoch (StreamTBPTT(..., reset_every=streams.per_epoch)).
    """

    def __init__(self, tokens, batch_size: int, seq_len: int):
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"tokens: expected a 1-D array of token ids, got {tokens.dtype} "
                             f"{tokens.shape}")
        B = check_positive_int("batch_size", batch_size)
        T = check_positive_int("seq_len", seq_len)
        S = len(tokens) // B
        self.per_epoch = (S - 1) // T
        if self.per_epoch < 1:
            raise ValueError(f"tokens: {len(tokens)} tokens make {B} streams of {S}, shorter "
                             f"than seq_len + 1 = {T + 1}")
        self.streams = tokens[: S * B].reshape(B, S)  # (B, S)
        self.seq_len = T

    def __call__(self, b: int) -> Batch:
        T, i = self.seq_len, b % self.per_epoch
        window = self.streams[:, i * T : i * T + T + 1].T  # (T + 1, B)
        return Batch(window[:-1], window[1:])
