"""The engine's speed options: ``precision`` (bfloat16 autocast on the CPU) and
``channels_last``; they change the speed, not the result beyond float noise."""

from __future__ import annotations

import copy
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import ImageSoftmaxEngine, ImageTripletEngine, build_checkpoint
from strongsort_reid.engine.config import ConfigError, load_config
from strongsort_reid.engine.precision import cpu_has_native_bf16, resolve_precision
from strongsort_reid.engine.recipe import build_engine
from strongsort_reid.losses import CrossEntropyLoss, TripletLoss
from strongsort_reid.optim import build_optimizer

NUM_CLASSES = 8
BENCH_TRAIN = Path(__file__).resolve().parents[2] / "scripts" / "bench_train.py"


def fake_datamanager() -> SimpleNamespace:
    return SimpleNamespace(train_loader=None, test_loader={}, num_train_pids=NUM_CLASSES)


def make_batch(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    imgs = torch.randn(16, 3, 64, 32, generator=generator)
    return {"img": imgs, "pid": torch.arange(4).repeat_interleave(4)}


def train_steps(engine_cls, steps: int = 2, **options):
    """``(model, [step summaries])`` of a freshly seeded tiny network trained on one batch."""
    torch.manual_seed(0)
    loss = "softmax" if engine_cls is ImageSoftmaxEngine else "triplet"
    model = TinyReIDNet(NUM_CLASSES, loss=loss)
    optimizer = build_optimizer(model, "adam", lr=3e-4)
    engine = engine_cls(fake_datamanager(), model, optimizer, use_gpu=False, **options)
    engine.set_model_mode("train")
    summaries = [engine.forward_backward(make_batch(step)) for step in range(steps)]
    return model, summaries


def test_resolve_precision_names():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("fp32", cpu) is None
    assert resolve_precision("bf16", cpu) is torch.bfloat16
    assert resolve_precision("auto", cuda) is torch.float16
    expected = torch.bfloat16 if cpu_has_native_bf16() else None
    assert resolve_precision("auto", cpu) is expected
    with pytest.raises(ValueError, match="needs CUDA"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("float64", cpu)


@pytest.mark.parametrize("engine_cls", [ImageSoftmaxEngine, ImageTripletEngine])
def test_channels_last_changes_only_float_noise(engine_cls):
    plain, plain_stats = train_steps(engine_cls, precision="fp32", channels_last=False)
    nhwc, nhwc_stats = train_steps(engine_cls, precision="fp32", channels_last=True)
    for before, after in zip(plain_stats, nhwc_stats):
        assert after["loss"] == pytest.approx(before["loss"], rel=1e-5, abs=1e-6)
    # Gradients of the last step (weights after Adam steps would hide differences below lr).
    for (name, a), b in zip(plain.named_parameters(), nhwc.parameters()):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-3, atol=1e-5, msg=name)
    conv = nhwc.backbone[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    # Checkpoints hold plain contiguous tensors whatever the training layout.
    saved = build_checkpoint(nhwc, epoch=1)["state_dict"]
    assert all(tensor.is_contiguous() for tensor in saved.values())


def test_bf16_runs_the_forward_in_bfloat16_and_stays_close_to_fp32():
    dtypes = []
    torch.manual_seed(0)
    model = TinyReIDNet(NUM_CLASSES, loss="triplet")
    reference = copy.deepcopy(model)
    model.backbone[0].register_forward_hook(lambda mod, inp, out: dtypes.append(out.dtype))
    engines = [
        ImageTripletEngine(fake_datamanager(), net, build_optimizer(net, "adam", lr=3e-4),
                           use_gpu=False, precision=precision)
        for net, precision in ((model, "bf16"), (reference, "fp32"))
    ]
    assert [engine.amp_dtype for engine in engines] == [torch.bfloat16, None]
    assert not engines[0].scaler.is_enabled()  # gradient scaling is for float16 only
    for engine in engines:
        engine.set_model_mode("train")
    batch = make_batch()
    low, full = (engine.forward_backward(batch) for engine in engines)
    assert dtypes == [torch.bfloat16]
    assert low["loss"] == pytest.approx(full["loss"], rel=3e-2)
    assert low["loss_x"] == pytest.approx(full["loss_x"], rel=3e-2)
    low_grad = torch.cat([param.grad.flatten() for param in model.parameters()])
    full_grad = torch.cat([param.grad.flatten() for param in reference.parameters()])
    assert torch.cosine_similarity(low_grad, full_grad, dim=0) > 0.99


def test_recipe_passes_the_speed_options(tmp_path):
    config = load_config(None, ["train.precision=fp32", "train.channels_last=false",
                                "loss.name=softmax"])
    model = TinyReIDNet(NUM_CLASSES)
    engine = build_engine(config, fake_datamanager(), model,
                          build_optimizer(model, "adam"), None)
    assert engine.amp_dtype is None and not engine.channels_last
    assert model.backbone[0].weight.is_contiguous()
    with pytest.raises(ConfigError, match="train.precision"):
        load_config(None, ["train.precision=fp64"])


def test_bench_train_torchreid_losses_match_ours():
    """The benchmark's torchreid baseline computes the same losses as our criteria."""
    bench = runpy.run_path(str(BENCH_TRAIN), run_name="bench_train")
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(16, 32, generator=generator)
    logits = torch.randn(16, NUM_CLASSES, generator=generator)
    pids = torch.arange(4).repeat_interleave(4)
    torch.testing.assert_close(bench["TorchreidTripletLoss"]()(features, pids),
                               TripletLoss()(features, pids))
    torch.testing.assert_close(bench["TorchreidCrossEntropy"](NUM_CLASSES)(logits, pids),
                               CrossEntropyLoss(NUM_CLASSES)(logits, pids))
