"""Training: full and truncated BPTT, the trainer, checkpoints and run logs."""

from rnnlab.train.tbptt import TruncatedBPTT

__all__ = ["TruncatedBPTT"]
