"""Evaluate CloudFormation intrinsic functions and conditions against known parameter and resource values.

``Ref`` and ``Fn::GetAtt`` of resources are answered by a callback, so the same resolver serves before
resources exist (names and ARNs are deterministic) and after (queue URLs and secret ARNs come from
moto). ``AWS::NoValue`` removes the key or list item that holds it, as in CloudFormation.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any


class TemplateError(ValueError):
    """The template cannot be read or resolved as CloudFormation would."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

RefLookup = Callable[[str], Any]
AttLookup = Callable[[str, str], Any]

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Resolves intrinsic functions in template values.

    ``parameters`` holds parameter and pseudo-parameter values, ``conditions`` the template's
    ``Conditions`` section (evaluated lazily), ``mappings`` its ``Mappings``; ``ref`` and ``get_att``
    answer for resources.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        conditions: Mapping[str, Any],
        mappings: Mapping[str, Any],
        ref: RefLookup,
        get_att: AttLookup,
        region: str,
    ) -> None:
        self._parameters = parameters
        self._condition_defs = conditions
        self._mappings = mappings
        self._ref = ref
        self._get_att = get_att
        self._region = region
        self._condition_values: dict[str, bool] = {}

    # -- conditions -------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._condition_defs:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_values[name] = False  # guards against cycles while evaluating
            self._condition_values[name] = self._truth(self.resolve(self._condition_defs[name]))
        return self._condition_values[name]

    @staticmethod
    def _truth(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TemplateError(f"a condition must be a boolean, not {value!r}")

    # -- values -----------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _fn_ref(self, arg: Any) -> Any:
        name = self.resolve(arg)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._parameters:
            return self._parameters[name]
        return self._ref(str(name))

    def _fn_get_att(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        elif isinstance(arg, list) and len(arg) == 2:
            logical_id, attribute = str(arg[0]), str(arg[1])
        else:
            raise TemplateError(f"Fn::GetAtt needs [LogicalId, Attribute], got {arg!r}")
        return self._get_att(logical_id, attribute)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            raise TemplateError(f"Fn::Sub needs a string or [string, map], got {arg!r}")
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub template must be a string, got {text!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if name in self._parameters:
                return _as_text(self._parameters[name])
            if "." in name:
                logical_id, _, attribute = name.partition(".")
                return _as_text(self._get_att(logical_id, attribute))
            return _as_text(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, arg: Any) -> str:
        arg = self.resolve(arg)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list)):
            raise TemplateError(f"Fn::Join needs [delimiter, [values]], got {arg!r}")
        return str(arg[0]).join(_as_text(item) for item in arg[1])

    def _fn_select(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list)):
            raise TemplateError(f"Fn::Select needs [index, [values]], got {arg!r}")
        index = int(arg[0])
        if not 0 <= index < len(arg[1]):
            raise TemplateError(f"Fn::Select index {index} out of range")
        return arg[1][index]

    def _fn_split(self, arg: Any) -> list[str]:
        arg = self.resolve(arg)
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Split needs [delimiter, string], got {arg!r}")
        return str(arg[1]).split(str(arg[0]))

    def _fn_if(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise TemplateError(f"Fn::If needs [condition, then, else], got {arg!r}")
        return self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2])

    def _fn_equals(self, arg: Any) -> bool:
        arg = self.resolve(arg)
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Equals needs two values, got {arg!r}")
        return _as_text(arg[0]) == _as_text(arg[1])

    def _fn_not(self, arg: Any) -> bool:
        values = arg if isinstance(arg, list) else [arg]
        if len(values) != 1:
            raise TemplateError(f"Fn::Not needs one condition, got {arg!r}")
        return not self._truth(self.resolve(values[0]))

    def _fn_and(self, arg: Any) -> bool:
        return all(self._truth(self.resolve(item)) for item in arg)

    def _fn_or(self, arg: Any) -> bool:
        return any(self._truth(self.resolve(item)) for item in arg)

    def _fn_condition(self, arg: Any) -> bool:
        return self.condition(str(arg))

    def _fn_find_in_map(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise TemplateError(f"Fn::FindInMap needs [map, key, key], got {arg!r}")
        try:
            return self._mappings[arg[0]][arg[1]][arg[2]]
        except (KeyError, TypeError):
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return arg[3]["DefaultValue"]
            raise TemplateError(f"Fn::FindInMap found nothing at {arg[:3]!r}") from None

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(_as_text(self.resolve(arg)).encode()).decode()

    def _fn_get_azs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self._region
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_length(self, arg: Any) -> int:
        value = self.resolve(arg)
        if not isinstance(value, list):
            raise TemplateError(f"Fn::Length needs a list, got {value!r}")
        return len(value)

    def _fn_to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

    def _fn_import_value(self, arg: Any) -> Any:
        raise TemplateError(
            f"Fn::ImportValue {self.resolve(arg)!r}: cross-stack imports are not available locally"
        )

    _INTRINSICS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Condition": _fn_condition,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::Length": _fn_length,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::ImportValue": _fn_import_value,
    }


def _as_text(value: Any) -> str:
    """How CloudFormation renders a value inside a string (lists of a CommaDelimitedList join with ',')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def as_text(value: Any) -> str:
    return _as_text(value)


def references(value: Any) -> set[str]:
    """The logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub (pseudo parameters included)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            found |= _key_references(key, arg)
    return found


def _key_references(key: str, arg: Any) -> set[str]:
    if key == "Ref" and isinstance(arg, str):
        return {arg}
    if key == "Fn::GetAtt":
        return _get_att_references(arg)
    if key == "Fn::Sub":
        return _sub_references(arg)
    return references(arg)


def _get_att_references(arg: Any) -> set[str]:
    if isinstance(arg, list) and arg and isinstance(arg[0], str):
        return {arg[0]}
    if isinstance(arg, str):
        return {arg.partition(".")[0]}
    return set()


def _sub_references(arg: Any) -> set[str]:
    found: set[str] = set()
    text = arg[0] if isinstance(arg, list) and arg else arg
    if isinstance(text, str):
        found |= {name.partition(".")[0] for name in _SUB_VARIABLE.findall(text) if not name.startswith("!")}
    if isinstance(arg, list) and len(arg) == 2:
        found |= references(arg[1])
    return found
