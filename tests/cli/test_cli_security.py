"""CLI: the enrolment rule warns from ``cvlab faces enrol``; a clip given as a photo is called a video."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.cli.main import main

PEOPLE = Path(__file__).resolve().parent.parent.parent / "assets" / "faces" / "people"


def test_faces_enrol_warns_about_a_lookalike(tmp_path, capsys):
    folder = tmp_path / "people"
    (folder / "Barack_Obama").mkdir(parents=True)
    (folder / "Mystery_Guest").mkdir()
    for k in (1, 2):
        shutil.copy(PEOPLE / "Barack_Obama" / f"{k}.jpg", folder / "Barack_Obama" / f"{k}.jpg")
    shutil.copy(PEOPLE / "Barack_Obama" / "3.jpg", folder / "Mystery_Guest" / "3.jpg")  # mislabelled
    shutil.copy(PEOPLE / "Joe_Biden" / "1.jpg", folder / "Mystery_Guest" / "1.jpg")
    out = tmp_path / "g.json"
    assert main(["--offline", "faces", "enrol", str(folder), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["people"] == {"Barack Obama": 2, "Mystery Guest": 2}  # enrolled as the folders say
    assert len(result["warnings"]) == 1 and "Mystery_Guest/3.jpg" in result["warnings"][0]
    assert "looks like Barack Obama" in result["warnings"][0]
    assert "warning: Mystery_Guest/3.jpg" in captured.err


def test_a_clip_given_as_a_photo_is_called_a_video(tmp_path, capsys):
    clip = tmp_path / "holiday.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 1000)
    photo = PEOPLE / "Joe_Biden" / "1.jpg"
    assert main(["--offline", "faces", "verify", str(clip), str(photo)]) == 2  # verify takes photos only
    err = capsys.readouterr().err
    assert "'holiday.mp4' is a video (MP4), not a photo" in err and "clips go to cvlab segment" in err
    assert "\n" not in err.strip()
