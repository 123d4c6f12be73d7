"""The view state stored in a project's settings: round trip, and malformed input never fails an open."""

from __future__ import annotations

from app.model.view_record import ViewRecord, parse_view_record
from app.view.render import ViewMode, ViewState


def test_view_record_round_trip_and_malformed_input():
    record = ViewRecord(7, 2, {2}, {1, 3}, ViewState(mode=ViewMode.MATTE, grow=-2, feather=4, outline=False))
    back = parse_view_record(record.to_json(), 10, {1, 2})
    assert (back.frame, back.active, back.hidden, back.locked, back.state) == (7, 2, {2}, {1}, record.state)
    assert parse_view_record(record.to_json(), 5, {1}).frame == 4  # clamped to the clip, unknown ids dropped
    assert parse_view_record({"mode": "sepia"}, 5, {1, 2}) == ViewRecord(active=1)
    assert parse_view_record("nonsense", 5, set()) == ViewRecord()
