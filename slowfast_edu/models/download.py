"""Fetching a file into a cache: over HTTP, resumable after an interruption, or from a folder.

`download(url, dest)` writes `dest.part` first and renames it into place only when every byte has
arrived, so `dest` is either absent or complete. When a transfer breaks off (the connection drops,
a time-out), the `.part` file stays: the next call asks the server for the rest with an HTTP
`Range` request and appends it, instead of starting again from byte 0 (a 140 MB checkpoint over a
classroom's Wi-Fi). A server that ignores `Range` answers with the whole file, which then
replaces the part. `fetch(source, name, dest)` takes a base URL or a local folder (a mirror
holding the zoo's file names) and does the same.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

CHUNK = 1 << 20  # bytes per read


class DownloadError(OSError):
    """A file that could not be downloaded (the message says why and what to do)."""


def _bar(total: int | None, initial: int, name: str, progress: bool) -> tqdm:
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not progress)


def _reason(error: BaseException, timeout: float) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return f"no answer within {timeout:g} s"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


def download(url: str, dest: str | Path, progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch `url` to `dest` (nothing to do when it exists), resuming a `.part` left before."""
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    total: int | None = None
    try:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = int(response.headers.get("Content-Length") or 0) or None
            resumed = have and response.status == 206 and _range_start(response) == have
            if response.status == 206 and not resumed:  # a range we did not ask for: start over
                part.unlink(missing_ok=True)
                response.close()
                return download(url, dest, progress, timeout)
            if not resumed:
                have = 0  # a fresh file: the server ignored Range, or there was no part
            total = have + length if length is not None else None
            with open(part, "ab" if resumed else "wb") as f, \
                    _bar(total, have, dest.name, progress) as bar:
                while chunk := response.read(CHUNK):
                    bar.update(f.write(chunk))
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # "range not satisfiable": the part is stale; start again
            part.unlink(missing_ok=True)
            return download(url, dest, progress, timeout)
        part.unlink(missing_ok=True)  # the source is wrong: keep nothing
        raise DownloadError(f"cannot download {url}: {_reason(e, timeout)}; if this machine is "
                            f"offline, put the file at {dest}") from None
    except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, time-outs, resets
        if not part.exists() or part.stat().st_size == 0:
            part.unlink(missing_ok=True)
            raise DownloadError(f"cannot download {url}: {_reason(e, timeout)}; if this machine "
                                f"is offline, put the file at {dest}") from None
        raise _interrupted(url, part, total, _reason(e, timeout)) from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise _interrupted(url, part, total, "the connection closed early")
    os.replace(part, dest)  # atomic: `dest` is either absent or complete
    return dest


def _range_start(response) -> int | None:
    """The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`."""
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range") or "")
    return int(match.group(1)) if match else None


def _interrupted(url: str, part: Path, total: int | None, reason: str) -> DownloadError:
    of = f" of {total / 1e6:.1f} MB" if total else ""
    return DownloadError(f"the download of {url} was interrupted after "
                         f"{part.stat().st_size / 1e6:.1f} MB{of} ({reason}); run the same command "
                         f"again to resume it (the part is kept at {part})")


def copy_file(source: str | Path, dest: str | Path, progress: bool = True) -> Path:
    """Copy a local file to `dest` through a `.part` file, with a progress bar."""
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise DownloadError(f"{source} does not exist")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with open(source, "rb") as f, open(part, "wb") as out, \
                _bar(source.stat().st_size, 0, dest.name, progress) as bar:
            while chunk := f.read(CHUNK):
                bar.update(out.write(chunk))
        os.replace(part, dest)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise DownloadError(f"cannot copy {source} to {dest}: {e}") from None
    return dest


def is_folder(source: str | os.PathLike) -> bool:
    """True for a local folder (a mirror on disk), False for a URL."""
    return not re.match(r"^[a-z][a-z0-9+.-]*://", str(source)) and Path(source).is_dir()


def fetch(source: str | os.PathLike, name: str, dest: str | Path, progress: bool = True,
          timeout: float = 60.0) -> Path:
    """File `name` from `source` (a base URL or a local folder) to `dest`."""
    if is_folder(source):
        return copy_file(Path(source) / name, dest, progress)
    if not re.match(r"^https?://", str(source)):
        raise DownloadError(f"{source} is neither a folder nor an http(s) URL")
    return download(f"{str(source).rstrip('/')}/{name}", dest, progress, timeout)


def remove(path: Path) -> None:
    """Delete a file and any `.part` of it."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".part").unlink(missing_ok=True)

