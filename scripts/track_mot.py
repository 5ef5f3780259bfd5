"""Run StrongSORT over MOTChallenge sequences from their public detections (det.txt).

Same program as ``strongsort-reid track-mot``; the options are documented in
:mod:`trackers.commands.track_mot`.
"""

import sys

from trackers.commands.track_mot import main

if __name__ == "__main__":
    sys.exit(main())
