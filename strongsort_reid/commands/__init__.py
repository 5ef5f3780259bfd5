"""Command-line programs of the appearance side, run through ``strongsort-reid <command>``
(the files under ``scripts/`` call the same ``main`` functions)."""
