"""build_optimizer / build_lr_scheduler: names, staged lr groups, lr curves, exact resume."""

import copy
import math

import pytest
import torch
from torch import nn

from strongsort_reid.optim import (
    AVAILABLE_OPTIMIZERS,
    WarmupLRScheduler,
    build_lr_scheduler,
    build_optimizer,
)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.fc = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(1))  # held directly by the model

    def forward(self, x):
        return self.classifier(self.fc(self.backbone(x))) * self.scale


@pytest.mark.parametrize(
    "name, cls, extra",
    [
        ("adam", torch.optim.Adam, {"amsgrad": False, "betas": (0.9, 0.99)}),
        ("amsgrad", torch.optim.Adam, {"amsgrad": True}),
        ("sgd", torch.optim.SGD, {"momentum": 0.9, "nesterov": False, "dampening": 0}),
        ("rmsprop", torch.optim.RMSprop, {"alpha": 0.99, "momentum": 0.9}),
        ("radam", torch.optim.RAdam, {"betas": (0.9, 0.99)}),
        ("adamw", torch.optim.AdamW, {"betas": (0.9, 0.99)}),
    ],
)
def test_each_optimizer(name, cls, extra):
    model = Net()
    opt = build_optimizer(model, optim=name, lr=0.01, weight_decay=1e-4)
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group["lr"] == 0.01 and group["weight_decay"] == 1e-4
    for key, value in extra.items():
        assert group[key] == value
    assert sum(p.numel() for p in group["params"]) == sum(p.numel() for p in model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()


def test_unknown_optimizer_lists_valid_names():
    with pytest.raises(ValueError) as err:
        build_optimizer(Net(), optim="adagrad")
    for name in AVAILABLE_OPTIMIZERS:
        assert name in str(err.value)
    with pytest.raises(TypeError):
        build_optimizer([torch.zeros(1)], optim="sgd")


@pytest.mark.parametrize("new_layers", ["classifier", ["fc", "classifier"]])
def test_staged_lr_param_groups(new_layers):
    model = Net()
    opt = build_optimizer(
        nn.DataParallel(model),
        optim="sgd",
        lr=0.01,
        staged_lr=True,
        new_layers=new_layers,
        base_lr_mult=0.1,
    )
    base, new = opt.param_groups
    assert base["lr"] == pytest.approx(0.001) and new["lr"] == 0.01
    names = [new_layers] if isinstance(new_layers, str) else new_layers
    new_ids = {id(p) for n in names for p in getattr(model, n).parameters()}
    assert {id(p) for p in new["params"]} == new_ids
    all_ids = {id(p) for p in model.parameters()}
    assert {id(p) for p in base["params"]} == all_ids - new_ids
    assert id(model.scale) in {id(p) for p in base["params"]}


def test_staged_lr_unknown_layer():
    with pytest.raises(ValueError, match="classifer.*children"):
        build_optimizer(Net(), staged_lr=True, new_layers="classifer")


def _lrs(scheduler, optimizer, epochs):
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _opt(lr=0.1):
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)


def test_single_and_multi_step_curves():
    opt = _opt()
    sched = build_lr_scheduler(opt, "single_step", stepsize=2, gamma=0.5)
    assert isinstance(sched, WarmupLRScheduler)
    assert _lrs(sched, opt, 6) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    opt = _opt()
    sched = build_lr_scheduler(opt, "multi_step", stepsize=[3, 1], gamma=0.1)
    assert _lrs(sched, opt, 5) == pytest.approx([0.1, 0.01, 0.01, 0.001, 0.001])


def test_linear_warmup_curve_values():
    opt = _opt(0.00035)
    sched = build_lr_scheduler(
        opt,
        "multi_step",
        stepsize=[6, 8],
        gamma=0.1,
        max_epoch=10,
        warmup_epochs=4,
        warmup_factor=0.01,
        warmup_method="linear",
    )
    factors = [
        0.01,
        0.01 * 0.75 + 0.25,
        0.01 * 0.5 + 0.5,
        0.01 * 0.25 + 0.75,
        1,
        1,
        0.1,
        0.1,
        0.01,
        0.01,
    ]
    assert _lrs(sched, opt, 10) == pytest.approx([0.00035 * f for f in factors])


def test_constant_warmup_then_cosine():
    opt = _opt(1.0)
    sched = build_lr_scheduler(
        opt, "cosine", max_epoch=6, warmup_epochs=2, warmup_factor=0.1, warmup_method="constant"
    )
    cos = [0.5 * (1 + math.cos(math.pi * t / 4)) for t in range(4)]
    assert _lrs(sched, opt, 6) == pytest.approx([0.1, 0.1, *cos])
    assert sched.get_last_lr() == pytest.approx([0.0])


def test_cosine_without_warmup_equals_torch():
    opt_a, opt_b = _opt(0.3), _opt(0.3)
    ours = build_lr_scheduler(opt_a, "cosine", max_epoch=7)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(opt_b, T_max=7)
    assert _lrs(ours, opt_a, 7) == pytest.approx(_lrs(ref, opt_b, 7))


def test_staged_groups_scale_together():
    opt = build_optimizer(Net(), optim="sgd", lr=0.1, staged_lr=True, new_layers="classifier")
    sched = build_lr_scheduler(opt, "single_step", stepsize=1, gamma=0.5)
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.005, 0.05])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr_scheduler": "plateau"}, "single_step.*multi_step.*cosine"),
        ({"warmup_method": "exp", "warmup_epochs": 2}, "linear.*constant"),
        ({"lr_scheduler": "cosine", "max_epoch": 2, "warmup_epochs": 2}, "max_epoch"),
        ({"stepsize": 0}, "stepsize"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
    ],
)
def test_scheduler_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_lr_scheduler(_opt(), **kwargs)


def _train(model, opt, sched, epochs, seed_offset=0):
    for epoch in range(epochs):
        torch.manual_seed(1000 + epoch + seed_offset)
        x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("optim", ["adam", "sgd"])
def test_state_dict_round_trip_resumes_exactly(optim):
    kwargs = {"lr_scheduler": "multi_step", "stepsize": [4, 7], "max_epoch": 10, "warmup_epochs": 3}
    torch.manual_seed(0)
    model = Net()
    start = copy.deepcopy(model.state_dict())
    opt = build_optimizer(model, optim=optim, lr=0.01)
    sched = build_lr_scheduler(opt, **kwargs)
    _train(model, opt, sched, 10)

    resumed = Net()
    resumed.load_state_dict(start)
    opt_a = build_optimizer(resumed, optim=optim, lr=0.01)
    sched_a = build_lr_scheduler(opt_a, **kwargs)
    for epoch in range(5):
        _train(resumed, opt_a, sched_a, 1, seed_offset=epoch)
    saved = copy.deepcopy(
        {
            "model": resumed.state_dict(),
            "optimizer": opt_a.state_dict(),
            "scheduler": sched_a.state_dict(),
        }
    )

    fresh = Net()
    fresh.load_state_dict(saved["model"])
    opt_b = build_optimizer(fresh, optim=optim, lr=0.01)
    sched_b = build_lr_scheduler(opt_b, **kwargs)
    opt_b.load_state_dict(saved["optimizer"])
    sched_b.load_state_dict(saved["scheduler"])
    assert sched_b.last_epoch == 5
    assert opt_b.param_groups[0]["lr"] == pytest.approx(sched.factor(5) * 0.01)
    for epoch in range(5, 10):
        _train(fresh, opt_b, sched_b, 1, seed_offset=epoch)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[key], value, rtol=0, atol=0)
    assert sched_b.get_last_lr() == sched.get_last_lr()
