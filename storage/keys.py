"""Secret key files beside the database (never in it): the ballot key and the record's signing key."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)


def load_or_create_secret(path: Path, size: int, *, what: str, error: type[Exception], why: str) -> bytes:
    """The ``size`` random bytes in ``path``, created with mode 0600 if it does not exist yet.

    Written to a private temporary file and linked into place: a crash never leaves a short key, and of
    two processes starting at once exactly one key wins. A file of another length raises ``error`` with a
    sentence naming ``what`` and ``why`` it matters; a file others may read is logged as a warning.
    """
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(size))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
                log.info("created the %s %s", what, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    secret = path.read_bytes()
    if len(secret) != size:
        raise error(
            f"the {what} {path} holds {len(secret)} bytes, not {size}; restore it from a backup ({why})"
        )
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("the %s %s is readable by other users; chmod 600 it", what, path)
    return secret
