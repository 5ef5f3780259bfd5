"""``strongsort-reid weights``: the ReID weight registry, and which files are already on disk."""

from __future__ import annotations

import argparse
from typing import List, Optional

from strongsort_reid.models import available_weights, get_weights_entry
from strongsort_reid.utils.download import PROJECT_WEIGHTS_DIR, cache_dir


def weights_table() -> str:
    """The registry as a Markdown table, one row per checkpoint."""
    rows = [
        "| name | architecture | trained on | classes | sha256 | URL |",
        "|---|---|---|---|---|---|",
    ]
    for name in available_weights():
        entry = get_weights_entry(name)
        sha = f"`{entry.sha256[:16]}...`" if entry.sha256 else "-"
        rows.append(
            f"| `{name}` | `{entry.arch}` | {entry.dataset or '-'} | {entry.num_classes} | "
            f"{sha} | {entry.urls[0]} |"
        )
    return "\n".join(rows) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="strongsort-reid weights", description=__doc__)
    parser.add_argument("--local", action="store_true", help="only the weights found on disk")
    args = parser.parse_args(argv)
    folders = [cache_dir(), PROJECT_WEIGHTS_DIR]
    if not args.local:
        print(weights_table(), end="")
        print(f"\nLooked up in: {', '.join(map(str, folders))} (then downloaded to the first)")
        return 0
    for name in available_weights():
        filename = get_weights_entry(name).filename
        found = next((f / filename for f in folders if (f / filename).is_file()), None)
        if found is not None:
            print(f"{name}\t{found}")
    return 0
