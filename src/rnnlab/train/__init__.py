"""Training: full and truncated BPTT, the trainer, checkpoints and run logs."""

from rnnlab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnlab.train.tbptt import TruncatedBPTT
from rnnlab.train.trainer import (
    FullBPTT,
    StreamTBPTT,
    TrainConfig,
    Trainer,
    epoch_batches,
    evaluate,
)

__all__ = [
    "CheckpointError",
    "FullBPTT",
    "StreamTBPTT",
    "TrainConfig",
    "Trainer",
    "TruncatedBPTT",
    "epoch_batches",
    "evaluate",
    "load_checkpoint",
    "save_checkpoint",
]
