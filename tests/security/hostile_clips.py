"""Hostile clips a stranger can craft with PyAV (FFmpeg in the wheel), for the clip-endpoint attacks
(tests/security/test_video_*.py). Each maker writes one file and returns its path; all are small on
the wire (well under the 25 MB upload cap) and cheap to make."""
from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "assets" / "video" / "two_people_pan.mp4"


def _jpeg(width: int, height: int, grey: int = 128) -> bytes:
    """A uniform greyscale JPEG (a few hundred kB even at 16000x16000)."""
    buf = io.BytesIO()
    Image.new("L", (width, height), grey).save(buf, format="JPEG", quality=50)
    return buf.getvalue()


def mjpeg_clip(path: Path, sizes: list[tuple[int, int]], fps: int = 10) -> Path:
    """An MJPEG clip in Matroska whose frames have the given (width, height) each: the container's
    header says the first frame's size, later frames may be far larger (a size that lies)."""
    import av

    cache: dict[tuple[int, int], bytes] = {}
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height, stream.pix_fmt = sizes[0][0], sizes[0][1], "yuvj420p"
        for i, size in enumerate(sizes):
            if size not in cache:
                cache[size] = _jpeg(*size)
            packet = av.Packet(cache[size])
            packet.stream, packet.pts, packet.dts = stream, i, i
            packet.time_base = Fraction(1, fps)
            packet.is_keyframe = True
            out.mux(packet)
    return path


def _h264_packets(width: int, height: int, n: int) -> list:
    """Encoded H.264 packets of ``n`` frames (a moving bar), with the encoder's extradata."""
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"preset": "ultrafast", "tune": "zerolatency"}
    packets = []
    for i in range(n):
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[:, (i * 2) % width] = 255
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = i
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return packets


def lying_timestamps_clip(path: Path, frames: int, side: int = 16) -> Path:
    """A Matroska H.264 clip of ``frames`` tiny frames that all claim the same instant (time 0):
    a seconds cap on timestamps never stops its decode. The stream is one keyframe, then one P-frame
    repeated (a few bytes each), so a few hundred thousand frames stay a few MB."""
    import av

    packets = _h264_packets(side, side, 2)
    key, delta = packets[0], packets[1]
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("h264", rate=25)
        stream.width, stream.height, stream.pix_fmt = side, side, "yuv420p"
        for i in range(frames):
            packet = av.Packet(key if i == 0 else delta)
            packet.stream, packet.pts, packet.dts = stream, 0, 0
            packet.time_base = Fraction(1, 1000)
            packet.is_keyframe = i == 0
            out.mux(packet)
    return path


def many_streams_clip(path: Path, streams: int, side: int = 16) -> Path:
    """A Matroska file with ``streams`` video streams of one tiny MJPEG frame each."""
    import av

    jpeg = _jpeg(side, side)
    with av.open(str(path), "w", format="matroska") as out:
        made = []
        for _ in range(streams):
            s = out.add_stream("mjpeg", rate=10)
            s.width, s.height, s.pix_fmt = side, side, "yuvj420p"
            made.append(s)
        for s in made:
            packet = av.Packet(jpeg)
            packet.stream, packet.pts, packet.dts = s, 0, 0
            packet.time_base = Fraction(1, 10)
            packet.is_keyframe = True
            out.mux(packet)
    return path


def h264_clip(path: Path, width: int, height: int, frames: int, fps: int = 10) -> Path:
    """An honest H.264 MP4 of ``frames`` frames of width x height at ``fps``."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            rgb = np.full((height, width, 3), 40, np.uint8)
            rgb[:, (i * 4) % width] = 255
            for p in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return path


def audio_only_clip(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 holding only an AAC audio track (a tone)."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        t = np.arange(int(44100 * seconds)) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, start
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return path


def empty_video_clip(path: Path) -> Path:
    """A Matroska file with a video stream and no frame in it."""
    import av

    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuvj420p"
        out.start_encoding()
    return path


def truncated_clip(path: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` of the bundled clip's bytes."""
    data = CLIP.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def playlist_files(folder: Path) -> dict[str, Path]:
    """Text files that would make FFmpeg read other files or URLs: HLS playlists and concat lists
    naming a server file, uploaded under clip names."""
    target = CLIP.resolve()
    texts = {
        "playlist.m3u8": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{target}\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n",
        "playlist_as.mp4": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{target}\n#EXT-X-ENDLIST\n",
        "concat.mp4": f"ffconcat version 1.0\nfile '{target}'\nfile '/etc/passwd'\n",
        "concat.txt": f"ffconcat version 1.0\nfile '{target}'\n",
        "http_playlist.mp4": "#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/secret.ts\n#EXT-X-ENDLIST\n",
    }
    out = {}
    for name, text in texts.items():
        (folder / name).write_text(text)
        out[name] = folder / name
    return out


def photo_named_clip(path: Path) -> Path:
    """A JPEG photo saved under a clip's name."""
    path.write_bytes((ROOT / "assets" / "photos" / "two_people.jpg").read_bytes())
    return path


def server_refs(tmp_path: Path, upload_dir: Path) -> dict[str, object]:
    """name -> clip payload a stranger can write; none is an upload this server received: server files
    (with and without Gradio's FileData marker), a real clip outside the upload folder, ``..`` and a
    symlink leading out of the upload folder, a missing file, data:/http:/file: URLs, a bare string, no
    path at all."""
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(CLIP.read_bytes())
    upload_dir.mkdir(parents=True, exist_ok=True)
    link = upload_dir / f"cvlab-sec-cliplink-{tmp_path.name}.mp4"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(outside)
    meta = {"_type": "gradio.FileData"}
    return {
        "etc_passwd": {"path": "/etc/passwd"},
        "server_clip": {"path": str(outside)},
        "dotdot_escape": {"path": str(upload_dir / ".." / ".." / "etc" / "hostname")},
        "symlink_in_upload_dir": {"path": str(link)},
        "missing_file": {"path": str(upload_dir / "no-such-dir" / "missing.mp4")},
        "data_url": {"url": "data:video/mp4;base64,AAAAGGZ0eXBtcDQy", "path": None},
        "data_url_as_path": {"path": "data:video/mp4;base64,AAAAGGZ0eXBtcDQy"},
        "http_url": {"url": "http://127.0.0.1:1/x.mp4", "path": None},
        "file_url": {"path": f"file://{outside}"},
        "bare_string": str(outside),
        "no_path": {"orig_name": "x.mp4"},
        "marked_etc_passwd": {"path": "/etc/passwd", "meta": meta},
        "marked_server_clip": {"path": str(outside), "meta": meta},
        "marked_missing": {"path": str(tmp_path / "missing.mp4"), "meta": meta},
    }


def header_only_clip(path: Path) -> Path:
    """The bundled clip cut just after its index (``moov``, up front): it opens and says 30 frames, and
    holds none (the run fails after it has started)."""
    data = CLIP.read_bytes()
    path.write_bytes(data[: data.find(b"mdat") + 8])
    return path
