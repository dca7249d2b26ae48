"""Errors a user can cause. Each message names the thing and the fix; fronts print it as one line."""


class QuarryError(Exception):
    """An error the user can act on; never a bug."""


class ModelMissing(QuarryError):
    """A catalog model whose files are not provisioned."""


class ModelCorrupt(QuarryError):
    """A model file whose checksum or format is wrong."""


class UnknownModel(QuarryError):
    """A model id that is not in the catalog."""


class ProvisionError(QuarryError):
    """Provisioning a model failed (package not reachable, export failed)."""


class WorkspaceBusy(QuarryError):
    """Another process holds the workspace's DuckDB file for writing."""


class WorkspaceError(QuarryError):
    """A workspace folder or database that cannot be used."""


class ReadOnlyWorkspace(WorkspaceError):
    """A write to a workspace that could only be opened for reading (a read-only mount or file modes)."""


class IngestError(QuarryError):
    """One input file that cannot be ingested; the rest of the batch goes on."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """Gives the first non-blank line of an exception's message (its type name when it has none), for a
    one-line error that wraps a library's multi-line one."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:limit]


class SearchError(QuarryError):
    """A search request that cannot be answered as asked."""


class ContextOverflow(QuarryError):
    """A prompt longer than the model's context window."""


class SettingsError(QuarryError, ValueError):
    """A settings file or override with an unknown key, a wrong type or a value out of range."""


class TooLarge(IngestError):
    """A file over one of the ingest limits (the message names the limit and how to raise it)."""


class ClassifyError(QuarryError):
    """A classification request that cannot be answered as asked."""


class FeedbackError(QuarryError):
    """Feedback that cannot be stored, found or exported."""


class RecommendError(QuarryError):
    """A recommendation request or import that cannot be done as asked (unknown item, bad mapping, no data)."""
