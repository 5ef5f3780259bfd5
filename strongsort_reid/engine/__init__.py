"""Training engines with torchreid's API: ``Engine`` and its softmax and triplet subclasses,
checkpoints that resume exactly, DDP support and the YAML training recipes."""

from strongsort_reid.engine.checkpointing import (
    build_checkpoint,
    checkpoint_path,
    resume_from_checkpoint,
)
from strongsort_reid.engine.distributed import init_distributed, is_main_process
from strongsort_reid.engine.engine import Engine, NonFiniteLossError
from strongsort_reid.engine.evaluation import EvalResult
from strongsort_reid.engine.model_options import attach_bnneck, set_last_stride
from strongsort_reid.engine.seeding import set_random_seed
from strongsort_reid.engine.softmax import ImageSoftmaxEngine
from strongsort_reid.engine.triplet import ImageTripletEngine

__all__ = [
    "Engine",
    "EvalResult",
    "ImageSoftmaxEngine",
    "ImageTripletEngine",
    "NonFiniteLossError",
    "attach_bnneck",
    "build_checkpoint",
    "checkpoint_path",
    "init_distributed",
    "is_main_process",
    "resume_from_checkpoint",
    "set_last_stride",
    "set_random_seed",
]
