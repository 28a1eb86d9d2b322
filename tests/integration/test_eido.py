"""NENA EIDO: the export validates against NENA's schema; the sample EIDO opens an incident."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from najda.api.eido import DEFAULT_AGENCY, import_eido, incident_eido, read_eido
from najda.api.settings import Agency, Settings
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.errors import InvalidValue
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.as_of import incident_as_of
from najda.projections.store.event_rows import EventLog
from tests.eido_schema import errors, require_eido_dir

SAMPLE = "Samples/Sample call transfer EIDO.json"


def _sample() -> Any:
    return json.loads((require_eido_dir() / SAMPLE).read_text(encoding="utf-8"))


def _worked_incident(app: Dispatch, agency: Agency = DEFAULT_AGENCY) -> Any:
    a1 = app.register_unit("A-1", UnitKind.ALS, "admin", home=Position(36.75, 3.06))
    b2 = app.register_unit("B 2", UnitKind.BLS, "admin", home=Position(36.75, 3.06))
    incident = app.report_incident(
        location=Position(36.76, 3.07), address="1 Harbour Rd <rear>", nature="chest pain",
        priority=Priority.E, determinant="10-E-1", callback="+213 555 0101", actor="d.ali",
    )  # fmt: skip
    app.add_note(incident, "caller says <b>unconscious</b> & not breathing", "d.ali")
    app.assign_units(incident, [UnitChoice(a1, 1800.0, 240.0), UnitChoice(b2)], "d.ali")
    app.update_unit_status(a1, UnitStatus.EN_ROUTE, "crew.a")
    app.release_unit(incident, b2, "not needed", "d.sara")
    past = incident_as_of(app, incident, EventLog(app).head())
    return incident_eido(past.incident, past.unit_statuses, agency)


def test_the_sample_eido_validates_and_one_without_version_does_not() -> None:
    sample = _sample()
    assert errors(sample) == []
    del sample["eidoVersion"]
    assert errors(sample) == [": 'eidoVersion' is a required property"]


def test_an_incident_exported_as_eido_validates_against_the_schema(store_app: Dispatch) -> None:
    document = _worked_incident(store_app)

    assert errors(document) == []
    resources = {r["emergencyResourceName"]: r for r in document["emergencyResourceComponent"]}
    assert resources["A-1"]["primaryUnitStatusRegistryText"] == "Enroute"
    assert resources["A-1"]["emergencyResourceTypeCommonRegistryText"] == "Ambulance"
    assert "activeOnIncidentId" in resources["A-1"]
    assert resources["B 2"]["primaryUnitStatusRegistryText"] == "Cleared"
    assert resources["B 2"]["unitStatusInternal"] == ["not needed"]
    (note,) = document["notesComponent"]
    assert note["notesActionComments"] == (
        "caller says &lt;b&gt;unconscious&lt;/b&gt; &amp; not breathing"
    )
    assert document["incidentComponent"]["incidentPriorityInternalText"] == "E"
    assert document["callbackComponent"][0]["callBackInformationUri"] == ["tel:+213 555 0101"]
    (location,) = document["locationComponent"]
    assert "<gml:pos>36.76 3.07</gml:pos>" in location["locationByValue"]


def test_an_exported_eido_reads_back_as_the_same_call(store_app: Dispatch) -> None:
    call = read_eido(_worked_incident(store_app))

    assert call.location == Position(36.76, 3.07)
    assert (call.nature, call.priority, call.callback) == (
        "chest pain",
        Priority.E,
        "+213 555 0101",
    )
    assert call.notes[1] == "caller says <b>unconscious</b> & not breathing"


def test_importing_the_sample_eido_creates_an_incident(store_app: Dispatch) -> None:
    call = read_eido(_sample())
    assert call.location is None  # the sample gives a civic address and a reference only
    assert call.address == "42 W Cellular Street, Wilmington, DE, US"
    assert call.callback == "8195551212"

    saves: list[int] = []
    store_app.add_listener(saves.append)  # called once per save, with its top position
    incident_id, created = import_eido(
        store_app, call, "d.ali", location=Position(39.74, -75.55), priority=Priority.C
    )
    store_app.remove_listener(saves.append)
    assert created
    assert len(saves) == 1  # the incident and every note in one atomic save

    incident = store_app.get_incident(incident_id)
    assert (incident.nature, incident.priority, incident.address) == (
        "emergency",
        Priority.C,
        "42 W Cellular Street, Wilmington, DE, US",
    )
    assert incident.location == Position(39.74, -75.55)
    assert incident.callback == "8195551212"
    texts = [n.text for n in incident.notes]
    assert texts[0] == (
        "Imported from EIDO urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
        " issued by idx.state.pa.us"
    )
    assert "outside the accepted window" in texts[1]  # the sample's call is from 2021


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "eido"),
        ({"$id": "x"}, "eidoVersion"),
        ({"eidoVersion": "2.0", "$id": "x"}, "eidoVersion"),
        ({"eidoVersion": "1.0"}, "$id"),
    ],
)
def test_a_document_that_is_not_an_eido_is_refused_naming_the_field(
    document: Any, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        read_eido(document)
    assert refused.value.field == field


def test_an_eido_without_coordinates_or_priority_writes_nothing(store_app: Dispatch) -> None:
    call = read_eido(_sample())
    head = EventLog(store_app).head()

    with pytest.raises(InvalidValue) as no_location:
        import_eido(store_app, call, "d.ali", priority=Priority.C)
    with pytest.raises(InvalidValue) as no_priority:
        import_eido(store_app, call, "d.ali", location=Position(39.74, -75.55))

    assert (no_location.value.field, no_priority.value.field) == ("lat", "priority")
    assert EventLog(store_app).head() == head


def test_importing_an_eido_twice_answers_the_incident_it_opened(store_app: Dispatch) -> None:
    call = read_eido(_sample())
    where = Position(39.74, -75.55)
    first, created = import_eido(store_app, call, "d.ali", location=where, priority=Priority.C)
    head = EventLog(store_app).head()
    again, created_again = import_eido(
        store_app, call, "d.sara", location=where, priority=Priority.A
    )
    assert (again, created, created_again) == (first, True, False)
    assert EventLog(store_app).head() == head  # nothing written the second time
    assert store_app.get_incident(first).priority is Priority.C


def test_concurrent_imports_of_one_eido_open_one_incident(store_app: Dispatch) -> None:
    call = read_eido(_sample())
    where = Position(39.74, -75.55)
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda actor: import_eido(
                    store_app, call, actor, location=where, priority=Priority.C
                ),
                ["a", "b", "c", "d"],
            )
        )
    assert len({incident for incident, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]


def test_the_agency_comes_from_settings(store_app: Dispatch) -> None:
    env = {
        "NAJDA_AGENCY_ID": "urn:emergency:uid:agencyid:ems.wilaya16.dz",
        "NAJDA_AGENCY_NAME": "SAMU 16 Alger",
        "NAJDA_AGENCY_DOMAIN": "samu16.example.dz",
    }
    agency = Settings.from_env(env).agency
    document = _worked_incident(store_app, agency)
    assert errors(document) == []
    assert "najda.example" not in json.dumps(document)
    (part,) = document["agencyComponent"]
    assert part["$id"] == "urn:emergency:uid:agencyid:ems.wilaya16.dz"
    assert ["fn", {}, "text", "SAMU 16 Alger"] in json.loads(part["agencyJcard"])[1]
    assert document["$id"].endswith(":samu16.example.dz")
    assert document["issuingElementIdentification"] == "cad.samu16.example.dz"
    assert document["updatedByAgencyReference"] == {"$ref": agency.id}


def test_the_pidf_lo_location_carries_method_and_usage_rules(store_app: Dispatch) -> None:
    document = _worked_incident(store_app)
    (location,) = document["locationComponent"]
    root = ET.fromstring(location["locationByValue"])
    gp = "{urn:ietf:params:xml:ns:pidf:geopriv10}"
    gbp = "{urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy}"
    (geopriv,) = root.iter(f"{gp}geopriv")
    assert [child.tag for child in geopriv] == [
        f"{gp}location-info",
        f"{gp}usage-rules",
        f"{gp}method",
    ]
    assert geopriv.findtext(f"{gp}method") == "Manual"
    rules = geopriv.find(f"{gp}usage-rules")
    assert rules is not None
    assert rules.findtext(f"{gbp}retransmission-allowed") == "true"
    expiry = datetime.fromisoformat(rules.findtext(f"{gbp}retention-expiry") or "")
    stamp = root.findtext(
        "{urn:ietf:params:xml:ns:pidf:data-model}device/"
        "{urn:ietf:params:xml:ns:pidf:data-model}timestamp"
    )
    assert expiry - datetime.fromisoformat(stamp or "") == timedelta(days=1)
