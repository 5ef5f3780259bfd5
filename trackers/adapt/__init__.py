"""Unsupervised adaptation of the ReID model to one camera (``strongsort-track adapt``).

Track the source (:mod:`.tracking`), mine pseudo-identities from the tracks (:mod:`.mining`),
cut their crops (:mod:`.dataset`), fine-tune with the project's engine (:mod:`.objective`,
:mod:`.finetune`), keep the result only when held-out pseudo-identities show a gain
(:mod:`.validation`), measure before/after (:mod:`.compare`) and report (:mod:`.report`);
:func:`adapt` (:mod:`.api`) does it all, :mod:`.command` is the command line. Names are imported
on first use, so the command line starts without torch.
"""

from strongsort_reid.utils.lazy import lazy_exports

__all__ = ["AdaptResult", "FineTuneOptions", "MiningConfig", "TrackingSettings", "adapt"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AdaptResult": "trackers.adapt.report",
        "FineTuneOptions": "trackers.adapt.finetune",
        "MiningConfig": "trackers.adapt.mining",
        "TrackingSettings": "trackers.adapt.tracking",
        "adapt": "trackers.adapt.api",
    },
)
