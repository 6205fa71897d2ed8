"""The worker shares `workflows.municipality` between workflow runs (worker.workflow_runner): that is only safe
while the module keeps no state of its own, in its globals or on its workflow class."""

from __future__ import annotations
import __future__

import types
import typing
from typing import TypeVar

from temporalio.common import RetryPolicy

import workflows.municipality
from workflows.municipality import MunicipalityWorkflow

# What a module can hold without holding state: code, names and constants.
IMMUTABLE = (types.ModuleType, type, types.FunctionType, str, int, float, bool, tuple, frozenset, TypeVar)
MUTABLE = (list, dict, set, bytearray)


def test_the_shared_workflow_module_holds_code_and_constants_only() -> None:
    for name, value in vars(workflows.municipality).items():
        if name.startswith("__"):
            continue
        if isinstance(value, RetryPolicy):
            continue  # configuration handed to the SDK, which copies it into each command
        is_typing_form = type(value).__module__ == "typing" or isinstance(value, __future__._Feature)
        assert isinstance(value, IMMUTABLE) or is_typing_form or value is typing.Any, (name, type(value))


def test_the_workflow_class_keeps_its_state_on_instances_only() -> None:
    for klass in MunicipalityWorkflow.__mro__[:-1]:
        for name, value in vars(klass).items():
            assert not isinstance(value, MUTABLE), f"{klass.__name__}.{name} is a shared {type(value).__name__}"
