"""Command-line programs of the tracker side (installed through ``strongsort-reid``; the files
under ``scripts/`` call the same ``main`` functions)."""
