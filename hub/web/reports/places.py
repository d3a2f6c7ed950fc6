"""What a report page is about: the district, one school or one room, as one query value.

``place`` is empty (every school the caller may read), ``{site}`` or ``{site}/{room}``: one
select on the page, one value in its address. A place the caller may not read is refused
(403) before the hub says whether it exists (404), as the API does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import HTTPException, status

from hub.access import Action, Caller
from hub.api.auth import require
from hub.api.deps import ID_PATTERN, HubState
from hub.report_models import ReportScope
from hub.report_places import SchoolPlace
from hub.reports import Visible
from hub.web.reports.pages import text
from ui.i18n import N_, LocaleCode

__all__ = ["Place", "all_schools", "default_place", "parse_place", "place_name", "visible_of"]

EVERY_SCHOOL = N_("Every school of the district")
MY_SCHOOLS = N_("All my schools")


@dataclass(frozen=True)
class Place:
    site: str | None = None
    room: str | None = None

    @property
    def scope(self) -> ReportScope:
        if self.site is None:
            return "district"
        return "school" if self.room is None else "room"

    @property
    def value(self) -> str:
        """The place as the page's select and address write it."""
        if self.site is None:
            return ""
        return self.site if self.room is None else f"{self.site}/{self.room}"

    def check(self, caller: Caller, hub: HubState, action: Action) -> None:
        """403 unless the caller may read it, then 404 if the hub does not know it."""
        if self.site is None:
            return
        require(caller, action, self.site, self.room)
        known = (
            hub.store.room_exists(self.site, self.room)
            if self.room is not None
            else hub.store.site_exists(self.site)
        )
        if not known:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown place {self.value}")


def parse_place(value: str) -> Place:
    """``""``, ``site`` or ``site/room``; anything else is no place the hub has (404)."""
    if not value:
        return Place()
    site, _, room = value.partition("/")
    ids = [site, room] if room else [site]
    if value.count("/") > 1 or not all(re.fullmatch(ID_PATTERN, i) for i in ids):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such place")
    return Place(site, room or None)


def visible_of(caller: Caller, action: Action) -> Visible | None:
    """What the caller may read for ``action`` (None: everything)."""
    reach = caller.scope(action)
    return None if reach.everything else Visible(reach.sites, reach.rooms)


def default_place(caller: Caller, action: Action, schools: list[SchoolPlace]) -> Place:
    """The caller's one school if they have one; else every school they may read."""
    whole = [s for s in schools if s.whole]
    if not caller.scope(action).everything and len(whole) == 1:
        return Place(whole[0].id)
    return Place()


def all_schools(caller: Caller, action: Action, schools: list[SchoolPlace]) -> str | None:
    """The msgid naming every school the caller may read, if that is more than one."""
    if caller.scope(action).everything:
        return EVERY_SCHOOL
    return MY_SCHOOLS if sum(s.whole for s in schools) > 1 else None


def place_name(
    place: Place, schools: list[SchoolPlace], locale: LocaleCode, everyone: str | None
) -> str:
    """The school's name, ``school · room``, or every school (``everyone``, a msgid), in the
    user's words."""
    if place.site is None:
        return text(locale, everyone or MY_SCHOOLS)
    school = next((s for s in schools if s.id == place.site), None)
    name = school.name if school else place.site
    if place.room is None:
        return name
    room = dict(school.rooms).get(place.room, place.room) if school else place.room
    return f"{name} · {text(locale, N_('Room %(room)s')) % {'room': room}}"
