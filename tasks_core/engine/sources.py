"""Deployment sources: a local folder as is, or a git repository checked out per commit.

A git source (``https://``, ``ssh://``, ``git@``, ``file://`` or a path ending ``.git``) is
mirrored once under the data folder and fetched on use; each commit is extracted into its
own folder (``git archive``), so a worker loads exactly the code of the commit it resolved
and never re-extracts a commit it has.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
from pathlib import Path

from tasks_core.errors import ConfigurationError

__all__ = ["is_git", "materialize"]


def is_git(source: str) -> bool:
    """Whether a source names a git repository rather than a local folder."""
    return source.startswith(("https://", "http://", "ssh://", "git@", "file://")) or \
        source.rstrip("/").endswith(".git")


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigurationError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def materialize(source: str, ref: str | None, data_dir: Path) -> tuple[Path, str | None]:
    """A local folder holding the source's code, and the commit it is at (git only)."""
    if not is_git(source):
        folder = Path(source)
        if not folder.is_dir():
            raise ConfigurationError(f"source folder {source!r} does not exist")
        return folder, None
    cache = data_dir / "sources" / hashlib.sha1(source.encode()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    mirror = cache / "mirror.git"
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not mirror.exists():
            _git("clone", "--quiet", "--mirror", source, str(mirror))
        else:
            _git("--git-dir", str(mirror), "fetch", "--quiet", "--prune", "origin")
        commit = _git("--git-dir", str(mirror), "rev-parse", f"{ref or 'HEAD'}^{{commit}}")
        folder = cache / commit
        if not folder.exists():
            partial = cache / f".{commit}.partial"
            partial.mkdir(exist_ok=True)
            archive = subprocess.run(["git", "--git-dir", str(mirror), "archive", commit],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
            partial.rename(folder)
    return folder, commit
