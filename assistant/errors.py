"""Domain errors. The library raises these; the CLI and REPL translate them once,
into a one-line message and an exit code (see ``cli.py``)."""


class AssistantError(Exception):
    """Base class: an expected failure with a message fit for a user."""

    exit_code = 1


class IndexNotFound(AssistantError):
    """No index, or an empty one, where one was expected."""


class IndexMismatch(AssistantError):
    """The index was built with another model, chunking or schema."""


class IndexCorrupt(AssistantError):
    """The stores disagree or a file is damaged."""


class IndexLocked(AssistantError):
    """Another process is writing to this index."""


class ModelError(AssistantError):
    """The embedding model could not be loaded."""


class StoreUnavailable(AssistantError):
    """A Chroma server could not be reached."""


class UnreadableFile(AssistantError):
    """A file cannot be indexed; the message is the reason, naming the file."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UsageError(AssistantError):
    exit_code = 2
