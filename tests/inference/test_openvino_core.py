"""The OpenVINO backend shares one Core per process, so other Cores cannot leave a dead signal
stack behind.

OpenVINO's CPU plugin swaps the thread's alternate signal stack in and out with its lifetime;
plugins released in creation order leave the thread on unmapped memory and the next Python
signal handler crashes the process.
"""

import textwrap

import pytest
from signal_survival import assert_survives_a_signal

pytest.importorskip("openvino")

PRELUDE = textwrap.dedent(
    """
    import gc
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops
    import torch
    from strongsort_reid.inference.backends import OpenVinoBackend


    def features_model():
        images = ops.parameter([-1, 3, 8, 4], np.float32)
        return ov.Model([ops.reduce_mean(images, [2, 3], False)], [images])


    def foreign_compiled_model():
        # What ultralytics does for an OpenVINO detector: a Core of its own.
        core = ov.Core()
        return core.compile_model(features_model(), "CPU")


    def run_backend():
        backend = OpenVinoBackend(features_model())
        assert backend(torch.ones(2, 3, 8, 4)).shape == (2, 3)
        return backend
    """
)

SCENARIOS = {
    # The demo: the detector's Core first, the ReID backend second, released in that order.
    "foreign_first": """
        foreign = foreign_compiled_model()
        backend = run_backend()
        del foreign; gc.collect()
        del backend; gc.collect()
    """,
    "backend_first": """
        backend = run_backend()
        foreign = foreign_compiled_model()
        del backend; gc.collect()
        del foreign; gc.collect()
    """,
    "two_backends": """
        first, second = run_backend(), run_backend()
        del first; gc.collect()
        del second; gc.collect()
    """,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_signal_handlers_survive_openvino_cores_coming_and_going(scenario):
    assert_survives_a_signal(PRELUDE + textwrap.dedent(SCENARIOS[scenario]), timeout=120)


def test_backends_share_one_core():
    from strongsort_reid.inference.compat import openvino_core

    assert openvino_core() is openvino_core()
