"""ImageDataManager: datasets, transforms, samplers and DataLoaders in torchreid's shape."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from PIL import Image
from torch.utils.data import DataLoader

from .datasets import ImageDataset, init_image_dataset
from .samplers import build_train_sampler, resolve_seed
from .transforms import build_transforms


def _as_names(names: Union[str, Sequence[str], None], argument: str) -> List[str]:
    if names is None:
        return []
    names = [names] if isinstance(names, str) else list(names)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{argument} must be dataset names, got {names!r}")
    return names


class ImageDataManager:
    """Build the training loader over ``sources`` and query/gallery loaders for ``targets``.

    Args:
        root: Folder that holds the datasets (each dataset's own layout below it).
        sources: Training dataset name(s); several are combined with distinct pid/camid ranges.
        targets: Test dataset name(s); default: ``sources``.
        height, width: Network input size in pixels.
        transforms: Training augmentations (see ``build_transforms``).
        norm_mean, norm_std: RGB normalisation (ImageNet's by default).
        use_gpu: Pin host memory for faster copies to the GPU.
        split_id, cuhk03_labeled, cuhk03_classic_split, market1501_500k: Dataset options
            (passed to every dataset; those that do not use one ignore it).
        combineall: Train on the query and gallery identities of the sources too.
        batch_size_train, batch_size_test: Images per batch (per process when distributed).
        workers: DataLoader worker processes (0 loads in the main process).
        num_instances: K of ``RandomIdentitySampler``.
        train_sampler: ``"RandomSampler"``, ``"SequentialSampler"`` or
            ``"RandomIdentitySampler"``.
        seed: Base seed of the training sampler and of the workers' random streams (None:
            drawn from torch's global generator). See :meth:`set_epoch`.
        dataset_kwargs: Extra keyword arguments per dataset name, e.g.
            ``{"mot": {"root": ".../MOT17/train", "min_visibility": 0.5}}`` (``root`` there
            overrides ``root`` for that dataset).
        num_replicas, rank: Distributed shard of the training loader (test loaders are whole).
        verbose: Print the dataset tables and the summary.

    Attributes:
        train_set: The combined training ``ImageDataset``.
        train_loader: DataLoader yielding dicts ``{"img": (B, 3, H, W) float32, "pid": (B,)
            int64, "camid": (B,) int64, "impath": list[str], "dsetid": (B,) int64,
            "skipped": (B,) int64}`` (``skipped``: undecodable files replaced in that sample).
        test_loader: ``{target: {"query": DataLoader, "gallery": DataLoader}}``.
        test_dataset: ``{target: {"query": items, "gallery": items}}`` (for visualisation).
        num_train_pids, num_train_cams: Identities and cameras of ``train_set``.
        transform_tr, transform_te: The train and test transforms.

    Raises:
        ValueError: Bad sizes, names, batch sizes or sampler settings.
        FileNotFoundError: A dataset root or layout is missing.
    """

    data_type = "image"

    def __init__(
        self,
        root: str = "",
        sources: Union[str, Sequence[str], None] = None,
        targets: Union[str, Sequence[str], None] = None,
        height: int = 256,
        width: int = 128,
        transforms: Union[str, Sequence[str], None] = "random_flip",
        norm_mean: Optional[Sequence[float]] = None,
        norm_std: Optional[Sequence[float]] = None,
        use_gpu: bool = False,
        split_id: int = 0,
        combineall: bool = False,
        batch_size_train: int = 32,
        batch_size_test: int = 32,
        workers: int = 4,
        num_instances: int = 4,
        train_sampler: str = "RandomSampler",
        cuhk03_labeled: bool = False,
        cuhk03_classic_split: bool = False,
        market1501_500k: bool = False,
        seed: Optional[int] = None,
        dataset_kwargs: Optional[Dict[str, Dict[str, Any]]] = None,
        num_replicas: int = 1,
        rank: int = 0,
        verbose: bool = True,
    ):
        self.sources = _as_names(sources, "sources")
        if not self.sources:
            raise ValueError("sources must name at least one dataset, e.g. 'market1501'")
        self.targets = _as_names(targets, "targets") or list(self.sources)
        if batch_size_train < 1 or batch_size_test < 1:
            raise ValueError(
                f"batch_size_train/batch_size_test must be >= 1, got "
                f"{batch_size_train}/{batch_size_test}"
            )
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.dataset_kwargs = dict(dataset_kwargs or {})
        unused = set(self.dataset_kwargs) - set(self.sources) - set(self.targets)
        if unused:
            raise ValueError(f"dataset_kwargs names {sorted(unused)} not in sources or targets")
        self.height = height
        self.width = width
        self.use_gpu = use_gpu
        self.workers = workers
        self.seed = resolve_seed(seed)
        self.transform_tr, self.transform_te = build_transforms(
            height, width, transforms=transforms, norm_mean=norm_mean, norm_std=norm_std
        )
        self._common = dict(
            root=root,
            split_id=split_id,
            cuhk03_labeled=cuhk03_labeled,
            cuhk03_classic_split=cuhk03_classic_split,
            market1501_500k=market1501_500k,
            verbose=verbose,
        )

        parsed = {name: self._init_dataset(name, combineall) for name in self.sources}
        self.train_set: ImageDataset = sum(parsed[name] for name in self.sources)
        self.num_train_pids = self.train_set.num_train_pids
        self.num_train_cams = self.train_set.num_train_cams
        self.train_loader = self._build_train_loader(
            train_sampler, batch_size_train, num_instances, num_replicas, rank
        )
        self.test_loader: Dict[str, Dict[str, DataLoader]] = {}
        self.test_dataset: Dict[str, Dict[str, list]] = {}
        for name in self.targets:
            # combineall only changes train, so a source's query/gallery can be reused.
            dataset = parsed[name] if name in parsed else self._init_dataset(name, False)
            self._add_test_loaders(name, dataset, batch_size_test)
        if verbose:
            print(self.summary())

    def _build_train_loader(
        self, sampler: str, batch_size: int, num_instances: int, num_replicas: int, rank: int
    ) -> DataLoader:
        """The training DataLoader over :attr:`train_set`; sets :attr:`train_sampler`.

        Its generator (reseeded by :meth:`set_epoch`) seeds the workers' random streams.
        """
        self.train_sampler = build_train_sampler(
            self.train_set.train,
            sampler,
            batch_size=batch_size,
            num_instances=num_instances,
            seed=self.seed,
            num_replicas=num_replicas,
            rank=rank,
        )
        self._loader_generator = torch.Generator()
        self._loader_generator.manual_seed(self.seed)
        return DataLoader(
            self.train_set.with_mode("train", self.transform_tr),
            sampler=self.train_sampler,
            batch_size=batch_size,
            shuffle=False,
            num_workers=self.workers,
            pin_memory=self.use_gpu,
            drop_last=True,
            generator=self._loader_generator,
        )

    def _add_test_loaders(self, name: str, dataset: ImageDataset, batch_size: int) -> None:
        """Fill :attr:`test_loader` and :attr:`test_dataset` for target ``name``."""
        self.test_loader[name] = {}
        self.test_dataset[name] = {}
        for subset in ("query", "gallery"):
            self.test_loader[name][subset] = DataLoader(
                dataset.with_mode(subset, self.transform_te),
                batch_size=batch_size,
                shuffle=False,
                num_workers=self.workers,
                pin_memory=self.use_gpu,
                drop_last=False,
            )
            self.test_dataset[name][subset] = list(getattr(dataset, subset))

    def _init_dataset(self, name: str, combineall: bool) -> ImageDataset:
        kwargs = {**self._common, **self.dataset_kwargs.get(name, {})}
        return init_image_dataset(name, mode="train", combineall=combineall, **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """Make epoch ``epoch``'s sample order and worker seeds depend only on ``(seed, epoch)``
        (call before iterating ``train_loader``, e.g. when resuming). With ``workers=0`` the
        augmentations draw from torch's global generator, which the caller seeds or restores.
        """
        if hasattr(self.train_sampler, "set_epoch"):
            self.train_sampler.set_epoch(epoch)
        self._loader_generator.manual_seed(self.seed + epoch)

    def fetch_test_loaders(self, name: str) -> Tuple[DataLoader, DataLoader]:
        """``(query_loader, gallery_loader)`` of target ``name``.

        Raises:
            KeyError: ``name`` is not a target.
        """
        if name not in self.test_loader:
            raise KeyError(f"{name!r} is not a target; targets: {self.targets}")
        return self.test_loader[name]["query"], self.test_loader[name]["gallery"]

    def return_query_and_gallery_by_name(self, name: str) -> Tuple[list, list]:
        """Query and gallery items ``(img_path, pid, camid, dsetid)`` of target ``name``."""
        return self.test_dataset[name]["query"], self.test_dataset[name]["gallery"]

    def preprocess_pil_img(self, image: Image.Image) -> torch.Tensor:
        """Apply the test transform to an RGB PIL image -> ``(3, H, W)`` float32 tensor."""
        return self.transform_te(image)

    def summary(self) -> str:
        """torchreid's summary block (sources, ids, images, cameras, targets)."""
        lines = [
            "  **************** Summary ****************",
            f"  source            : {self.sources}",
            f"  # source datasets : {len(self.sources)}",
            f"  # source ids      : {self.num_train_pids}",
            f"  # source images   : {len(self.train_set.train)}",
            f"  # source cameras  : {self.num_train_cams}",
            f"  target            : {self.targets}",
            "  *****************************************",
        ]
        return "\n".join(lines)
