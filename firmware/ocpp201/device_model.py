"""The 2.0.1 device model: components and variables, over the same storage as 1.6's keys.

A variable either stands for a configuration key (HeartbeatInterval is
OCPPCommCtrlr.HeartbeatInterval; the value, its checks and its listeners are the key's, so a
box that changes version keeps what the CSMS set), or is read from the box as it is now
(AvailabilityState, ClockCtrlr.DateTime), or is read and written through the part that owns
it (the network profiles' order and attempts, which 1.6 has no key for). Only the Actual
attribute exists: nothing here has a target or set limits the box could honour apart from
its value.

Names compare case-insensitively, as 2.0.1 identifier strings do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pievse.firmware.csms.configuration_keys import ConfigurationKeys, Key

ACTUAL = "Actual"
ATTRIBUTE_TYPES = frozenset({"Actual", "Target", "MinSet", "MaxSet"})
DATA_TYPES = {"bool": "boolean", "int": "integer", "str": "string", "csl": "MemberList"}


@dataclass(frozen=True)
class Place:
    """A component instance: its name, instance and EVSE/connector, as 2.0.1 addresses it."""

    component: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    def wire(self) -> dict[str, Any]:
        component: dict[str, Any] = {"name": self.component}
        if self.instance is not None:
            component["instance"] = self.instance
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            component["evse"] = evse
        return component

    @classmethod
    def of(cls, component: Mapping[str, Any]) -> Place:
        evse = component.get("evse") or {}
        return cls(
            str(component.get("name", "")).casefold(),
            component.get("instance"),
            evse.get("id"),
            evse.get("connector_id", evse.get("connectorId")),
        )

    def folded(self) -> Place:
        return Place(self.component.casefold(), self.instance, self.evse, self.connector)


@dataclass(frozen=True)
class Variable:
    place: Place
    name: str
    key: str | None = None
    """The configuration key it stands for; None: `read` gives its value."""
    read: Callable[[], str] | None = None
    data_type: str | None = None
    """For a read variable (a key's follows from its kind)."""
    unit: str | None = None
    instance: str | None = None
    write: Callable[[str], str] | None = None
    """For a read variable the CSMS may set: value -> attributeStatus."""
    values_list: str | None = None
    monitorable: bool = False
    """The box measures or decides it, so a monitor can watch it (N04)."""
    max_limit: Callable[[], float] | None = None
    """The characteristics' maxLimit where the specification asks for one (a capacity, the
    EVSE's rated power), read when reported."""


def key_variable(
    component: str, name: str, key: Key[Any], unit: str | None = None, instance: str | None = None
) -> Variable:
    """A variable that is a configuration key under its 2.0.1 name (the same storage)."""
    return Variable(Place(component), name, key=key.name, unit=unit, instance=instance)


def owned_variable(
    place: Place,
    name: str,
    read: Callable[[], str],
    write: Callable[[str], str],
    data_type: str,
    values_list: str | None = None,
) -> Variable:
    return Variable(
        place, name, read=read, data_type=data_type, write=write, values_list=values_list
    )


def read_variable(
    place: Place,
    name: str,
    read: Callable[[], str],
    data_type: str = "string",
    unit: str | None = None,
    monitorable: bool = False,
    values_list: str | None = None,
    max_limit: Callable[[], float] | None = None,
) -> Variable:
    return Variable(
        place,
        name,
        read=read,
        data_type=data_type,
        unit=unit,
        monitorable=monitorable,
        values_list=values_list,
        max_limit=max_limit,
    )


class DeviceModel:
    def __init__(self, keys: ConfigurationKeys, variables: Iterable[Variable]) -> None:
        self._keys = keys
        self.variables = list(variables)
        self._index = {(v.place.folded(), v.name.casefold(), v.instance): v for v in self.variables}
        self._components = {v.place.folded() for v in self.variables}

    def find(self, component: Mapping[str, Any], variable: Mapping[str, Any]) -> Variable | str:
        """The variable, or why there is none (UnknownComponent, UnknownVariable)."""
        place = Place.of(component)
        if place not in self._components:
            return "UnknownComponent"
        found = self._index.get(
            (place, str(variable.get("name", "")).casefold(), variable.get("instance"))
        )
        return "UnknownVariable" if found is None else found

    def get(
        self, component: Mapping[str, Any], variable: Mapping[str, Any], attribute: str
    ) -> tuple[str, str | None]:
        """(attributeStatus, attributeValue) as GetVariables answers one entry."""
        found = self.find(component, variable)
        if isinstance(found, str):
            return found, None
        if attribute != ACTUAL:
            return "NotSupportedAttributeType", None
        if found.key is not None and self._keys.spec(found.key).write_only:
            return "Rejected", None
        return "Accepted", self.value(found)

    def set(
        self, component: Mapping[str, Any], variable: Mapping[str, Any], attribute: str, value: str
    ) -> str:
        """The attributeStatus SetVariables answers for one entry."""
        found = self.find(component, variable)
        if isinstance(found, str):
            return found
        if attribute != ACTUAL:
            return "NotSupportedAttributeType"
        if found.write is not None:
            return found.write(value)
        if found.key is None or self._keys.spec(found.key).readonly:
            return "Rejected"
        status = self._keys.change(found.key, value)
        return "Rejected" if status == "NotSupported" else status

    def value(self, variable: Variable) -> str:
        if variable.read is not None:
            return variable.read()
        assert variable.key is not None
        return self._keys.value(variable.key)

    def report(self, variable: Variable) -> dict[str, Any]:
        """One NotifyReport reportData entry."""
        spec = None if variable.key is None else self._keys.spec(variable.key)
        if spec is None:
            mutability = "ReadOnly" if variable.write is None else "ReadWrite"
            data_type = variable.data_type or "string"
        else:
            mutability = (
                "ReadOnly" if spec.readonly else "WriteOnly" if spec.write_only else "ReadWrite"
            )
            data_type = DATA_TYPES[spec.kind]
        attribute: dict[str, Any] = {"type": ACTUAL, "mutability": mutability}
        if mutability != "WriteOnly":
            attribute["value"] = self.value(variable)
        attribute["persistent"] = spec is not None or variable.write is not None
        attribute["constant"] = spec is not None and spec.readonly
        characteristics: dict[str, Any] = {
            "dataType": data_type,
            "supportsMonitoring": variable.monitorable,
        }
        if variable.unit is not None:
            characteristics["unit"] = variable.unit
        if spec is not None and spec.kind == "int":
            characteristics["minLimit"] = spec.minimum
            characteristics["maxLimit"] = spec.maximum
        if spec is not None and spec.items is not None:
            characteristics["valuesList"] = ",".join(sorted(spec.items))
        if variable.values_list is not None:
            characteristics["valuesList"] = variable.values_list
        if variable.max_limit is not None:
            characteristics["maxLimit"] = variable.max_limit()
        entry: dict[str, Any] = {
            "component": variable.place.wire(),
            "variable": {"name": variable.name},
            "variableAttribute": [attribute],
            "variableCharacteristics": characteristics,
        }
        if variable.instance is not None:
            entry["variable"]["instance"] = variable.instance
        return entry

    def base_report(self, base: str) -> list[dict[str, Any]]:
        """GetBaseReport: ConfigurationInventory (what the CSMS may set), FullInventory or
        SummaryInventory (availability, what an operator looks at first)."""
        if base == "ConfigurationInventory":
            chosen = [v for v in self.variables if self._settable(v)]
        elif base == "SummaryInventory":
            chosen = [v for v in self.variables if v.name == "AvailabilityState"]
        else:
            chosen = self.variables
        return [self.report(v) for v in chosen]

    def select(
        self,
        component_variables: Sequence[Mapping[str, Any]] | None,
        criteria: list[str] | None,
    ) -> list[Variable]:
        """GetReport (B08): the variables named by `component_variables` (a component alone
        names all its variables; one without an EVSE or instance names every one of that
        name), of the components where each of `criteria` (Active, Available, Enabled,
        Problem) is a variable reading "true"; neither given: all of them."""
        chosen = [
            v
            for v in self.variables
            if component_variables is None or any(_names(asked, v) for asked in component_variables)
        ]
        if criteria:
            meeting = {
                v.place.folded()
                for v in self.variables
                if v.name in criteria and self.value(v) == "true"
            }
            chosen = [v for v in chosen if v.place.folded() in meeting]
        return chosen

    def _settable(self, variable: Variable) -> bool:
        if variable.write is not None:
            return True
        return variable.key is not None and not self._keys.spec(variable.key).readonly


def _names(asked: Mapping[str, Any], variable: Variable) -> bool:
    """Whether a GetReport componentVariable entry (snake_case, as the library hands it)
    names `variable`."""
    component = asked.get("component") or {}
    place = Place.of(component)
    if place.component != variable.place.component.casefold():
        return False
    if component.get("instance") is not None and place.instance != variable.place.instance:
        return False
    if place.evse is not None and place.evse != variable.place.evse:
        return False
    if place.connector is not None and place.connector != variable.place.connector:
        return False
    wanted = asked.get("variable")
    if wanted is None:
        return True
    if str(wanted.get("name", "")).casefold() != variable.name.casefold():
        return False
    return wanted.get("instance") is None or wanted["instance"] == variable.instance
