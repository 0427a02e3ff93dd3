"""Training: full and truncated BPTT, the trainer, checkpoints and run logs."""

from rnnlab.train.data import TokenStreams, epoch_batches
from rnnlab.train.tbptt import TruncatedBPTT
from rnnlab.train.trainer import (
    FullBPTT,
    StreamTBPTT,
    TrainConfig,
    Trainer,
    evaluate,
    evaluate_stream,
)

__all__ = [
    "FullBPTT",
    "StreamTBPTT",
    "TokenStreams",
    "TrainConfig",
    "Trainer",
    "TruncatedBPTT",
    "epoch_batches",
    "evaluate",
    "evaluate_stream",
]
