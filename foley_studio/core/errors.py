"""The root of every user-facing error family in Foley Studio.

Each layer derives its own family from `FoleyError` (`ProjectError` here, `MediaError` in media,
`ModelError` in model, ...). The CLI and the editor catch `FoleyError` and show its message, which
must name the file or setting at fault and what to do about it.
"""


class FoleyError(Exception):
    """An error a user can cause and fix; its message is shown to them as it is."""


class ProjectError(FoleyError):
    """A project file or edit that cannot be used as asked."""


class ProjectVersionError(ProjectError):
    """A project written by a newer Foley Studio than this one."""


class MissingMediaError(ProjectError):
    """Media referenced by a project is not where the project says; relink it."""

    def __init__(self, message: str, paths: list[str]):
        super().__init__(message)
        self.paths = paths
