"""Errors a user can act on: the CLI prints them as one line, never as a stack trace."""


class TrajlakeError(Exception):
    """Base of the user-facing errors; the message is the whole story."""


class ConfError(TrajlakeError):
    """A bad conf file, key or value."""


class EnvironmentProblem(TrajlakeError):
    """Something outside the project is missing: Java, the Delta jars."""


class StorageError(TrajlakeError):
    """A configured storage root or table is not where the conf says."""


class AccountingError(TrajlakeError):
    """A job's own bookkeeping did not balance; the run is not trusted."""
