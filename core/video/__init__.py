"""Clips in, clips out: :mod:`core.video.io` (streaming decode, H.264 MP4 writer), :mod:`core.video.run`
(a per-frame processor over a clip, the clip's JSON), :mod:`core.video.tasks` (segmentation, faces and
style processors with tracked ids), :mod:`core.video.synth` (pan-and-zoom clips of a photo)."""
