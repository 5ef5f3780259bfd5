"""``--postprocess`` of the video demo: offline steps applied to the saved MOT text.

The tracker runs online (the annotated video shows that result); when the run is over, the
MOTChallenge results file ``<name>.txt`` goes through the chosen steps of
:func:`trackers.motchallenge.postprocess.apply_postprocess` (``aflink``, ``gsi``, in the given
order) into ``<name>_post.txt`` beside it. ``link`` needs every detection's embedding, which the
demo does not keep: it is offered by ``strongsort-track track-mot``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Tuple

DEMO_STEPS = ("aflink", "gsi")
HELP = (
    "offline steps for the saved MOT text, comma list of aflink, gsi (e.g. aflink,gsi), written "
    "to <name>_post.txt; the video shows the online result"
)


def parse_chain(text: str) -> Tuple[str, ...]:
    """The steps of ``--postprocess`` (``"none"``: none).

    Raises:
        argparse.ArgumentTypeError: An unknown or repeated step, or ``link``.
    """
    from ..motchallenge.postprocess import parse_steps

    try:
        steps = parse_steps(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if "link" in steps:
        raise argparse.ArgumentTypeError(
            "--postprocess link needs every detection's embedding, which the video demo does "
            "not keep: use strongsort-track track-mot --postprocess link,gsi"
        )
    return steps


def post_path(results: Path) -> Path:
    """Where the post-processed copy of ``results`` goes: ``<name>_post.txt`` beside it."""
    return results.with_name(f"{results.stem}_post{results.suffix}")


def postprocess_results(
    results: Path, steps: Tuple[str, ...], aflink_weights: Optional[Path] = None
) -> Path:
    """Apply ``steps`` to the results file ``results``; returns the file written."""
    from ..motchallenge.postprocess import apply_postprocess

    model = None
    if "aflink" in steps:
        from ..motchallenge.postprocess.aflink import load_aflink

        model = load_aflink(aflink_weights)
    destination = post_path(results)
    apply_postprocess(results, steps, aflink_model=model, destination=destination)
    return destination
