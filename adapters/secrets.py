"""The key that seals the parties of every case at rest (Fernet), and where it comes from.

``KNTC_SECRET_KEY`` holds one Fernet key or several, comma-separated: the first encrypts, every
one of them decrypts, so a key is rotated by putting a new one first and running
``kntc secrets rotate`` (each stored party re-encrypted with the first key), then dropping the old.

Without the variable:

- a SQLite file gets a key file beside it (``kntc.db`` -> ``kntc.db.key``, mode 0600, the same
  format as the variable), created once with a warning that names the file (never a key); back
  it up with the database: without it the identities cannot be read;
- PostgreSQL refuses to store an identity (:class:`~engine.errors.ConfigError`): a key on the
  database server's disk would sit next to what it protects;
- an in-memory SQLite database gets a key of its own for the life of the process.

Every party of every case is sealed (petitioners of complaints and petitions are personal data
too); only a workflow with ``confidential_parties`` reveals them (:mod:`engine.identity`).
``cryptography`` is imported at the first seal or open, not at import.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import ConfigError
from engine.logs import get_logger

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from adapters.sql.store import SqlStore

__all__ = ["ENV", "SEALED", "Cipher", "LazyCipher", "PartyCipher", "generate_key", "key_file_for", "load_cipher",
           "parse_keys", "rotate_parties"]

#: The environment variable of the keys.
ENV = "KNTC_SECRET_KEY"
#: The key of a sealed party's JSON (``{"sealed": "<Fernet token>"}``); a plain party has ``name``.
SEALED = "sealed"

log = get_logger("secrets")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_NO_POSTGRES_KEY = (f"{ENV} is not set: PostgreSQL stores no identity without it (one Fernet key, or several "
                    f"comma-separated, the first encrypting; `kntc secrets new-key` makes one)")


class Cipher(Protocol):
    """What a store seals its parties with (:class:`PartyCipher`, or :class:`LazyCipher` over one)."""

    def seal(self, party: Mapping[str, Any]) -> dict[str, str]:
        """The stored form of a party."""
        ...

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """A stored party in clear."""
        ...

    def rotate(self, stored: Mapping[str, Any]) -> dict[str, str] | None:
        """A stored party sealed with the first key, or None when it already is."""
        ...


class PartyCipher:
    """Seals and opens parties with a MultiFernet over the keys (the first encrypts)."""

    def __init__(self, keys: Sequence[str], *, source: str = ENV) -> None:
        from cryptography.fernet import Fernet, MultiFernet
        if not keys:
            raise ConfigError(f"{source}: no key given")
        fernets = []
        for i, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(f"{source}: key {i} is not a Fernet key (44 characters of url-safe "
                                  f"base64; `kntc secrets new-key` makes one)") from None
        self.source = source
        self._fernet: MultiFernet = MultiFernet(fernets)
        self._first = fernets[0]

    def seal(self, party: Mapping[str, Any]) -> dict[str, str]:
        """The stored form of ``party``: ``{"sealed": token}`` encrypted with the first key."""
        return {SEALED: self._fernet.encrypt(_ENCODE(dict(party)).encode("utf-8")).decode("ascii")}

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """A stored party in clear (a plain one, from before migration 0010, as it is)."""
        if SEALED not in stored:
            return dict(stored)
        from cryptography.fernet import InvalidToken
        try:
            value = json.loads(self._fernet.decrypt(str(stored[SEALED]).encode("ascii")))
        except (InvalidToken, UnicodeEncodeError, ValueError):
            raise ConfigError(f"{self.source}: no key decrypts a stored identity (a key removed before "
                              f"`kntc secrets rotate` ran?)") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{self.source}: a stored identity is not a party")
        return value

    def rotate(self, stored: Mapping[str, Any]) -> dict[str, str] | None:
        """``stored`` sealed with the first key, or None when it already is."""
        if SEALED in stored and self.sealed_with_first(stored):
            return None
        return self.seal(self.open(stored))

    def sealed_with_first(self, stored: Mapping[str, Any]) -> bool:
        """Whether a stored party is sealed with the first key."""
        from cryptography.fernet import InvalidToken
        try:
            self._first.decrypt(str(stored.get(SEALED, "")).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True


class _Refusing:
    """The cipher of a PostgreSQL store without a key: every seal and open refused."""

    def seal(self, party: Mapping[str, Any]) -> dict[str, str]:
        raise ConfigError(_NO_POSTGRES_KEY)

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        if SEALED not in stored:
            return dict(stored)
        raise ConfigError(_NO_POSTGRES_KEY)

    def rotate(self, stored: Mapping[str, Any]) -> dict[str, str] | None:
        raise ConfigError(_NO_POSTGRES_KEY)


class LazyCipher:
    """A store's cipher, loaded at its first use (a store that never touches a party loads no key)."""

    def __init__(self, load: Callable[[], Cipher]) -> None:
        self._load = load
        self._cipher: Cipher | None = None
        self._lock = threading.Lock()

    def _get(self) -> Cipher:
        if self._cipher is None:
            with self._lock:
                if self._cipher is None:
                    self._cipher = self._load()
        return self._cipher

    def seal(self, party: Mapping[str, Any]) -> dict[str, str]:
        """See :meth:`PartyCipher.seal`."""
        return self._get().seal(party)

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """See :meth:`PartyCipher.open`."""
        return self._get().open(stored)

    def rotate(self, stored: Mapping[str, Any]) -> dict[str, str] | None:
        """See :meth:`PartyCipher.rotate`."""
        return self._get().rotate(stored)


def parse_keys(value: str) -> list[str]:
    """The keys of ``KNTC_SECRET_KEY`` or a key file: comma- or line-separated, blanks ignored."""
    return [k.strip() for k in value.replace("\n", ",").split(",") if k.strip()]


def generate_key() -> str:
    """A new Fernet key (url-safe base64 text)."""
    from cryptography.fernet import Fernet
    return Fernet.generate_key().decode("ascii")


def key_file_for(database: str | Path) -> Path:
    """The key file beside a SQLite file: ``kntc.db`` -> ``kntc.db.key``."""
    path = Path(database)
    return path.with_name(path.name + ".key")


def load_cipher(*, postgres: bool, sqlite_path: str | None,
                environ: Mapping[str, str] | None = None) -> Cipher:
    """The cipher of a store: from ``KNTC_SECRET_KEY``, else the key file (SQLite), else a refusal (PostgreSQL)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV, "")
    if value.strip():
        return PartyCipher(parse_keys(value))
    if postgres:
        return _Refusing()
    if sqlite_path is None or sqlite_path in ("", ":memory:"):
        return PartyCipher([generate_key()], source="the in-memory database's key")
    return _from_key_file(key_file_for(sqlite_path))


def _from_key_file(path: Path) -> PartyCipher:
    """The key file's cipher; the file is made (mode 0600, atomically) when there is none."""
    if not path.exists():
        _create_key_file(path)
    try:
        keys = parse_keys(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the key file ({type(exc).__name__}); set {ENV} or restore "
                          f"the file") from None
    return PartyCipher(keys, source=str(path))


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` (0600) unless another process made it first; warn once, when made."""
    temp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(generate_key() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)  # atomic, and never over a key another process wrote meanwhile
        except FileExistsError:
            return
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the key file ({type(exc).__name__}); set {ENV}") from None
    finally:
        temp.unlink(missing_ok=True)
    log.warning("secret_key_file_created", path=str(path),
                hint=f"{ENV} is not set: identities are sealed with this file's key; back it up with the "
                     f"database, or set {ENV}")


def rotate_parties(store: SqlStore, *, page: int = 500,
                   progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Re-seal every stored party with the first key, a page per transaction: ``(seen, rewritten)``.

    A party sealed with the first key already is left alone, and one stored plain (before
    migration 0010) is sealed, so a run that stops part-way is simply run again. ``progress`` is
    called after each page with the counts so far.
    """
    seen = rewritten = 0
    after: tuple[str, int] | None = None
    while True:
        with store.transaction() as tx:
            found = tx.party_page(after, page)
            for case_id, idx, stored in found:
                new = store.cipher.rotate(stored)
                if new is not None:
                    tx.replace_party(case_id, idx, new)
                    rewritten += 1
        if not found:
            return seen, rewritten
        seen += len(found)
        after = (found[-1][0], found[-1][1])
        if progress is not None:
            progress(seen, rewritten)
