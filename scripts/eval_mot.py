"""Evaluate MOTChallenge results (HOTA, DetA, AssA, MOTA, IDF1, IDSW) with TrackEval.

Same program as ``strongsort-reid eval-mot``; the options are documented in
:mod:`trackers.commands.eval_mot`.
"""

import sys

from trackers.commands.eval_mot import main

if __name__ == "__main__":
    sys.exit(main())
