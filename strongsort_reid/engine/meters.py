"""Running averages of training statistics (loss, accuracy, timings)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Mapping

__all__ = ["AverageMeter", "MetricMeter"]


class AverageMeter:
    """Last value and running mean of a scalar.

    Attributes:
        val: The last value.
        avg: Mean of every value so far, weighted by ``n``.
        sum: Weighted sum.
        count: Total weight.
    """

    def __init__(self) -> None:
        self.val = 0.0
        self.avg = 0.0
        self.sum = 0.0
        self.count = 0

    def update(self, val: float, n: int = 1) -> None:
        """Add ``val`` with weight ``n`` (e.g. the batch size)."""
        self.val = float(val)
        self.sum += self.val * n
        self.count += n
        self.avg = self.sum / self.count


class MetricMeter:
    """A named set of :class:`AverageMeter`, fed with the dicts ``forward_backward`` returns.

    Attributes:
        count: Number of :meth:`update` calls (iterations).
    """

    def __init__(self) -> None:
        self.meters: Dict[str, AverageMeter] = OrderedDict()
        self.count = 0

    def update(self, values: Mapping[str, float]) -> None:
        """Add one value per name (tensors are converted with ``float``)."""
        self.count += 1
        for name, value in values.items():
            self.meters.setdefault(name, AverageMeter()).update(float(value))

    def averages(self) -> Dict[str, float]:
        """``{name: running mean}``."""
        return {name: meter.avg for name, meter in self.meters.items()}

    def __str__(self) -> str:
        return "  ".join(
            f"{name} {meter.val:.4f} ({meter.avg:.4f})" for name, meter in self.meters.items()
        )
