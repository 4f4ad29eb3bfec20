"""Group pages: the list, the group page, create and edit."""

from __future__ import annotations


def test_smoke(make, auth, client):
    beat = make.beat("0111")
    make.user("unit1", role="unit")
    g = make.group("Block Club", beats=[beat])
    make.commit()
    auth.login("unit1")
    r = client.get("/groups/")
    assert r.status_code == 200, r.data
    print(r.get_data(as_text=True)[-3000:])
