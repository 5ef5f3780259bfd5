"""Track people in a video with one command: ``python demo/track.py --source video.mp4``.

The same program is installed as ``strongsort-track``; ``--help`` lists every option. Its code
lives in :mod:`trackers.app.cli`.
"""

import sys

from trackers.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
