"""Every StrongSORT parameter, documented in one place, with YAML loading.

The defaults are the paper's StrongSORT configuration (Du et al., "StrongSORT: Make DeepSORT
Great Again", TMM 2023, with the authors' MOT17 settings) plus what helped on the development
sequences (``trackers/configs/strongsort.yaml`` gives the numbers):
``output_predicted=3`` (short gaps are bridged by the prediction), ``ema_adaptive=True``
(Deep OC-SORT's confidence-adaptive appearance update), ``reentry_max_age=300`` (a person who
leaves and comes back takes back the old identity), ``embed_skip=True`` (a detection that is
unambiguous by motion reuses its track's embedding: fewer crops, same scores) and
``confirm_first_frame=True`` (ByteTrack: the people in view when a stream starts are confirmed
at once). The paper's ablation steps, each applied on top of the previous one
(:data:`ABLATION_STEPS`, :func:`ablation_overrides`); ``+woC`` is the paper's configuration:

============  ==================================================================
DeepSORT      ``ema_alpha=None, nn_budget=100, mc_lambda=None, nsa=False,
              matching="cascade", cmc=None, max_cos_dist=0.3, n_init=3``;
              none of the later additions: ``output_predicted=0,
              ema_adaptive=False, reentry_max_age=0, conf_boost=None,
              iou_height_modulated=False, embed_skip=False, low_conf=None,
              confirm_first_frame=False``
+BoT          a stronger embedder (BoT features; any ReID weights here) and
              ``max_cos_dist=0.4``
+ECC          ``cmc="ecc"``
+NSA          ``nsa=True``
+EMA          ``ema_alpha=0.9``
+MC           ``mc_lambda=0.98, max_cos_dist=0.45``
+woC          ``matching="global"``  (= the paper)
============  ==================================================================

Every switch is an ordinary parameter, so a step can be set from Python
(``StrongSORT(**ablation_overrides("+NSA"))``), from a YAML file, or on the command line
(``strongsort-track track-mot --ablation +NSA`` or ``--set nsa=true``).

``trackers/configs/strongsort.yaml`` holds the same defaults; :meth:`StrongSORTConfig.from_yaml`
reads such a file (unknown keys are an error).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[1] / "configs" / "strongsort.yaml"

# The paper's ablation path: what each step changes relative to the previous one.
ABLATION_STEPS: Dict[str, Dict[str, Any]] = {
    "DeepSORT": {
        # The paper's values of the parameters our defaults changed, so that "+woC" is the
        # paper's configuration whatever the defaults are.
        "n_init": 3,
        "ema_alpha": None,
        "nn_budget": 100,
        "mc_lambda": None,
        "nsa": False,
        "matching": "cascade",
        "cmc": None,
        "max_cos_dist": 0.3,
        # Additions after the paper: off.
        "output_predicted": 0,
        "ema_adaptive": False,
        "reentry_max_age": 0,
        "conf_boost": None,
        "iou_height_modulated": False,
        "embed_skip": False,
        "low_conf": None,
        "confirm_first_frame": False,
    },
    "+BoT": {"max_cos_dist": 0.4},
    "+ECC": {"cmc": "ecc"},
    "+NSA": {"nsa": True},
    "+EMA": {"ema_alpha": 0.9},
    "+MC": {"mc_lambda": 0.98, "max_cos_dist": 0.45},
    "+woC": {"matching": "global"},
}


def ablation_overrides(step: str) -> Dict[str, Any]:
    """Parameters of an ablation step: DeepSORT plus every step up to and including ``step``.

    Args:
        step: One of :data:`ABLATION_STEPS` (``"DeepSORT"``, ``"+BoT"``, ... ``"+woC"``).

    Returns:
        ``{name: value}`` for the switched parameters; other parameters keep their values
        (defaults, or those of a YAML file the mapping is applied on top of).
    """
    if step not in ABLATION_STEPS:
        raise KeyError(f"unknown ablation step {step!r}; steps: {', '.join(ABLATION_STEPS)}")
    values: Dict[str, Any] = {}
    for name, change in ABLATION_STEPS.items():
        values.update(change)
        if name == step:
            break
    return values


@dataclass
class StrongSORTConfig:
    """StrongSORT parameters.

    Attributes:
        min_conf: Detections with a lower confidence are ignored (counted in
            ``stats["dropped_low_conf"]``). The authors use 0.6 on MOT17.
        max_cos_dist: Largest association cost accepted in the appearance stage (cosine distance,
            or the fused MC cost). 0.4 for BoT features, +0.05 with MC.
        max_iou_dist: Largest ``1 - IoU`` accepted in the IoU stage.
        max_age: A confirmed track is deleted after more than this many frames without an
            associated detection.
        n_init: Hits (birth included) for a tentative track to become confirmed (the paper's 3;
            2 scored better on the two short development sequences but worse on a longer
            held-out one, see ``trackers/configs/strongsort.yaml``).
        ema_alpha: EMA weight of the previous embedding (StrongSORT). ``None`` keeps a DeepSORT
            gallery of the last ``nn_budget`` embeddings instead.
        nn_budget: Gallery size per track when ``ema_alpha`` is ``None`` (ignored with EMA).
        mc_lambda: Weight of appearance in the fused cost
            ``lambda * cosine + (1 - lambda) * Mahalanobis`` (MC). ``None`` uses the gated cosine
            distance alone (DeepSORT).
        gating_threshold: Squared Mahalanobis distance above which a pair is forbidden
            (chi-square 0.95 quantile, 4 degrees of freedom).
        nsa: Scale the Kalman measurement noise by ``1 - confidence`` (NSA Kalman filter).
        matching: ``"global"``: one linear assignment over all confirmed tracks (woC);
            ``"cascade"``: DeepSORT's matching cascade by time since update.
        assignment_solver: ``"lapjv"`` (``lap.lapjv``, scipy when ``lap`` is missing) or
            ``"scipy"`` (``scipy.optimize.linear_sum_assignment``); both give optimal matchings.
        cmc: ``"ecc"`` for online ECC camera motion compensation (needs frames), ``None`` for
            static cameras.
        ecc_scale: Frames are downscaled by this factor before ECC.
        ecc_max_iter: ECC iteration limit (the paper's code: 100; 30 suffices from the warm
            start, see :mod:`trackers.cmc`).
        ecc_eps: ECC convergence threshold on the correlation increment (the paper's 1e-5;
            1e-3 is several times faster at 1080p at the same accuracy: a result that the
            correlation check does not trust is retried from the identity, coarse to fine).
        std_weight_position: Kalman position noise standard deviation per pixel of height.
        std_weight_velocity: Kalman velocity noise standard deviation per pixel of height.
        per_class: Track each class independently (IDs stay unique across classes).
        output_predicted: 0 outputs only tracks associated in the current frame. ``k > 0`` also
            outputs confirmed tracks missed for at most ``k`` consecutive frames, at their
            predicted box with ``det_index = -1`` (``True`` = 1, DeepSORT's MOT output). 3 by
            default (the paper: 0); before offline interpolation (GSI) 0 is better, GSI fills
            the gaps from both ends.
        trail_length: Frames of track centres kept for :meth:`StrongSORT.plot` trails.
        conf_boost: BoostTrack's detection-confidence boost ``beta``: a detection's confidence
            becomes ``max(conf, beta * IoU)`` with the best-overlapping box predicted by a
            confirmed track, so an occluded person the detector scores low stays tracked
            (:mod:`.boost`). ``None``: off (the paper).
        boost_min_conf: Detections below this confidence are never boosted (and a detector
            feeding the tracker should keep boxes down to it when ``conf_boost`` is set).
        ema_adaptive: Deep OC-SORT's confidence-adaptive EMA: the weight of the previous
            embedding becomes ``alpha + (1 - alpha) * (1 - (conf - min_conf) / (1 - min_conf))``,
            so an uncertain (occluded) detection barely changes a track's appearance.
        iou_height_modulated: Hybrid-SORT's height-modulated IoU in the IoU stage: IoU times the
            overlap of the two boxes' vertical extents, which separates people of different
            depth whose boxes overlap.
        reentry_max_age: Frames a deleted confirmed track stays in the re-entry gallery (counted
            from its last detection, so it should exceed ``max_age``); a newly confirmed track
            that matches it by appearance within the motion gate takes back its identity
            (:mod:`.reentry`). 0: off (the paper).
        reentry_gallery_size: Most tracks kept in the re-entry gallery (oldest evicted first).
        reentry_max_cos_dist: Largest cosine distance between a new track's embedding and a
            gallery track's for a re-identification.
        reentry_max_speed: Plausible speed bound of the motion gate, in box heights per frame:
            a new track may be at most ``(1 + speed * gap) * height`` pixels from where the
            gallery track was last seen ``gap`` frames before.
        reentry_max_scale: Largest ratio between the heights of the new box and the last box of
            the gallery track.
        embed_skip: Embed only what is needed (:mod:`.embed_plan`): a detection that overlaps
            exactly one confirmed track associated in the previous frame, with nobody else near,
            reuses that track's embedding instead of a new one; new, re-appearing and crowded
            detections are always embedded. :meth:`StrongSORT.select` then returns only the
            rows to embed. ``False``: every tracked detection is embedded (the paper).
        embed_skip_iou: Smallest IoU between such a detection and the box its track predicts.
        embed_skip_rival_iou: Any other track or detection overlapping the pair above this IoU
            makes the detection ambiguous (embedded).
        embed_skip_refresh: A track's detection is embedded at least once every this many
            consecutive associations (1: always, i.e. no reuse); the new embedding then counts
            for the skipped frames too in the EMA (weight ``alpha ** (reuses + 1)``).
        low_conf: ByteTrack's second association (BYTE): detections with
            ``low_conf <= conf < min_conf`` are matched by IoU alone to the confirmed tracks that
            were associated in the previous frame and are still unmatched after the appearance
            and IoU stages; they update those tracks (Kalman filter, NSA with their confidence)
            but never start one, are never embedded and leave the track's appearance as it is
            (:mod:`.tracker`). A detector feeding the tracker should keep boxes down to this
            confidence. ``None`` (or ``>= min_conf``: no such detection): off (the paper).
        low_max_iou_dist: Largest ``1 - IoU`` accepted in that stage (ByteTrack's 0.5).
        confirm_first_frame: Tracks born in the tracker's first frame with detections are
            confirmed at birth, as in ByteTrack (``frame_id == 1``): nothing can be a duplicate
            of an existing track yet, and the people already in view at the start of a stream
            are output from its first frame instead of its ``n_init``-th. ``False``: they are
            tentative like every other new track (the paper).
    """

    min_conf: float = 0.6
    max_cos_dist: float = 0.45
    max_iou_dist: float = 0.7
    max_age: int = 30
    n_init: int = 3
    ema_alpha: Optional[float] = 0.9
    nn_budget: int = 100
    mc_lambda: Optional[float] = 0.98
    gating_threshold: float = 9.4877
    nsa: bool = True
    matching: str = "global"
    assignment_solver: str = "lapjv"
    cmc: Optional[str] = "ecc"
    ecc_scale: float = 0.1
    ecc_max_iter: int = 30
    ecc_eps: float = 1e-3
    std_weight_position: float = 1.0 / 20
    std_weight_velocity: float = 1.0 / 160
    per_class: bool = False
    output_predicted: int = 3
    trail_length: int = 30
    conf_boost: Optional[float] = None
    boost_min_conf: float = 0.3
    ema_adaptive: bool = True
    iou_height_modulated: bool = False
    reentry_max_age: int = 300
    reentry_gallery_size: int = 100
    reentry_max_cos_dist: float = 0.35
    reentry_max_speed: float = 0.2
    reentry_max_scale: float = 1.5
    embed_skip: bool = True
    embed_skip_iou: float = 0.6
    embed_skip_rival_iou: float = 0.1
    embed_skip_refresh: int = 3
    low_conf: Optional[float] = None
    low_max_iou_dist: float = 0.5
    confirm_first_frame: bool = True

    def __post_init__(self) -> None:
        self._check_range("min_conf", low=0.0)
        self._check_range("max_cos_dist", low=0.0)
        self._check_range("max_iou_dist", low=0.0, high=1.0)
        self._check_int("max_age", minimum=0)
        self._check_int("n_init", minimum=1)
        if self.ema_alpha is not None:
            self._check_range("ema_alpha", low=0.0, high=1.0)
        self._check_int("nn_budget", minimum=1)
        if self.mc_lambda is not None:
            self._check_range("mc_lambda", low=0.0, high=1.0)
        self._check_range("gating_threshold", low=0.0, strict=True)
        if self.matching not in ("global", "cascade"):
            raise ValueError(f"matching must be 'global' or 'cascade', got {self.matching!r}")
        if self.assignment_solver not in ("lapjv", "scipy"):
            raise ValueError(
                f"assignment_solver must be 'lapjv' or 'scipy', got {self.assignment_solver!r}"
            )
        if self.cmc not in (None, "ecc"):
            raise ValueError(f"cmc must be 'ecc' or None, got {self.cmc!r}")
        self._check_range("ecc_scale", low=0.0, high=1.0, strict=True)
        self._check_int("ecc_max_iter", minimum=1)
        self._check_range("ecc_eps", low=0.0, strict=True)
        self._check_range("std_weight_position", low=0.0, strict=True)
        self._check_range("std_weight_velocity", low=0.0, strict=True)
        self._check_int("output_predicted", minimum=0)
        self._check_int("trail_length", minimum=1)
        if self.conf_boost is not None:
            self._check_range("conf_boost", low=0.0, strict=True)
        self._check_range("boost_min_conf", low=0.0, high=1.0)
        self._check_int("reentry_max_age", minimum=0)
        self._check_int("reentry_gallery_size", minimum=1)
        self._check_range("reentry_max_cos_dist", low=0.0, high=2.0)
        self._check_range("reentry_max_speed", low=0.0)
        self._check_range("reentry_max_scale", low=1.0)
        self._check_range("embed_skip_iou", low=0.0, high=1.0, strict=True)
        self._check_range("embed_skip_rival_iou", low=0.0, high=1.0)
        if self.embed_skip_rival_iou >= self.embed_skip_iou:
            raise ValueError(
                f"embed_skip_rival_iou must be below embed_skip_iou = {self.embed_skip_iou}, "
                f"got {self.embed_skip_rival_iou!r}"
            )
        self._check_int("embed_skip_refresh", minimum=1)
        if self.low_conf is not None:
            self._check_range("low_conf", low=0.0, high=1.0)
        self._check_range("low_max_iou_dist", low=0.0, high=1.0)
        self.nsa = bool(self.nsa)
        self.ema_adaptive = bool(self.ema_adaptive)
        self.iou_height_modulated = bool(self.iou_height_modulated)
        self.per_class = bool(self.per_class)
        self.embed_skip = bool(self.embed_skip)
        self.confirm_first_frame = bool(self.confirm_first_frame)
        self.output_predicted = int(self.output_predicted)

    @property
    def detector_conf(self) -> float:
        """Lowest detection confidence the tracker uses: ``min_conf``, or below it the
        ``low_conf`` of the low-confidence stage and the ``boost_min_conf`` of the confidence
        boost when those are on. A detector feeding the tracker should keep boxes down to it."""
        floors = [self.min_conf]
        if self.low_conf is not None:
            floors.append(self.low_conf)
        if self.conf_boost is not None:
            floors.append(self.boost_min_conf)
        return min(floors)

    @property
    def feature_budget(self) -> int:
        """Embeddings stored per track: 1 with EMA, ``nn_budget`` for a DeepSORT gallery."""
        return 1 if self.ema_alpha is not None else self.nn_budget

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> StrongSORTConfig:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown StrongSORT parameter(s) {unknown}; valid: {sorted(known)}")
        return cls(**dict(values))

    @classmethod
    def from_yaml(cls, path: Union[str, Path], **overrides: Any) -> StrongSORTConfig:
        """Read a YAML mapping of parameters (missing keys keep their defaults).

        Args:
            path: YAML file.
            **overrides: Parameters that take precedence over the file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"StrongSORT config file not found: {path}")
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(values, dict):
            raise ValueError(f"StrongSORT config {path} must hold a mapping, got {type(values)}")
        return cls.from_dict({**values, **overrides})

    def to_dict(self) -> dict:
        """Plain ``{name: value}`` mapping of all parameters."""
        return dataclasses.asdict(self)

    def _check_range(
        self, name: str, low: float, high: float = float("inf"), strict: bool = False
    ) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        too_low = value <= low if strict else value < low
        if too_low or value > high or value != value:
            bound = ">" if strict else ">="
            raise ValueError(f"{name} must be {bound} {low} and <= {high}, got {value!r}")
        setattr(self, name, float(value))

    def _check_int(self, name: str, minimum: int) -> None:
        value = getattr(self, name)
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


ConfigLike = Union[StrongSORTConfig, Mapping[str, Any], str, Path, None]


def resolve_config(config: ConfigLike, params: Mapping[str, Any]) -> StrongSORTConfig:
    """The :class:`StrongSORTConfig` of a config argument (``None``, a config, a mapping or a
    YAML path) with ``params`` overriding it; ``ValueError`` for any other type."""
    if config is None:
        return StrongSORTConfig.from_dict(params)
    if isinstance(config, StrongSORTConfig):
        return StrongSORTConfig.from_dict({**config.to_dict(), **params})
    if isinstance(config, (str, Path)):
        return StrongSORTConfig.from_yaml(config, **params)
    if isinstance(config, Mapping):
        return StrongSORTConfig.from_dict({**config, **params})
    raise ValueError(f"config must be a StrongSORTConfig, mapping or YAML path, got {type(config)}")
