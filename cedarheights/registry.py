"""Registries that the apps fill as they load, so the core calls app code it does not import (an email's
rebuilder, what a pipeline run was about)."""

from collections.abc import Callable


def registered(registry: dict[str, Callable], key: str, *, duplicate: str) -> Callable[[Callable], Callable]:
    """A decorator that files the function under `key`; a second function under one key is a mistake, said with
    `duplicate` (a format string given `key`)."""

    def register(function: Callable) -> Callable:
        if registry.setdefault(key, function) is not function:
            raise ValueError(duplicate.format(key=key))
        return function

    return register
