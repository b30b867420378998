"""Errors newsqa reports to users as one clear line."""


class NewsQAError(Exception):
    """Base class: the CLI prints ``str(error)`` and exits with ``exit_code``."""

    exit_code = 1


class InputError(NewsQAError):
    """The input file or text cannot be used (binary, empty, undecodable, missing)."""

    exit_code = 2


class IndexMismatchError(NewsQAError):
    """The index was built with another embedding model than the one asked for."""

    exit_code = 2


class IndexLockedError(NewsQAError):
    """Another process is writing to the index."""

    exit_code = 3
