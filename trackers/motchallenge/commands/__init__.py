"""The MOTChallenge programs, each a module with ``main(argv) -> exit status``; installed as
subcommands of ``strongsort-track`` (see :mod:`trackers.app.cli`)."""
