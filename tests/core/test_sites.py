import pytest

from engagement.errors import Conflict, InvalidInput, SiteNotFound
from engagement.services.sites import (
    SiteChanges,
    add_site,
    list_sites,
    public_settings,
    read_site,
    update_site,
)


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


@pytest.mark.parametrize("key", ["daily\x00", "daily\n", "Daily", "d" * 65, "", "-daily"])
def test_a_key_no_site_could_have_is_no_site_on_either_database(core, site, key):
    with pytest.raises(SiteNotFound):
        read_site(core.uow(), key)
    with pytest.raises(SiteNotFound):
        update_site(core.uow(), key, SiteChanges(name="New"))
    with pytest.raises(InvalidInput) as err:
        add_site(core.uow(), key, SiteChanges(name="New"))
    assert err.value.field == "key"
    assert [s.name for s in list_sites(core.uow())] == ["The Daily Example"]
