"""Adapters that plug StrongSORT into other ecosystems: :mod:`.ultralytics` attaches it to an
ultralytics ``YOLO`` model. Nothing is imported here, so ``import trackers.integrations`` needs
neither torch nor ultralytics."""
