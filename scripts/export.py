"""Export a ReID feature network to ONNX, OpenVINO IR or TorchScript and check it.

Same program as ``strongsort-reid export``; the options and examples are documented in
:mod:`strongsort_reid.commands.export`.
"""

import sys

from strongsort_reid.commands.export import main

if __name__ == "__main__":
    sys.exit(main(prog="export.py"))
