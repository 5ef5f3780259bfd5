"""Hostile MOTChallenge files: every bad file is a ValueError naming ``file:line`` (issue #17).

Cases 7-10 of the reliability issue, reader side: ``seqinfo.ini`` without a section header or
with a length <= 0, ``det.txt`` with a header line, a short row, frames 0, negative, fractional
or absurdly large, NaN in results, duplicate ``(frame, id)`` rows.
"""

import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import (
    MAX_FRAME,
    MOTDetections,
    read_gt,
    read_results,
    read_seqinfo,
)

SEQINFO = (
    "[Sequence]\nname=SEQ\nimDir=img1\nframeRate={rate}\nseqLength={length}\n"
    "imWidth=640\nimHeight=480\nimExt=.jpg\n"
)
DET_ROWS = ["1,-1,10,20,30,60,0.9", "1,-1,100,20,30,60,0.8", "2,-1,12,20,30,60,0.9"]


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _det_file(tmp_path, lines):
    return _write(tmp_path / "det" / "det.txt", "\n".join(lines) + "\n")


def test_seqinfo_without_section_header_names_the_file(tmp_path):
    _write(tmp_path / "seqinfo.ini", "name=SEQ\nseqLength=10\n")
    with pytest.raises(ValueError, match=r"seqinfo\.ini.*section header") as info:
        read_seqinfo(tmp_path)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize(
    ("key", "rate", "length"),
    [
        ("seqLength", 30, 0),
        ("seqLength", 30, -5),
        ("seqLength", 30, MAX_FRAME + 1),
        ("frameRate", 0, 10),
        ("frameRate", "nan", 10),
    ],
)
def test_seqinfo_out_of_range_values_are_rejected(tmp_path, key, rate, length):
    _write(tmp_path / "seqinfo.ini", SEQINFO.format(rate=rate, length=length))
    with pytest.raises(ValueError, match=rf"seqinfo\.ini: {key} must be"):
        read_seqinfo(tmp_path)


def test_valid_seqinfo_still_reads(tmp_path):
    _write(tmp_path / "seqinfo.ini", SEQINFO.format(rate=25, length=MAX_FRAME))
    info = read_seqinfo(tmp_path)
    assert (info.seq_length, info.frame_rate, info.im_width) == (MAX_FRAME, 25.0, 640)


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["frame,id,x,y,w,h,conf", *DET_ROWS], 1, "holds .frame.: a numeric"),
        ([DET_ROWS[0], DET_ROWS[1], "2,-1,12,20,30,60"], 3, "has 6 columns"),
        ([DET_ROWS[0], "0,-1,12,20,30,60,0.9"], 2, "frame must be a whole number"),
        ([DET_ROWS[0], "-3,-1,12,20,30,60,0.9"], 2, "frame must be a whole number"),
        ([DET_ROWS[0], "", "2.5,-1,12,20,30,60,0.9"], 3, "frame must be a whole number"),
        ([DET_ROWS[0], "1e9,-1,12,20,30,60,0.9"], 2, "frame must be a whole number"),
        ([DET_ROWS[0], "2,-1,nan,20,30,60,0.9"], 2, "NaN or inf"),
    ],
)
def test_bad_det_rows_name_file_and_line(tmp_path, lines, line, message):
    path = _det_file(tmp_path, lines)
    with pytest.raises(ValueError, match=message) as info:
        MOTDetections(path)
    assert f"{path}:{line}:" in str(info.value)
    assert "\n" not in str(info.value)


def test_det_frames_beyond_the_sequence_length_are_rejected(tmp_path):
    path = _det_file(tmp_path, [*DET_ROWS, "7,-1,12,20,30,60,0.9"])
    with pytest.raises(ValueError, match=rf"{path}:4: .*1\.\.5"):
        MOTDetections(path, max_frame=5)
    assert MOTDetections(path, max_frame=7).last_frame == 7


def test_a_valid_det_file_with_blank_lines_and_crlf_reads(tmp_path):
    path = _write(tmp_path / "det.txt", "\r\n".join([DET_ROWS[0], "", *DET_ROWS[1:]]) + "\r\n")
    detections = MOTDetections(path)
    assert detections.frames.tolist() == [1, 1, 2]
    np.testing.assert_allclose(detections.boxes[0], [10, 20, 40, 80, 0.9, 0])


def test_nan_in_results_names_file_and_line(tmp_path):
    path = _write(tmp_path / "r.txt", "1,1,10,20,30,60,1,-1,-1,-1\n2,1,nan,20,30,60,1,-1,-1,-1\n")
    with pytest.raises(ValueError, match=rf"{path}:2: .*NaN or inf"):
        read_results(path)


@pytest.mark.parametrize("reader", [read_results, read_gt])
def test_duplicate_frame_and_id_rows_are_rejected(tmp_path, reader):
    rows = ["1,1,10,20,30,60,1,1,1", "1,2,50,20,30,60,1,1,1", "2,1,10,20,30,60,1,1,1"]
    path = _write(tmp_path / "f.txt", "\n".join([*rows, "1,2,55,20,30,60,1,1,1"]) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:4: second box of id 2 in frame 1 \(see line 2"):
        reader(path)


def test_fractional_ids_in_results_are_rejected(tmp_path):
    path = _write(tmp_path / "r.txt", "1,1.5,10,20,30,60,1,-1,-1,-1\n")
    with pytest.raises(ValueError, match=rf"{path}:1: id must be a whole number"):
        read_results(path)


def test_binary_file_is_a_value_error(tmp_path):
    path = tmp_path / "det.txt"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(ValueError, match="not a UTF-8 text file"):
        MOTDetections(path)
