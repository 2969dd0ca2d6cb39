import pytest

from engagement.errors import Conflict, InvalidInput
from engagement.services.sites import SiteChanges, add_site, list_sites, public_settings, update_site


def test_defaults(core, site):
    assert site.moderation == "off"
    assert site.edit_window_seconds == 900
    assert len(site.reactions) == 6
    assert site.support_call == "Help us grow. Support The Daily Example on Patreon!"
    assert "mod@example.org" not in str(public_settings(site))


def test_update_validates_everything_before_changing_anything(core, site):
    with pytest.raises(InvalidInput) as err:
        update_site(core.uow(), "daily", SiteChanges(name="New", moderation="sometimes"))
    assert err.value.field == "moderation"
    assert [s.name for s in list_sites(core.uow())] == ["The Daily Example"]


def test_duplicate_key(core, site):
    with pytest.raises(Conflict):
        add_site(core.uow(), "daily", SiteChanges(name="Again"))
