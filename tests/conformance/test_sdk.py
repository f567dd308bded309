"""Conformance: the official DocSpace Python SDK against `offboard sim`.

Every test drives the simulator through `docspace-api-sdk` 3.7.0 (PyPI, generated
from DocSpace's own OpenAPI document) and lets the SDK's pydantic models
deserialize the answer, so a field of the wrong type, an enum value DocSpace does
not have or a missing required field fails here even when our Rust client would
not notice.

The SDK and the real server disagree in a few places (docspace-api.md §14).
Where the SDK cannot express what the server really does, the test says so in a
comment and checks the raw JSON instead:

* API keys: the SDK's `ApiKeyBearer` setting sends a header named `ApiKeyBearer`,
  which the server ignores; keys go in `Authorization: Bearer sk-...`, i.e.
  `Configuration(access_token="sk-...")`.
* Some operations carry no security requirement in the SDK's spec (mostly those
  the server marks `[AllowAnonymous]`): `GET files/rooms/{id}`,
  `GET files/folder/{id}`, `GET files/{id}`, `GET files/fileops`,
  `PUT files/fileops/bulkdownload`, `POST authentication`. The SDK sends no
  credentials with them at all, so we pass the header ourselves (`_headers=`).
* Wrappers have no `total` (the server sends one on paged lists) and describe
  `status` as an HTTP code (it is 0 for success).
* Folder listings and operation results type their entries as
  `FileEntryBaseDto`, which has no `id`: ids are read from the raw JSON.
* `ApiDateTime` query parameters (`from`, `to` of the audit filters) are sent as
  JSON objects (`from=%7B%7D`), which the server rejects; those filters are sent
  as plain strings and only the answer goes through the SDK's deserializer.

The simulator runs as a subprocess: `$OFFBOARD_BIN` (default
`target/debug/offboard`, relative to the repository root) `sim` with the small
test fixture. Classes that change the portal restart it before every test, so no
test depends on another's leftovers.
"""

import io
import json
import os
import subprocess
import threading
import time
import unittest
import urllib.request
import uuid
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path

with warnings.catch_warnings():
    # The generated models shadow BaseModel.copy with a field named "copy".
    warnings.simplefilter("ignore", UserWarning)
    import docspace_api_sdk as sdk
    from docspace_api_sdk import (
        ActiveConnectionsApi,
        ApiKeysApi,
        ArchiveRoomRequest,
        AuditTrailDataApi,
        AuthenticationApi,
        AuthRequestsDto,
        BatchRequestDto,
        BatchRequestDtoAllOfDestFolderId,
        BatchRequestDtoAllOfFileIds,
        BatchRequestDtoAllOfFolderIds,
        ChangeOwnerRequestDto,
        DistributedTaskStatus,
        DownloadRequestDto,
        DownloadRequestDtoAllOfFolderIds,
        EmployeeStatus,
        EmployeeType,
        FileOperationType,
        FileShare,
        FoldersApi,
        FolderType,
        GroupApi,
        LoginHistoryApi,
        MessageAction,
        OperationsApi,
        ProfilesApi,
        RoomInvitation,
        RoomInvitationRequest,
        RoomsApi,
        RoomType,
        SearchApi,
        SearchArea,
        SharingApi,
        StartReassignRequestDto,
        SubjectFilter,
        UpdateMembersRequestDto,
        UserDataApi,
        UserStatusApi,
    )
    from docspace_api_sdk.exceptions import ApiException, ForbiddenException, UnauthorizedException
    from docspace_api_sdk.models.api_date_time import ApiDateTime
    from docspace_api_sdk.models.product_type import ProductType
    from docspace_api_sdk.models.action_type import ActionType
    from docspace_api_sdk.models.location_type import LocationType
    from docspace_api_sdk.models.entry_type import EntryType

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "crates/docspace-sim/tests/fixtures/small.yaml"

# The fixture's API keys (crates/docspace-sim/tests/fixtures/small.yaml).
OWNER_KEY = "sk-" + "0" * 63 + "1"  # owner@example.com, portal owner
MANAGER_KEY = "sk-" + "0" * 63 + "3"  # manager@example.com, RoomAdmin, owns room 200
LEAVER_KEY = "sk-" + "0" * 63 + "4"  # leaver@example.com, RoomAdmin, owns room 100
PLAIN_KEY = "sk-" + "0" * 63 + "5"  # plain@example.com, User
LEAVER = "11111111-1111-4111-8111-111111111111"
SECOND = "22222222-2222-4222-8222-222222222222"

ROOM_WORKSPACE = 100  # "Lea's projects", owned by the leaver
SALES_ROOM = 200  # owned by manager@, the leaver is a content creator
LEA_WORK = 210  # folder in the Sales room, created by the leaver
ARCHIVE_ROOM = 500  # "Leavers archive", owned by keeper@

POLL_TIMEOUT = 15.0


def bearer(key):
    """The header the server reads an API key (or session token) from."""
    return {"Authorization": f"Bearer {key}"}


def close(client):
    """The SDK's ApiClient has no close(); drop its connection pool."""
    client.rest_client.pool_manager.clear()


def anonymous_client(url):
    return sdk.ApiClient(sdk.Configuration(host=url))


def raw(api_response):
    """The JSON body of an `ApiResponse` from a `*_with_http_info` call."""
    return json.loads(api_response.raw_data)


class Simulator:
    """`offboard sim` as a child process."""

    def __init__(self):
        binary = Path(os.environ.get("OFFBOARD_BIN", "target/debug/offboard"))
        if not binary.is_absolute():
            binary = REPO / binary
        if not binary.exists():
            raise RuntimeError(f"{binary} does not exist; build it with `cargo build`")
        self.process = subprocess.Popen(
            [
                str(binary),
                "sim",
                "--fixture",
                str(FIXTURE),
                "--rate-limit-per-minute",
                "0",
                "--job-duration",
                "200ms",
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        reader = threading.Thread(
            target=lambda: lines.extend(self.process.stdout.readline() for _ in range(2)),
            daemon=True,
        )
        reader.start()
        reader.join(timeout=30)
        if len(lines) < 2 or not lines[0].startswith("listening on http://"):
            self.process.kill()
            _, stderr = self.process.communicate(timeout=30)
            raise RuntimeError(f"`{binary} sim` did not start: stdout {lines!r}, stderr {stderr!r}")
        self.url = lines[0].split()[-1]
        self.owner_key = lines[1].split()[-1]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


class SimTestCase(unittest.TestCase):
    """One simulator for the whole class; `fresh_portal` restarts it per test."""

    fresh_portal = False

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator()
        cls.clients = {}
        cls.portal_used = False

    @classmethod
    def tearDownClass(cls):
        cls._close_clients()
        cls.sim.stop()

    @classmethod
    def _close_clients(cls):
        for client in cls.clients.values():
            close(client)
        cls.clients = {}

    def setUp(self):
        cls = type(self)
        if cls.fresh_portal and cls.portal_used:
            cls._close_clients()
            cls.sim.stop()
            cls.sim = Simulator()
        cls.portal_used = True

    def client(self, key=OWNER_KEY):
        if key not in self.clients:
            configuration = sdk.Configuration(host=self.sim.url, access_token=key)
            self.clients[key] = sdk.ApiClient(configuration)
        return self.clients[key]

    def api(self, api_class, key=OWNER_KEY):
        return api_class(self.client(key))

    def user_id(self, email):
        return str(self.api(ProfilesApi).get_profile_by_email(email).response.id)

    def poll(self, fetch, done, what):
        """Calls `fetch` until `done(result)`; returns that result."""
        deadline = time.monotonic() + POLL_TIMEOUT
        while True:
            result = fetch()
            if done(result):
                return result
            if time.monotonic() > deadline:
                self.fail(f"{what} did not finish within {POLL_TIMEOUT}s; last answer: {result!r}")
            time.sleep(0.05)

    def poll_operation(self, operation_id, key=OWNER_KEY):
        """Polls `GET files/fileops?id=` until the operation is finished.

        A finished operation is reported once and then dropped (read-once), so an
        empty listing after it was running means its result was lost.
        """
        operations = self.api(OperationsApi, key)

        def fetch():
            # The SDK sends no credentials with `GET files/fileops` (module docstring).
            listing = operations.get_operation_statuses(id=operation_id, _headers=bearer(key))
            self.assertNotEqual(listing.response, [], f"operation {operation_id} vanished unread")
            self.assertEqual([op.id for op in listing.response], [operation_id])
            return listing.response[0]

        return self.poll(fetch, lambda op: op.finished, f"operation {operation_id}")

    def assertSuccessEnvelope(self, wrapper):
        # The SDK calls `status` an HTTP status code; on the wire it is 0 = success.
        self.assertEqual((wrapper.status, wrapper.status_code), (0, 200))
        self.assertEqual(len(wrapper.links), 1)
        self.assertTrue(wrapper.links[0].href.startswith(self.sim.url + "/api/2.0/"))


class AuthenticationTests(SimTestCase):
    def test_api_key_as_bearer_access_token(self):
        me = self.api(ProfilesApi).get_self_profile()
        self.assertSuccessEnvelope(me)
        self.assertEqual(me.response.email, "owner@example.com")
        self.assertTrue(me.response.is_owner)
        # `isAdmin` is false for the owner: only non-owner DocSpace admins have it.
        self.assertFalse(me.response.is_admin)
        self.assertEqual(self.sim.owner_key, OWNER_KEY)

    def test_api_key_in_the_sdks_apikeybearer_header_is_ignored(self):
        # The SDK's own `ApiKeyBearer` setting puts the key in a header literally
        # named `ApiKeyBearer`; the server reads only `Authorization`, so this is an
        # unauthenticated request: 401 with an empty body.
        configuration = sdk.Configuration(host=self.sim.url, api_key={"ApiKeyBearer": OWNER_KEY})
        client = sdk.ApiClient(configuration)
        self.addCleanup(close, client)
        with self.assertRaises(UnauthorizedException) as caught:
            ProfilesApi(client).get_self_profile()
        self.assertEqual((caught.exception.status, caught.exception.body), (401, ""))

    def test_post_authentication_returns_a_session_token(self):
        # `POST authentication` needs no credentials.
        anonymous = anonymous_client(self.sim.url)
        self.addCleanup(close, anonymous)
        answer = AuthenticationApi(anonymous).authenticate_me(
            AuthRequestsDto(user_name="admin@example.com", password="admin-password")
        )
        self.assertSuccessEnvelope(answer)
        token = answer.response
        self.assertRegex(token.token, r"^[0-9a-f]{64}$")
        self.assertFalse(token.tfa)
        self.assertFalse(token.sms)
        self.assertGreater(token.expires, datetime.now(timezone.utc))
        # The token is accepted as `Authorization: Bearer <token>`.
        me = self.api(ProfilesApi, token.token).get_self_profile()
        self.assertEqual(me.response.email, "admin@example.com")
        self.assertTrue(me.response.is_admin)

        with self.assertRaises(UnauthorizedException) as caught:
            AuthenticationApi(anonymous).authenticate_me(
                AuthRequestsDto(user_name="admin@example.com", password="wrong")
            )
        self.assertEqual(json.loads(caught.exception.body)["statusCode"], 401)


class PeopleTests(SimTestCase):
    def test_people_self(self):
        me = self.api(ProfilesApi, LEAVER_KEY).get_self_profile()
        self.assertSuccessEnvelope(me)
        self.assertEqual(str(me.response.id), LEAVER)
        self.assertEqual(me.response.email, "leaver@example.com")
        self.assertEqual(me.response.display_name, "Lea Ver")
        self.assertEqual(me.response.status, EmployeeStatus.Active)
        self.assertTrue(me.response.is_room_admin)

    def test_people_by_id(self):
        user = self.api(ProfilesApi).get_profile_by_user_id(SECOND).response
        self.assertEqual(str(user.id), SECOND)
        self.assertEqual(
            (user.email, user.first_name, user.last_name), ("second@example.com", "Sam", "Second")
        )
        self.assertTrue(user.is_collaborator)
        self.assertEqual(user.department, "Sales")
        self.assertEqual([g.name for g in user.groups], ["Sales"])
        # `ApiDateTime` is an object in the SDK; the wire has a plain string, which
        # the model's from_dict accepts as `utcTime`.
        self.assertIsInstance(user.registration_date, ApiDateTime)
        self.assertIsNotNone(user.registration_date.utc_time.tzinfo)

        with self.assertRaises(ApiException) as caught:
            self.api(ProfilesApi).get_profile_by_user_id(str(uuid.uuid4()))
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(
            json.loads(caught.exception.body)["error"]["message"], "The user could not be found"
        )

    def test_people_by_email(self):
        user = self.api(ProfilesApi).get_profile_by_email("leaver@example.com").response
        self.assertEqual(str(user.id), LEAVER)
        self.assertEqual(user.user_name, "leaver")
        # Disabled users are found by e-mail too.
        gone = self.api(ProfilesApi).get_profile_by_email("gone@example.com").response
        self.assertEqual((gone.email, gone.status), ("gone@example.com", EmployeeStatus.Terminated))

    def test_people_filter(self):
        search = self.api(SearchApi)
        found = search.search_users_by_extended_filter(
            employee_status=EmployeeStatus.Active, filter_value="leaver", count=10, start_index=0
        )
        self.assertSuccessEnvelope(found)
        self.assertEqual(
            [(str(u.id), u.email) for u in found.response], [(LEAVER, "leaver@example.com")]
        )

        disabled = search.search_users_by_extended_filter(employee_status=EmployeeStatus.Terminated)
        self.assertEqual([u.email for u in disabled.response], ["gone@example.com"])
        self.assertEqual(disabled.response[0].status, EmployeeStatus.Terminated)

        # Paging: the SDK's wrapper has no `total`, the server sends one.
        self.assertNotIn("total", sdk.EmployeeFullArrayWrapper.model_fields)
        pages, start = [], 0
        while True:
            page = search.search_users_by_extended_filter_with_http_info(
                employee_status=EmployeeStatus.Active, count=3, start_index=start, sort_by="email"
            )
            self.assertEqual(page.status_code, 200)
            pages.append([u.email for u in page.data.response])
            total = raw(page)["total"]
            start += 3
            if start >= total:
                break
        self.assertEqual([len(p) for p in pages], [3, 3, 3])
        emails = [e for p in pages for e in p]
        self.assertEqual(len(set(emails)), total)
        self.assertIn("leaver@example.com", emails)
        self.assertNotIn("gone@example.com", emails)

    def test_people_simple_filter(self):
        # `GET people/simple/filter` (`UserController.GetSimpleByFilter`): the query of
        # `people/filter`, answered with `EmployeeDto` items.
        search = self.api(SearchApi)
        found = search.get_simple_by_filter_with_http_info(
            employee_status=EmployeeStatus.Active, filter_value="leaver", count=10, start_index=0
        )
        self.assertEqual(found.status_code, 200)
        self.assertSuccessEnvelope(found.data)
        self.assertIsInstance(found.data, sdk.EmployeeArrayWrapper)
        self.assertEqual(
            [(str(u.id), u.display_name, u.has_avatar) for u in found.data.response],
            [(LEAVER, "Lea Ver", False)],
        )
        # Only EmployeeDto's fields are on the wire, none of EmployeeFullDto's.
        short_fields = {f.alias or name for name, f in sdk.EmployeeDto.model_fields.items()}
        self.assertEqual(set(raw(found)["response"][0]), short_fields)
        self.assertNotIn("email", raw(found)["response"][0])

        # Same selection and total as the full filter.
        simple = search.get_simple_by_filter_with_http_info(count=4, start_index=2)
        full = search.search_users_by_extended_filter_with_http_info(count=4, start_index=2)
        self.assertEqual(
            [u.id for u in simple.data.response], [u.id for u in full.data.response]
        )
        self.assertEqual(raw(simple)["total"], raw(full)["total"])
        disabled = search.get_simple_by_filter(employee_status=EmployeeStatus.Terminated)
        self.assertEqual([u.display_name for u in disabled.response], ["Gina Gone"])

        # Users of type User (and guests) may not search.
        with self.assertRaises(ForbiddenException) as caught:
            self.api(SearchApi, PLAIN_KEY).get_simple_by_filter()
        self.assertEqual(json.loads(caught.exception.body)["error"]["message"], "Access denied")


class GroupTests(SimTestCase):
    def test_groups_by_filter_value(self):
        answer = self.api(GroupApi).get_groups_with_http_info(filter_value="sal")
        groups = answer.data.response
        self.assertEqual([(g.name, g.members_count) for g in groups], [("Sales", 2)])
        self.assertIsNone(groups[0].members, "the list comes without members")
        self.assertEqual(groups[0].parent, uuid.UUID(int=0))
        # `total` is only on the wire.
        self.assertEqual(raw(answer)["total"], 1)

    def test_group_by_id(self):
        groups = self.api(GroupApi).get_groups(filter_value="HR").response
        self.assertEqual([g.name for g in groups], ["HR"])
        hr = self.api(GroupApi).get_group(groups[0].id).response
        self.assertEqual((hr.id, hr.name), (groups[0].id, "HR"))
        self.assertEqual(hr.manager.email, "manager@example.com")
        self.assertEqual(
            sorted(m.email for m in hr.members), ["manager@example.com", "plain@example.com"]
        )

        sales_id = self.api(GroupApi).get_groups(filter_value="Sales").response[0].id
        sales = self.api(GroupApi).get_group(sales_id, include_members=True).response
        self.assertIsNone(sales.manager)
        self.assertEqual(sorted(str(m.id) for m in sales.members), sorted([LEAVER, SECOND]))

    def test_groups_of_a_user(self):
        # `GET group/user/{userid}` (`GroupController.GetGroupByUserId`): the user's
        # groups as `GroupSummaryDto`; `manager` is the manager's user name, absent
        # when the group has none; `isSystem` only for system groups.
        groups = self.api(GroupApi)
        hr_id = groups.get_groups(filter_value="HR").response[0].id
        manager = self.user_id("manager@example.com")
        answer = groups.get_group_by_user_id_with_http_info(manager)
        self.assertEqual(answer.status_code, 200)
        self.assertSuccessEnvelope(answer.data)
        self.assertIsInstance(answer.data, sdk.GroupSummaryArrayWrapper)
        self.assertEqual(
            [(g.id, g.name, g.manager, g.is_system) for g in answer.data.response],
            [(hr_id, "HR", "manager", None)],
        )
        self.assertEqual(
            raw(answer)["response"], [{"id": str(hr_id), "name": "HR", "manager": "manager"}]
        )

        sales = groups.get_group_by_user_id(SECOND).response
        self.assertEqual([(g.name, g.manager) for g in sales], [("Sales", None)])
        self.assertEqual(groups.get_group_by_user_id(str(uuid.uuid4())).response, [])
        # Reading groups is for admins and room admins.
        self.assertEqual(
            [g.name for g in self.api(GroupApi, LEAVER_KEY).get_group_by_user_id(LEAVER).response],
            ["Sales"],
        )
        with self.assertRaises(ForbiddenException):
            self.api(GroupApi, PLAIN_KEY).get_group_by_user_id(manager)


class RoomReadTests(SimTestCase):
    def test_rooms_by_subject(self):
        rooms = self.api(RoomsApi)
        owned = rooms.get_rooms_folder_with_http_info(
            subject_id=LEAVER, subject_filter=SubjectFilter.Owner
        )
        listing = owned.data.response
        # Entries are `FileEntryBaseDto` in the SDK, which has no `id`.
        self.assertEqual([f.title for f in listing.folders], ["Lea's projects"])
        self.assertEqual([f["id"] for f in raw(owned)["response"]["folders"]], [ROOM_WORKSPACE])
        self.assertEqual(listing.folders[0].root_folder_type, FolderType.VirtualRooms)
        self.assertEqual(str(listing.folders[0].created_by.id), LEAVER)
        self.assertEqual(listing.total, 1)

        member = rooms.get_rooms_folder_with_http_info(
            subject_id=LEAVER, subject_filter=SubjectFilter.Member
        )
        self.assertEqual([f.title for f in member.data.response.folders], ["Sales"])
        self.assertEqual([f["id"] for f in raw(member)["response"]["folders"]], [SALES_ROOM])

        either = rooms.get_rooms_folder_with_http_info(subject_id=LEAVER)
        self.assertEqual(
            sorted(f["id"] for f in raw(either)["response"]["folders"]),
            [ROOM_WORKSPACE, SALES_ROOM],
        )
        self.assertEqual(either.data.response.total, 2)

        archived = rooms.get_rooms_folder(search_area=SearchArea.Archive)
        self.assertEqual((archived.response.total, archived.response.folders), (0, []))

    def test_room_info(self):
        # The SDK sends no credentials with `GET files/rooms/{id}` (module docstring).
        room = self.api(RoomsApi).get_room_info(ROOM_WORKSPACE, _headers=bearer(OWNER_KEY)).response
        self.assertEqual((room.id, room.title), (ROOM_WORKSPACE, "Lea's projects"))
        self.assertEqual(room.room_type, RoomType.CustomRoom)
        self.assertEqual(room.root_folder_type, FolderType.VirtualRooms)
        self.assertEqual(str(room.created_by.id), LEAVER)
        self.assertEqual((room.files_count, room.folders_count), (1, 1))

        with self.assertRaises(UnauthorizedException):
            self.api(RoomsApi).get_room_info(ROOM_WORKSPACE)

    def test_folder_info(self):
        # No credentials from the SDK here either.
        folder = self.api(FoldersApi).get_folder_info(LEA_WORK, _headers=bearer(OWNER_KEY)).response
        self.assertEqual(
            (folder.id, folder.title, folder.parent_id), (LEA_WORK, "Lea work", SALES_ROOM)
        )
        self.assertEqual(folder.root_folder_type, FolderType.VirtualRooms)
        self.assertEqual(str(folder.created_by.id), LEAVER)

        with self.assertRaises(ApiException) as caught:
            self.api(FoldersApi).get_folder_info(99999, _headers=bearer(OWNER_KEY))
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(
            json.loads(caught.exception.body)["error"]["message"],
            "The required folder was not found",
        )

    def test_folder_contents(self):
        folders = self.api(FoldersApi)
        # No credentials from the SDK here either.
        everything = folders.get_folder_by_folder_id_with_http_info(
            ROOM_WORKSPACE, _headers=bearer(OWNER_KEY)
        )
        contents = everything.data.response
        self.assertEqual(
            (contents.current.id, contents.current.title), (ROOM_WORKSPACE, "Lea's projects")
        )
        self.assertEqual([f.title for f in contents.files], ["Notes.docx"])
        self.assertEqual([f.title for f in contents.folders], ["Drafts"])
        self.assertEqual((contents.start_index, contents.count, contents.total), (0, 2, 2))
        wire = raw(everything)["response"]
        self.assertEqual([f["id"] for f in wire["files"]], [101])
        self.assertEqual([f["id"] for f in wire["folders"]], [110])
        self.assertEqual([p["title"] for p in contents.path_parts], ["Rooms", "Lea's projects"])

        # Paging lives inside `response` for folder listings.
        page = folders.get_folder_by_folder_id(
            ROOM_WORKSPACE, count=1, start_index=1, _headers=bearer(OWNER_KEY)
        ).response
        self.assertEqual((page.start_index, page.count, page.total), (1, 1, 2))
        self.assertEqual(len(page.files) + len(page.folders), 1)

    def test_room_share_get(self):
        answer = self.api(RoomsApi, LEAVER_KEY).get_room_security_info_with_http_info(
            ROOM_WORKSPACE
        )
        members = answer.data.response
        # The owner comes first.
        self.assertTrue(members[0].is_owner)
        self.assertEqual(str(members[0].shared_to_user.id), LEAVER)
        by_subject = {
            (m.shared_to_user.email if m.shared_to_user else m.shared_to_group.name): m.access
            for m in members[1:]
        }
        self.assertEqual(
            by_subject, {"plain@example.com": FileShare.Editing, "Sales": FileShare.Read}
        )
        self.assertEqual(raw(answer)["total"], 3)


class RoomWriteTests(SimTestCase):
    fresh_portal = True

    def test_room_share_put(self):
        rooms = self.api(RoomsApi, LEAVER_KEY)
        plain = self.user_id("plain@example.com")
        changed = rooms.set_room_security(
            ROOM_WORKSPACE,
            RoomInvitationRequest(
                invitations=[
                    RoomInvitation(id=plain, access=FileShare.Read),
                    RoomInvitation(id=SECOND, access=FileShare.ContentCreator),
                ],
                notify=False,
            ),
        ).response
        self.assertEqual(changed.error, 0)
        self.assertEqual(
            sorted((m.shared_to_user.email, m.access) for m in changed.members),
            [
                ("plain@example.com", FileShare.Read),
                ("second@example.com", FileShare.ContentCreator),
            ],
        )

        removed = rooms.set_room_security(
            ROOM_WORKSPACE,
            RoomInvitationRequest(
                invitations=[RoomInvitation(id=SECOND, access=FileShare.None_)], notify=False
            ),
        ).response
        self.assertEqual(removed.members, [])

        listing = rooms.get_room_security_info(ROOM_WORKSPACE).response
        users = {str(m.shared_to_user.id): m.access for m in listing if m.shared_to_user}
        self.assertEqual(users[plain], FileShare.Read)
        self.assertNotIn(SECOND, users)

        # Only the owner or a room manager may change members.
        with self.assertRaises(ForbiddenException):
            self.api(RoomsApi, MANAGER_KEY).set_room_security(
                ROOM_WORKSPACE,
                RoomInvitationRequest(
                    invitations=[RoomInvitation(id=plain, access=FileShare.None_)]
                ),
            )

    def test_room_members_through_the_folder_share_route(self):
        # PUT files/folder/{id}/share on a room follows the room's rules, as
        # PUT files/rooms/{id}/share does (FileSharingAceHelper.SetAceObjectAsync):
        # the SDK's FileShareArrayWrapper must accept the answer.
        sharing = self.api(SharingApi, LEAVER_KEY)
        answer = sharing.set_folder_security_info(
            ROOM_WORKSPACE,
            sdk.SecurityInfoSimpleRequestDto(
                share=[sdk.FileShareParams(share_to=SECOND, access=FileShare.ContentCreator)],
                notify=False,
            ),
        )
        self.assertSuccessEnvelope(answer)
        self.assertEqual(
            [(str(s.shared_to_user.id), s.access) for s in answer.response],
            [(SECOND, FileShare.ContentCreator)],
        )
        listing = self.api(RoomsApi, LEAVER_KEY).get_room_security_info(ROOM_WORKSPACE).response
        self.assertIn(
            (SECOND, FileShare.ContentCreator),
            [(str(m.shared_to_user.id), m.access) for m in listing if m.shared_to_user],
        )
        # A role the user type may not hold in a room (RoomManager for a User).
        plain = self.user_id("plain@example.com")
        with self.assertRaises(ForbiddenException):
            sharing.set_folder_security_info(
                ROOM_WORKSPACE,
                sdk.SecurityInfoSimpleRequestDto(
                    share=[sdk.FileShareParams(share_to=plain, access=FileShare.RoomManager)]
                ),
            )

    def test_room_archive_and_fileops(self):
        started = self.api(RoomsApi).archive_room(
            ROOM_WORKSPACE, ArchiveRoomRequest(delete_after=False)
        )
        self.assertSuccessEnvelope(started)
        operation = started.response
        self.assertEqual(operation.operation, FileOperationType.Move)
        self.assertFalse(operation.finished)
        finished = self.poll_operation(operation.id)
        self.assertEqual(
            (finished.status, finished.progress, finished.error),
            (DistributedTaskStatus.Completed, 100, ""),
        )

        room = self.api(RoomsApi).get_room_info(ROOM_WORKSPACE, _headers=bearer(OWNER_KEY)).response
        self.assertEqual(room.root_folder_type, FolderType.Archive)
        archived = self.api(RoomsApi).get_rooms_folder_with_http_info(
            search_area=SearchArea.Archive
        )
        self.assertEqual([f["id"] for f in raw(archived)["response"]["folders"]], [ROOM_WORKSPACE])
        self.assertEqual(archived.data.response.folders[0].root_folder_type, FolderType.Archive)
        # Read once: the finished operation is gone.
        self.assertEqual(
            self.api(OperationsApi).get_operation_statuses(_headers=bearer(OWNER_KEY)).response, []
        )

    def test_change_room_owner(self):
        keeper = self.user_id("keeper@example.com")
        answer = self.api(SharingApi).change_file_owner_with_http_info(
            ChangeOwnerRequestDto(
                folder_ids=[BatchRequestDtoAllOfFileIds(ROOM_WORKSPACE)],
                file_ids=[],
                user_id=keeper,
            )
        )
        changed = answer.data.response
        self.assertEqual(
            [(e.title, str(e.created_by.id)) for e in changed], [("Lea's projects", keeper)]
        )
        self.assertEqual([e["id"] for e in raw(answer)["response"]], [ROOM_WORKSPACE])
        room = self.api(RoomsApi).get_room_info(ROOM_WORKSPACE, _headers=bearer(OWNER_KEY)).response
        self.assertEqual(str(room.created_by.id), keeper)

        with self.assertRaises(ForbiddenException) as caught:
            self.api(SharingApi).change_file_owner(
                ChangeOwnerRequestDto(
                    folder_ids=[BatchRequestDtoAllOfFileIds(ROOM_WORKSPACE)],
                    user_id=self.user_id("plain@example.com"),
                )
            )
        self.assertEqual(
            json.loads(caught.exception.body)["error"]["message"], "You cannot select this user"
        )

    def test_fileops_move(self):
        # The Sales room's owner may move into the archive room once they own it.
        manager = self.user_id("manager@example.com")
        self.api(SharingApi).change_file_owner(
            ChangeOwnerRequestDto(
                folder_ids=[BatchRequestDtoAllOfFileIds(ARCHIVE_ROOM)], user_id=manager
            )
        )
        started = self.api(OperationsApi, MANAGER_KEY).move_batch_items(
            BatchRequestDto(
                folder_ids=[BatchRequestDtoAllOfFolderIds(LEA_WORK)],
                dest_folder_id=BatchRequestDtoAllOfDestFolderId(ARCHIVE_ROOM),
                delete_after=False,
                return_single_operation=True,
            )
        )
        self.assertEqual(len(started.response), 1)
        operation = started.response[0]
        self.assertEqual(operation.operation, FileOperationType.Move)
        finished = self.poll_operation(operation.id, MANAGER_KEY)
        self.assertEqual((finished.status, finished.error), (DistributedTaskStatus.Completed, ""))
        self.assertEqual([f.title for f in finished.folders], ["Lea work"])

        folder = self.api(FoldersApi).get_folder_info(LEA_WORK, _headers=bearer(OWNER_KEY)).response
        self.assertEqual(folder.parent_id, ARCHIVE_ROOM)
        self.assertEqual(str(folder.created_by.id), LEAVER, "a move keeps the creator")

        with self.assertRaises(ForbiddenException):
            self.api(OperationsApi, MANAGER_KEY).move_batch_items(
                BatchRequestDto(
                    folder_ids=[BatchRequestDtoAllOfFolderIds(110)],
                    dest_folder_id=BatchRequestDtoAllOfDestFolderId(ARCHIVE_ROOM),
                )
            )

    def test_fileops_bulkdownload(self):
        # No credentials from the SDK here either.
        started = self.api(OperationsApi, LEAVER_KEY).bulk_download(
            DownloadRequestDto(folder_ids=[DownloadRequestDtoAllOfFolderIds(ROOM_WORKSPACE)]),
            _headers=bearer(LEAVER_KEY),
        )
        operation = started.response[0]
        self.assertEqual(operation.operation, FileOperationType.Download)
        finished = self.poll_operation(operation.id, LEAVER_KEY)
        self.assertEqual(finished.status, DistributedTaskStatus.Completed)
        self.assertIn("/filehandler.ashx?action=bulk&filename=", finished.url)

        request = urllib.request.Request(finished.url, headers=bearer(LEAVER_KEY))
        with urllib.request.urlopen(request, timeout=30) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        self.assertEqual(
            sorted(archive.namelist()),
            ["Lea's projects/Drafts/Plan.docx", "Lea's projects/Notes.docx"],
        )


class OffboardingTests(SimTestCase):
    """The offboarding flow's own calls; each test starts from the fixture."""

    fresh_portal = True

    def disable_leaver(self):
        return self.api(UserStatusApi).update_user_status(
            EmployeeStatus.Terminated, UpdateMembersRequestDto(user_ids=[LEAVER])
        )

    def test_disable_user(self):
        answer = self.disable_leaver()
        self.assertSuccessEnvelope(answer)
        self.assertEqual(
            [(str(u.id), u.email, u.status) for u in answer.response],
            [(LEAVER, "leaver@example.com", EmployeeStatus.Terminated)],
        )
        # This path does not set `terminated`.
        self.assertIsNone(answer.response[0].terminated)
        user = self.api(ProfilesApi).get_profile_by_user_id(LEAVER).response
        self.assertEqual(user.status, EmployeeStatus.Terminated)
        # A disabled user's API keys stop working.
        with self.assertRaises(UnauthorizedException):
            self.api(ProfilesApi, LEAVER_KEY).get_self_profile()

        # Nobody disables the owner or themselves.
        owner = self.api(ProfilesApi).get_self_profile().response.id
        with self.assertRaises(ForbiddenException):
            self.api(UserStatusApi).update_user_status(
                EmployeeStatus.Terminated, UpdateMembersRequestDto(user_ids=[owner])
            )

    def test_reassign_necessary(self):
        needed = self.api(UserDataApi).necessary_reassign(
            user_id=LEAVER, type=EmployeeType.ROOMADMIN
        )
        self.assertSuccessEnvelope(needed)
        self.assertIs(needed.response, True)
        guest = self.user_id("guest@example.com")
        self.assertIs(
            self.api(UserDataApi)
            .necessary_reassign(user_id=guest, type=EmployeeType.GUEST)
            .response,
            False,
        )

    def test_reassign_start_and_progress(self):
        keeper = self.user_id("keeper@example.com")
        users = self.api(UserDataApi)
        # No job yet: `response` is absent, not a 404.
        self.assertIsNone(users.get_reassign_progress(LEAVER).response)
        # Reassigning needs the leaver disabled first.
        with self.assertRaises(ApiException) as caught:
            users.start_reassign(StartReassignRequestDto(from_user_id=LEAVER, to_user_id=keeper))
        self.assertEqual(caught.exception.status, 400)

        self.disable_leaver()
        started = users.start_reassign(
            StartReassignRequestDto(from_user_id=LEAVER, to_user_id=keeper, delete_profile=False)
        ).response
        self.assertEqual(started.id, f"1_{LEAVER}_ReassignProgressItem")
        self.assertFalse(started.is_completed)
        # TaskProgressResponseDto.Get: `error` is "" (not absent) without an error.
        self.assertEqual(started.error, "")
        done = self.poll(
            lambda: users.get_reassign_progress(LEAVER).response,
            lambda progress: progress.is_completed,
            "the reassign job",
        )
        self.assertEqual(
            (done.status, done.percentage, done.error), (DistributedTaskStatus.Completed, 100, "")
        )

        # The leaver's room now belongs to the target.
        room = self.api(RoomsApi).get_room_info(ROOM_WORKSPACE, _headers=bearer(OWNER_KEY)).response
        self.assertEqual(str(room.created_by.id), keeper)
        self.assertEqual(
            self.api(ProfilesApi).get_profile_by_user_id(LEAVER).response.status,
            EmployeeStatus.Terminated,
        )

    def test_api_keys_list_and_delete(self):
        keys = self.api(ApiKeysApi)
        listing = keys.get_api_keys().response
        self.assertEqual(
            sorted(k.key_postfix for k in listing), ["0001", "0002", "0003", "0004", "0005"]
        )
        leavers = [k for k in listing if str(k.create_by.id) == LEAVER]
        self.assertEqual(
            [(k.name, k.key, k.is_active) for k in leavers], [("script", "sk-***0004", True)]
        )
        self.assertEqual(leavers[0].permissions, [])

        deleted = keys.delete_api_key(leavers[0].id)
        self.assertSuccessEnvelope(deleted)
        self.assertIs(deleted.response, True)
        self.assertNotIn(leavers[0].id, [k.id for k in keys.get_api_keys().response])
        with self.assertRaises(UnauthorizedException):
            self.api(ProfilesApi, LEAVER_KEY).get_self_profile()

    def test_logout_all_sessions(self):
        anonymous = anonymous_client(self.sim.url)
        self.addCleanup(close, anonymous)
        token = (
            AuthenticationApi(anonymous)
            .authenticate_me(
                AuthRequestsDto(user_name="leaver@example.com", password="leaver-password")
            )
            .response.token
        )
        self.assertEqual(
            self.api(ProfilesApi, token).get_self_profile().response.email, "leaver@example.com"
        )

        # The SDK declares no response model: the body has no `response` at all.
        answer = self.api(
            ActiveConnectionsApi
        ).log_out_all_active_connections_for_user_with_http_info(LEAVER)
        self.assertEqual((answer.status_code, answer.data), (200, None))
        body = raw(answer)
        self.assertNotIn("response", body)
        self.assertEqual((body["count"], body["status"], body["statusCode"]), (0, 0, 200))

        with self.assertRaises(UnauthorizedException):
            self.api(ProfilesApi, token).get_self_profile()
        # API keys are not sessions: they still work.
        self.assertEqual(
            self.api(ProfilesApi, LEAVER_KEY).get_self_profile().response.email,
            "leaver@example.com",
        )


class AuditTests(SimTestCase):
    fresh_portal = True

    def test_audit_events_filter(self):
        self.api(ActiveConnectionsApi).log_out_all_active_connections_for_user(LEAVER)
        owner = self.api(ProfilesApi).get_self_profile().response.id
        events = self.api(AuditTrailDataApi).get_audit_events_by_filter(
            user_id=owner, action=MessageAction.UserLogoutActiveConnectionsForUser
        )
        self.assertSuccessEnvelope(events)
        self.assertEqual(len(events.response), 1)
        event = events.response[0]
        self.assertEqual(event.action_id, MessageAction.UserLogoutActiveConnectionsForUser)
        self.assertEqual(event.user_id, owner)
        self.assertEqual(event.target, [LEAVER])
        self.assertEqual(
            (event.action_type, event.product, event.location, event.entries),
            (ActionType.Logout, ProductType.Contacts, LocationType.Contacts, [EntryType.User]),
        )
        self.assertEqual(event.action, "Active Connections Logged Out for User: Lea Ver")

        self.api(UserStatusApi).update_user_status(
            EmployeeStatus.Terminated, UpdateMembersRequestDto(user_ids=[LEAVER])
        )
        events = (
            self.api(AuditTrailDataApi)
            .get_audit_events_by_filter(
                action=MessageAction.UsersUpdatedStatus, count=10, start_index=0
            )
            .response
        )
        self.assertEqual(
            [(e.user_id, e.target, e.product) for e in events],
            [(owner, [LEAVER], ProductType.Contacts)],
        )

    def test_audit_events_from_fixture_history(self):
        # Fixture history goes through the same action mapping as live events: the
        # fixture's FileCreated (5000) is product Documents, so the SDK accepts it.
        events = self.api(AuditTrailDataApi).get_audit_events_by_filter(user_id=LEAVER).response
        self.assertEqual(
            [(e.action_id, e.product) for e in events],
            [(MessageAction.FileCreated, ProductType.Documents)],
        )

    def test_audit_date_filters_need_raw_strings(self):
        # The SDK types `from`/`to` as ApiDateTime objects and JSON-dumps them into
        # the query string; the server's model binding rejects that with a 400
        # validation error. Send the dates as strings and let only the answer go
        # through the SDK's deserializer.
        client = self.client()
        since = ApiDateTime(utc_time=datetime(2026, 10, 1, tzinfo=timezone.utc))
        with self.assertRaises(ApiException) as caught:
            LoginHistoryApi(client).get_login_events_by_filter(var_from=since)
        self.assertEqual(caught.exception.status, 400)
        rejected = json.loads(caught.exception.body)
        self.assertIn("from", rejected["response"]["errors"])
        # The envelope's link shows what the SDK sent: `{}`.
        self.assertTrue(
            rejected["links"][0]["href"].endswith("/login/filter?from=%7B%7D"), rejected["links"]
        )

        response = client.call_api(
            "GET",
            f"{self.sim.url}/api/2.0/security/audit/login/filter"
            "?from=2026-10-01T00:00:00Z&to=2026-10-01T23:59:59Z",
            header_params=bearer(OWNER_KEY),
        )
        response.read()
        logins = client.response_deserialize(response, {"200": "LoginEventArrayWrapper"}).data
        # Only the leaver's login of 1 October; plain@'s of 2 October is outside.
        self.assertEqual(
            [(str(e.user_id), e.login) for e in logins.response], [(LEAVER, "leaver@example.com")]
        )

    def test_login_events_filter(self):
        logins = self.api(LoginHistoryApi).get_login_events_by_filter(user_id=LEAVER)
        self.assertSuccessEnvelope(logins)
        self.assertEqual(len(logins.response), 1)
        event = logins.response[0]
        self.assertEqual((str(event.user_id), event.login), (LEAVER, "leaver@example.com"))
        self.assertEqual(
            (event.action_id, event.action), (MessageAction.LoginSuccess, "Login Success")
        )
        # The portal's time zone (Europe/Moscow) on the wire, the same instant.
        self.assertEqual(event.var_date.utc_time, datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc))

        anonymous = anonymous_client(self.sim.url)
        self.addCleanup(close, anonymous)
        AuthenticationApi(anonymous).authenticate_me(
            AuthRequestsDto(user_name="leaver@example.com", password="leaver-password")
        )
        via_api = (
            self.api(LoginHistoryApi)
            .get_login_events_by_filter(user_id=LEAVER, action=MessageAction.LoginSuccessViaApi)
            .response
        )
        self.assertEqual(
            [(e.login, e.action_id) for e in via_api],
            [("leaver@example.com", MessageAction.LoginSuccessViaApi)],
        )


if __name__ == "__main__":
    unittest.main()
