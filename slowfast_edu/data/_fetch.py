"""Where the Kinetics subset builder gets each video: a local copy, a direct URL, or yt-dlp.

A source's `fetch(clip, workdir)` returns the video file and whether it is already cut to the
annotated window, or raises `VideoUnavailable` with the reason (gone from YouTube, HTTP 404, not in
the local copy). Problems that are not about one video (no such folder, yt-dlp not installed, a
malformed URL template) raise at construction, before any work starts.
"""

from __future__ import annotations

import glob
import http.client
import importlib.util
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NamedTuple

from .kinetics import VIDEO_SUFFIXES

YOUTUBE_URL = "https://www.youtube.com/watch?v={youtube_id}"
# A small H.264 mp4 if there is one (what Kinetics needs after resizing to 256), video only: a
# single file, so yt-dlp needs no FFmpeg to merge streams.
YTDLP_FORMAT = ("bv*[height<=360][vcodec^=avc1][ext=mp4]/bv*[height<=360][ext=mp4]/"
                "bv*[height<=360]/b[height<=360]/bv*/b")
_TRIMMED = re.compile(r"(?P<id>.+)_(?P<start>\d+)_(?P<end>\d+)")  # {id}_{start:06d}_{end:06d}


class VideoUnavailable(Exception):
    """A video that cannot be had; the message says why. Recorded in the report, never fatal."""


class Fetched(NamedTuple):
    path: Path
    trimmed: bool  # already cut to the annotated window: keep the whole file


def format_url(template: str, clip) -> str:
    """The URL of `clip`'s video: `template` with {youtube_id}, {start} and {end} filled in."""
    return template.format(youtube_id=urllib.parse.quote(clip.youtube_id),
                           start=int(clip.start), end=int(clip.end))


def is_direct_url(template: str) -> bool:
    """True when the template names a video file on a web server (fetched without yt-dlp)."""
    parsed = urllib.parse.urlparse(template)
    return parsed.scheme in ("http", "https", "file") and \
        Path(parsed.path).suffix.lower() in VIDEO_SUFFIXES


class LocalSource:
    """A local Kinetics copy: `{id}_{start:06d}_{end:06d}.mp4` (trimmed) or `{id}.mp4` (whole
    video, any video suffix), flat or in any sub-folders (per class, per split)."""

    temporary = False  # the files belong to the user: never delete them

    def __init__(self, root: str | os.PathLike) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"--source {root}: no such folder (give the folder that holds "
                                    "the Kinetics videos)")
        self.root, self._trimmed, self._whole = root, {}, {}
        for folder, _, files in sorted(os.walk(root)):  # os.walk: no stat per file, fast on 650k
            for name in sorted(files):
                stem, suffix = os.path.splitext(name)
                if suffix.lower() not in VIDEO_SUFFIXES or name.endswith(".part"):
                    continue
                path = Path(folder) / name
                m = _TRIMMED.fullmatch(stem)
                if m:
                    self._trimmed.setdefault((m["id"], int(m["start"]), int(m["end"])), path)
                self._whole.setdefault(stem, path)

    def fetch(self, clip, workdir: Path) -> Fetched:
        """The clip's file in the copy, trimmed if there is one."""
        path = self._trimmed.get((clip.youtube_id, int(clip.start), int(clip.end)))
        if path is not None:
            return Fetched(path, trimmed=True)
        if clip.youtube_id in self._whole:
            return Fetched(self._whole[clip.youtube_id], trimmed=False)
        raise VideoUnavailable(f"not in {self.root} (neither {clip.name}.* nor "
                               f"{clip.youtube_id}.*)")


class DirectSource:
    """Video files on a web server (or file:// URLs), fetched with urllib."""

    temporary = True

    def __init__(self, template: str, timeout: float = 60.0) -> None:
        self.template, self.timeout = template, timeout

    def fetch(self, clip, workdir: Path) -> Fetched:
        """Download the clip's video into `workdir`."""
        url = format_url(self.template, clip)
        path = workdir / f"{clip.name}{Path(urllib.parse.urlparse(url).path).suffix or '.mp4'}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                with open(path, "wb") as f:
                    shutil.copyfileobj(response, f, 1 << 20)
                expected = response.headers.get("Content-Length")
        except urllib.error.HTTPError as e:
            raise VideoUnavailable(f"HTTP {e.code} {e.reason} from {url}") from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError,
                ConnectionError) as e:  # refused, no such host, timed out, connection dropped
            raise VideoUnavailable(f"cannot download {url}: {getattr(e, 'reason', e)}") from None
        if expected is not None and path.stat().st_size < int(expected):
            raise VideoUnavailable(f"download of {url} cut short: {path.stat().st_size} of "
                                   f"{expected} bytes")
        return Fetched(path, trimmed=False)


class YtDlpSource:
    """Videos from YouTube (or any site yt-dlp knows), only the annotated window when FFmpeg is
    installed (yt-dlp cuts sections with it), else the whole video at <= 360p."""

    temporary = True

    def __init__(self, template: str = YOUTUBE_URL, timeout: float = 60.0) -> None:
        if importlib.util.find_spec("yt_dlp") is None:
            raise ImportError(f"--download from {template} needs yt-dlp, an optional extra: "
                              "pip install yt-dlp")
        self.template, self.timeout = template, timeout
        self.sections = shutil.which("ffmpeg") is not None

    def fetch(self, clip, workdir: Path) -> Fetched:
        """Download the clip's video (or its window) into `workdir` with yt-dlp."""
        import yt_dlp  # optional: imported only when used

        options = {"format": YTDLP_FORMAT, "outtmpl": str(workdir / f"{clip.name}.%(ext)s"),
                   "quiet": True, "no_warnings": True, "noprogress": True, "noplaylist": True,
                   "socket_timeout": self.timeout, "retries": 3}
        if self.sections:
            options["download_ranges"] = yt_dlp.utils.download_range_func(
                None, [(clip.start, clip.end)])
        url = format_url(self.template, clip)
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                ydl.download([url])
        except yt_dlp.utils.DownloadError as e:  # "Video unavailable", "Private video", ...
            message = str(e).strip().splitlines()[-1].removeprefix("ERROR: ")
            raise VideoUnavailable(f"yt-dlp: {message}") from None
        files = [p for p in workdir.glob(f"{glob.escape(clip.name)}.*")
                 if p.suffix.lower() in VIDEO_SUFFIXES]
        if not files:
            raise VideoUnavailable(f"yt-dlp wrote no video file for {url}")
        return Fetched(files[0], trimmed=self.sections)


def make_source(source: str | os.PathLike | None, download: bool, url_template: str = YOUTUBE_URL,
                direct: bool = False, timeout: float = 60.0
                ) -> LocalSource | DirectSource | YtDlpSource:
    """The source the options ask for; raises a clear error when they do not make sense."""
    if (source is None) == (not download):
        raise ValueError("give either --source DIR (a local Kinetics copy) or --download")
    if source is not None:
        return LocalSource(source)
    if "{youtube_id}" not in url_template:
        raise ValueError(f"--url-template {url_template!r} must contain {{youtube_id}}")
    try:
        format_url(url_template, _Probe())
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"--url-template {url_template!r} does not format ({e!r}): its fields "
                         "are {youtube_id}, {start} and {end}") from None
    if direct or is_direct_url(url_template):
        return DirectSource(url_template, timeout)
    return YtDlpSource(url_template, timeout)


class _Probe(NamedTuple):  # a clip to try the URL template on
    youtube_id: str = "x"
    start: float = 0.0
    end: float = 10.0
