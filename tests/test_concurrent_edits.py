"""Two simultaneous edits of one record through the API: the one whose UPDATE finds the row
already changed gets a 409 with the saved version, never a 500 (issue 11 item 14). Pages and
the person API are covered in tests/test_web_support.py; here every versioned PATCH whose
lost race surfaces at the flush inside the service."""

from __future__ import annotations

import pytest

from crm.extensions import db
from crm.models import CommunityGroup, GroupRelation, Membership
from crm.users.services import issue_token
from tests.test_web_support import saved_meanwhile


@pytest.fixture
def edited(make):
    beat = make.beat("0111")
    admin = make.user("boss", role="admin")
    group = make.group("Maple Tenants", beats=[beat], description="original")
    other = make.group("Oak Owners", beats=[beat])
    person = make.stakeholder("John Smith")
    membership = make.membership(person, group)
    relation = GroupRelation(group_a_id=group.id, group_b_id=other.id, type="competing",
                             issue="noise")
    db.session.add(relation)
    _, token = issue_token(admin, admin, "t")
    make.commit()
    return {"token": token, CommunityGroup: (f"/api/v1/groups/{group.id}", group.id,
                                             {"description": "mine"}),
            GroupRelation: (f"/api/v1/relations/{relation.id}", relation.id, {"issue": "mine"}),
            Membership: (f"/api/v1/memberships/{membership.id}", membership.id,
                         {"role": "leader"})}


@pytest.mark.parametrize("model", [CommunityGroup, GroupRelation, Membership],
                         ids=["group", "relation", "membership"])
def test_a_patch_that_loses_the_race_is_a_409_with_the_saved_version(edited, client, model):
    url, ident, change = edited[model]
    headers = {"Authorization": f"Bearer {edited['token']}"}
    version = client.get(url, headers=headers).get_json()["version_id"]
    with saved_meanwhile(model, ident) as fired:  # the other save lands first
        r = client.patch(url, json={**change, "version_id": version}, headers=headers)
    assert fired and r.status_code == 409, (r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert body["status"] == "ConflictError"
    saved = db.session.get(model, ident)
    assert body["current"]["version_id"] == saved.version_id  # what is saved now, to merge with
    key, value = next(iter(change.items()))
    assert getattr(saved, key) != value  # nothing of ours was saved
