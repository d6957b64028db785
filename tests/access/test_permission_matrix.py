"""Every action of the action table, by every kind of actor, through HTTP: the exact answer
of each cell, for each level, competency and relation (participant, organisation, grant
read or message, none), with features on and off.

Whoever may not see the target gets 404 and learns nothing; whoever may see it but not do
the thing gets 403; `off` is 403 because a feature is off; `own` is 403 because nobody
raises their own access; `yes`/`no`: whether a list shows patient P1. The header names the actors of
`matrix_world.ACTORS` in order.
"""

import httpx
import pytest

from app.access.actions import Action
from tests.access.matrix_cells import ROWS
from tests.access.matrix_world import ACTORS, MatrixWorld, build_matrix_world, switch
from tests.support.auth import Account


def table(text: str) -> dict[str, tuple[str, ...]]:
    """Rows of `name: one answer per actor`, the actors in the order of the header."""
    rows = {}
    for line in text.strip().splitlines()[1:]:
        name, answers = line.split(":")
        rows[name.strip()] = tuple(answers.split())
    return rows


EXPECTED = table("""
row                   : sup  adm  clA  coA  nur  clB  P1   P2   gM   gR   gO   ext  dem
open_administration   : 200  200  403  403  403  403  403  403  403  403  403  403  403
read_audit            : 200  200  403  403  403  403  403  403  403  403  403  403  403
create_user           : 201  201  403  403  403  403  403  403  403  403  403  403  403
list_users            : 200  200  403  403  403  403  403  403  403  403  403  403  403
read_user             : 200  200  200  404  404  404  404  404  404  404  404  404  404
manage_user           : 200  200  404  404  403  404  404  404  404  404  404  404  404
set_access            : 200  200  404  404  404  404  404  404  404  404  404  404  404
set_own_access        : own  own  403  403  403  403  403  403  403  403  403  403  403
create_organisation   : 201  201  403  403  403  403  403  403  403  403  403  403  403
read_organisation     : 200  200  200  200  200  404  200  404  404  404  404  404  404
update_organisation   : 200  200  403  403  403  404  403  404  404  404  404  404  404
delete_organisation   : 204  204  404  404  404  404  404  404  404  404  404  404  404
add_staff             : 200  200  403  403  403  404  403  404  404  404  404  404  404
add_self_to_staff     : own  own  403  403  403  404  403  404  404  404  404  404  404
add_patient           : 200  200  403  403  403  404  403  404  404  404  404  404  404
remove_staff          : 204  204  403  403  403  404  403  404  404  404  404  404  404
switch_feature        : 200  200  403  403  403  404  403  404  404  404  404  404  404
create_group          : 201  201  201  201  403  404  403  404  404  404  404  404  404
read_group            : 200  200  200  200  200  404  404  404  404  404  404  404  404
manage_group          : 200  200  200  200  403  404  404  404  404  404  404  404  404
add_group_member      : 200  200  200  200  403  404  404  404  404  404  404  404  404
add_self_to_group     : own  own  own  own  403  404  404  404  404  404  404  404  404
create_patient        : 201  201  201  201  201  404  403  404  404  404  404  404  404
read_patient          : 200  200  200  200  200  404  200  404  200  200  200  404  404
list_patients         : yes  yes  yes  yes  yes  no   yes  no   yes  yes  yes  no   no
deactivate_patient    : 200  200  403  403  403  404  403  404  403  403  403  404  404
grant_access          : 201  201  403  403  403  404  201  404  403  403  403  404  404
grant_access_to_self  : own  own  403  403  403  404  own  404  403  403  403  404  404
revoke_access         : 204  204  403  403  403  404  204  404  403  403  403  404  404
invite_to_conversation: 422  422  201  201  201  422  201  422  201  201  201  422  422
start_conversation    : 403  403  201  201  403  404  201  404  201  403  403  404  404
read_conversation     : 404  404  200  200  200  404  200  404  200  200  200  404  404
inbox_lists_it        : no   no   yes  yes  yes  no   yes  no   yes  yes  yes  no   no
read_clinicians_only  : 404  404  200  200  200  404  404  404  404  404  404  404  404
write                 : 404  404  201  403  403  404  201  404  201  403  403  404  404
attach                : 404  404  201  403  403  404  201  404  201  403  403  404  404
close                 : 404  404  200  200  403  404  403  404  200  403  403  404  404
add_participant       : 404  404  200  403  403  404  403  404  403  403  403  404  404
join                  : 404  404  200  200  200  404  403  404  403  403  403  404  404
""")

# With a feature of organisation A switched off: the rows that change, and reading, which
# must not (the record stays readable).
FEATURE_OFF = {
    "messaging": table("""
row                   : sup  adm  clA  coA  nur  clB  P1   P2   gM   gR   gO   ext  dem
start_conversation    : 403  403  off  off  403  404  off  404  off  403  403  404  404
read_conversation     : 404  404  200  200  200  404  200  404  200  200  200  404  404
inbox_lists_it        : no   no   yes  yes  yes  no   yes  no   yes  yes  yes  no   no
write                 : 404  404  off  403  403  404  off  404  off  403  403  404  404
attach                : 404  404  off  403  403  404  off  404  off  403  403  404  404
close                 : 404  404  off  off  403  404  403  404  off  403  403  404  404
add_participant       : 404  404  off  403  403  404  403  404  403  403  403  404  404
join                  : 404  404  off  off  off  404  403  404  403  403  403  404  404
"""),
    "patient_messaging": table("""
row                   : sup  adm  clA  coA  nur  clB  P1   P2   gM   gR   gO   ext  dem
start_conversation    : 403  403  201  201  403  404  off  404  201  403  403  404  404
read_conversation     : 404  404  200  200  200  404  200  404  200  200  200  404  404
inbox_lists_it        : no   no   yes  yes  yes  no   yes  no   yes  yes  yes  no   no
write                 : 404  404  201  403  403  404  off  404  201  403  403  404  404
attach                : 404  404  201  403  403  404  off  404  201  403  403  404  404
close                 : 404  404  200  200  403  404  403  404  200  403  403  404  404
join                  : 404  404  200  200  200  404  403  404  403  403  403  404  404
"""),
    "attachments": table("""
row                   : sup  adm  clA  coA  nur  clB  P1   P2   gM   gR   gO   ext  dem
read_conversation     : 404  404  200  200  200  404  200  404  200  200  200  404  404
inbox_lists_it        : no   no   yes  yes  yes  no   yes  no   yes  yes  yes  no   no
write                 : 404  404  201  403  403  404  201  404  201  403  403  404  404
attach                : 404  404  off  403  403  404  off  404  off  403  403  404  404
"""),
}


async def play(
    client: httpx.AsyncClient, world: MatrixWorld, rows: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, str]]:
    """Every cell of these rows; the ones whose answer differs from the expected one."""
    mismatches = {}
    for row, expected in rows.items():
        cell = ROWS[row][1]
        for name, wanted in zip(ACTORS, expected, strict=True):
            got = await cell(client, world, world.actors[name])
            if got != wanted:
                mismatches[f"{row} by {name}"] = (wanted, got)
    return mismatches


def test_every_action_of_the_table_has_a_row_and_every_row_a_full_line() -> None:
    assert {action for action, _ in ROWS.values()} == set(Action)
    assert set(EXPECTED) == set(ROWS)
    assert all(len(line) == len(ACTORS) for line in EXPECTED.values())


async def test_permission_matrix(client: httpx.AsyncClient, admin: Account) -> None:
    world = await build_matrix_world(client, admin)

    assert await play(client, world, EXPECTED) == {}


@pytest.mark.parametrize("feature", sorted(FEATURE_OFF))
async def test_permission_matrix_with_a_feature_off(
    client: httpx.AsyncClient, admin: Account, feature: str
) -> None:
    world = await build_matrix_world(client, admin)
    await switch(client, world, feature, on=False)
    world.features_off = (feature,)

    assert await play(client, world, FEATURE_OFF[feature]) == {}
