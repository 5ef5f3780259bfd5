"""Install the strongsort_reid (appearance) and trackers (StrongSORT) packages."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent

setup(
    name="strongsort-reid",
    version="0.1.0",
    description=(
        "torchreid-compatible person re-identification and a fast, vectorised StrongSORT "
        "multi-object tracker"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["NOTICE"],
    python_requires=">=3.9",
    packages=find_packages(
        include=["strongsort_reid", "strongsort_reid.*", "trackers", "trackers.*"]
    ),
    # The bundled default models and their README travel in editable installs, wheels and sdists.
    package_data={
        "trackers": ["configs/*.yaml", "weights/*.pth", "weights/README.md"],
        "strongsort_reid.weights": ["*.pth", "*.onnx", "README.md"],
        # Training recipes that installed code starts from (configs/finetune_small.yaml links here).
        "strongsort_reid.engine.recipes": ["*.yaml"],
    },
    install_requires=[
        "torch>=2.3",
        "torchvision>=0.18",
        "numpy>=1.23",
        "scipy>=1.9",
        "filterpy>=1.4.5",
        # OpenCV 5 moved the HOG people detector (the demo's offline fallback) to contrib.
        "opencv-python>=4.7,<5",
        "ultralytics>=8.1",
        "lap>=0.5.12",
        "tqdm>=4.64",
        "PyYAML>=6.0",
        "Pillow>=9.0",
    ],
    extras_require={
        "dev": ["pytest>=7.4", "hypothesis>=6.80", "ruff>=0.4"],
        "export": ["onnx>=1.14", "onnxruntime>=1.16", "openvino>=2023.3", "nncf>=2.14"],
        "eval": ["trackeval>=1.0.1"],
        "train": ["tensorboard>=2.14"],
        "tune": ["optuna>=3.4"],
    },
    entry_points={
        "console_scripts": [
            "strongsort-track=trackers.app.cli:main",
            "strongsort-reid=strongsort_reid.cli:main",
        ]
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)
