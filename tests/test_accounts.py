"""Accounts and roles: signing in safely, emailed links, invitations, join requests, audit."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from local_offer import mail
from local_offer.extensions import db, limiter
from local_offer.models import (
    AccountToken,
    AuditEvent,
    JoinRequest,
    JoinStatus,
    Organisation,
    Role,
    SignIn,
    SynonymGroup,
    User,
)

from support import PASSWORD, make_test_config, make_user, sign_in, text_of


def last_link(path_prefix: str) -> str:
    """Return the path of the last emailed link under a prefix."""
    body = mail.sent_messages()[-1].get_content()
    return re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", body).group(1)


@pytest.fixture
def people(demo):
    """One account of each role, and a provider of another organisation."""
    organisations = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars().all()
    return {
        "admin": make_user("admin@example.gov.uk", Role.ADMIN),
        "coordinator": make_user("coordinator@example.gov.uk", Role.COORDINATOR),
        "provider": make_user("provider@example.org", Role.PROVIDER, [organisations[0]]),
        "other_provider": make_user("other@example.org", Role.PROVIDER, [organisations[1]]),
    }


def audit_actions() -> list[str]:
    """Return the audit log's actions, oldest first."""
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


# --- signing in and out ------------------------------------------------------------------------


def test_sign_in_renews_the_session_and_is_audited(people, client):
    """A right password signs in with a fresh session, records the sign-in and audits it."""
    client.get("/account/sign-in")
    client.set_cookie("session", "stale-cookie-from-before")
    response = sign_in(client, "PROVIDER@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"  # a provider's listings
    assert "provider@example.org" in text_of(client.get("/account/"))
    assert db.session.execute(select(SignIn.succeeded)).scalars().all() == [True]
    assert "user.signed_in" in audit_actions()
    assert people["provider"].last_sign_in_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(people, client):
    """Messages never reveal whether an email address has an account."""
    wrong = sign_in(client, "provider@example.org", "not the password at all")
    unknown = sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Enter a correct email address and password" in text_of(wrong)
    assert text_of(wrong).replace("provider@example.org", "X") == text_of(unknown).replace("nobody@example.org", "X")
    assert audit_actions().count("user.sign_in_failed") == 2
    failed = db.session.execute(select(SignIn)).scalars().all()
    assert [(f.user_id, f.succeeded) for f in failed] == [(people["provider"].id, False)]


def test_a_disabled_account_cannot_sign_in(people, client):
    """A turned-off account gets a clear message and no session."""
    people["provider"].active = False
    db.session.commit()
    response = sign_in(client, "provider@example.org")
    assert response.status_code == 403
    assert "turned off" in text_of(response)
    assert client.get("/account/").status_code == 302


def test_sign_out_ends_the_session(people, client):
    """Signing out (a POST with CSRF) ends the session."""
    sign_in(client, "provider@example.org")
    assert client.post("/account/sign-out").status_code == 302
    assert client.get("/account/").status_code == 302


def test_next_after_sign_in_stays_on_this_site(people, client):
    """The page to return to after signing in must be on this site."""
    response = sign_in(client, "coordinator@example.gov.uk", query_string={"next": "https://evil.example/x"})
    assert response.headers["Location"] == "/admin/"  # the coordinator home, not the other site
    client.post("/account/sign-out")
    response = sign_in(client, "coordinator@example.gov.uk", query_string={"next": "/admin/"})
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("email, password, status", [
    ("a" * 10_000 + "@example.org", PASSWORD, 400),
    ("prоvider@example.org", PASSWORD, 400),  # a Cyrillic "о"
    ("not-an-email", PASSWORD, 400),
    ("", "", 400),
    ("provider@example.org", "x" * 5000, 400),
])
def test_bad_sign_in_input_gets_a_clear_4xx(people, client, email, password, status):
    """Absurd or look-alike input is refused with a message; nothing is stored."""
    before = db.session.execute(select(func.count()).select_from(SignIn)).scalar_one()
    response = sign_in(client, email, password)
    assert response.status_code == status
    assert "There is a problem" in text_of(response)
    assert db.session.execute(select(func.count()).select_from(SignIn)).scalar_one() == before


def test_forms_without_a_csrf_token_are_refused(people, client, app):
    """A forged sign-in form (no CSRF token) gets 400 and changes nothing."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = sign_in(client, "provider@example.org")
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(SignIn)).scalar_one() == 0


def test_sign_in_is_throttled_per_email_whether_or_not_it_exists(people, migrated_database):
    """Repeated wrong attempts are refused per address and slowed per email, the same for unknown ones."""
    from local_offer import create_app

    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True,
                                            SIGN_IN_LIMIT="3 per minute"))
    limiter.reset()
    client = throttled.test_client()
    statuses = [sign_in(client, "nobody@example.org", "wrong password here").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "Too many attempts" in text_of(sign_in(client, "nobody@example.org", "wrong password here"))
    # The same browser is also limited by its address, whichever email it tries next.
    assert sign_in(client, "provider@example.org", "wrong password here").status_code == 429
    limiter.reset()


# --- passwords ---------------------------------------------------------------------------------


def test_password_reset_by_a_link_that_works_once(people, client):
    """Forgot password: same answer for everyone; the emailed link resets once, then is refused."""
    for email in ("provider@example.org", "nobody@example.org"):
        response = client.post("/account/forgot-password", data={"email": email})
        assert "Check your email" in text_of(response)
    assert len(mail.sent_messages()) == 1  # only the real account is emailed
    link = last_link("/account/reset/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    assert sign_in(client, "provider@example.org", "a brand new password").status_code == 302
    assert client.get(link).status_code == 410  # used
    assert "already been used" in text_of(client.get(link))
    assert "user.password_reset" in audit_actions()


def test_an_expired_reset_link_is_refused(people, client):
    """A reset link past its time gets a clear 410 and changes nothing."""
    client.post("/account/forgot-password", data={"email": "provider@example.org"})
    link = last_link("/account/reset/")
    token = db.session.execute(select(AccountToken)).scalar_one()
    token.expires_at = token.expires_at - timedelta(hours=2)
    db.session.commit()
    before = people["provider"].password_hash
    response = client.post(link, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 410 and "expired" in text_of(response)
    db.session.refresh(people["provider"])
    assert people["provider"].password_hash == before
    assert client.get("/account/reset/not-a-real-token").status_code == 404


def test_changing_the_password_ends_other_sessions(people, app):
    """After a password change, another browser signed in to the account is signed out."""
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "provider@example.org")
    sign_in(phone, "provider@example.org")
    response = laptop.post("/account/password", data={"current": PASSWORD, "password": "another good password",
                                                      "confirm": "another good password"})
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302
    assert "user.password_changed" in audit_actions()


def test_short_or_mismatched_new_passwords_are_refused(people, client):
    """New passwords need 12 characters and must match."""
    sign_in(client, "provider@example.org")
    short = client.post("/account/password", data={"current": PASSWORD, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "between 12 and 200" in text_of(short)
    mismatch = client.post("/account/password", data={"current": PASSWORD, "password": "a long new password",
                                                       "confirm": "a different long one"})
    assert mismatch.status_code == 400 and "do not match" in text_of(mismatch)


# --- invitations and requests to join ------------------------------------------------------------


def test_a_coordinator_invites_a_provider_who_sets_up_their_account(people, client, app):
    """The invitation's link sets a name and password once; the account belongs to the organisation."""
    organisation = people["provider"].organisations[0]
    sign_in(client, "coordinator@example.gov.uk")
    response = client.post("/admin/invite", data={"email": "New.Person@Example.org", "role": "provider",
                                                  "organisation": organisation.id})
    assert response.status_code == 302
    message = mail.sent_messages()[-1]
    assert message["To"] == "new.person@example.org"
    assert "Example County Council" in message["From"]
    link = last_link("/account/invitation/")
    client.post("/account/sign-out")
    response = client.post(link, data={"name": "New Person", "password": "a fine new password",
                                       "confirm": "a fine new password"})
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.email == "new.person@example.org")).scalar_one()
    assert user.name == "New Person" and [o.id for o in user.organisations] == [organisation.id]
    assert client.get(link).status_code == 410
    assert {"user.invited", "user.invitation_accepted"} <= set(audit_actions())


def test_coordinators_can_invite_only_providers(people, client):
    """A coordinator cannot make an administrator."""
    sign_in(client, "coordinator@example.gov.uk")
    response = client.post("/admin/invite", data={"email": "boss@example.org", "role": "admin"})
    assert response.status_code == 400
    assert db.session.execute(select(User).where(User.email == "boss@example.org")).scalar_one_or_none() is None


def test_a_provider_asks_to_join_and_a_coordinator_approves(people, client, app):
    """Join request → coordinator approves → new organisation and invitation → the provider signs in."""
    response = client.post("/account/join", data={"name": "Sam Reed", "email": "sam@riverside.example.org",
                                                  "organisation_name": "Riverside Dance", "message": "Dance <b>classes</b>"})
    assert "Request sent" in text_of(response)
    join = db.session.execute(select(JoinRequest)).scalar_one()
    assert join.message == "Dance classes"  # sanitised on the way in
    assert mail.sent_messages()[-1]["To"] == app.config["COUNCIL_EMAIL"]
    sign_in(client, "coordinator@example.gov.uk")
    response = client.post(f"/admin/join-requests/{join.id}", data={"decision": "approve", "organisation": ""})
    assert response.status_code == 302
    db.session.refresh(join)
    assert join.status is JoinStatus.APPROVED
    organisation = db.session.get(Organisation, join.organisation_id)
    assert organisation.name == "Riverside Dance"
    link = last_link("/account/invitation/")
    client.post("/account/sign-out")
    client.post(link, data={"name": "Sam Reed", "password": "dance dance dance", "confirm": "dance dance dance"})
    client.post("/account/sign-out")
    assert sign_in(client, "sam@riverside.example.org", "dance dance dance").status_code == 302


def test_declining_a_join_request_needs_a_reason_that_is_sent(people, client):
    """A decline without a reason is refused; with one, the person is told."""
    client.post("/account/join", data={"name": "A", "email": "a@example.org", "organisation_name": "A Club"})
    join = db.session.execute(select(JoinRequest)).scalar_one()
    sign_in(client, "coordinator@example.gov.uk")
    assert client.post(f"/admin/join-requests/{join.id}", data={"decision": "decline"}).status_code == 400
    client.post(f"/admin/join-requests/{join.id}", data={"decision": "decline", "reason": "Not in our area"})
    assert "Not in our area" in mail.sent_messages()[-1].get_content()


# --- administrators ------------------------------------------------------------------------------


def test_an_administrator_changes_a_role_and_sees_sign_ins(people, client):
    """Role changes and disabling are audited; the account's sign-ins are listed."""
    sign_in(client, "provider@example.org")
    client.post("/account/sign-out")
    sign_in(client, "admin@example.gov.uk")
    provider = people["provider"]
    page = client.get(f"/admin/users/{provider.id}")
    assert "Recent sign-ins" in text_of(page) and "Signed in" in text_of(page)
    response = client.post(f"/admin/users/{provider.id}", data={"role": "coordinator", "organisations": "",
                                                                "active": "y"})
    assert response.status_code == 302
    db.session.refresh(provider)
    assert provider.role is Role.COORDINATOR
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).scalar_one()
    assert event.changes["role"] == ["provider", "coordinator"]


def test_disabling_an_account_signs_it_out_at_once(people, app):
    """A turned-off account's open session ends on its next request."""
    provider, admin = app.test_client(), app.test_client()
    sign_in(provider, "provider@example.org")
    sign_in(admin, "admin@example.gov.uk")
    admin.post(f"/admin/users/{people['provider'].id}", data={"role": "provider", "organisations": ""})
    assert provider.get("/account/").status_code == 302


def test_an_administrator_cannot_lock_themselves_out(people, client):
    """Removing your own administrator access is refused."""
    sign_in(client, "admin@example.gov.uk")
    response = client.post(f"/admin/users/{people['admin'].id}", data={"role": "coordinator", "active": "y"})
    assert response.status_code == 400


def test_coordinators_maintain_synonyms_that_apply_to_the_next_search(people, client):
    """A new synonym group added in the site changes the very next search."""
    assert "0 results" in text_of(client.get("/search?q=aquatics"))
    sign_in(client, "coordinator@example.gov.uk")
    response = client.post("/admin/synonyms", data={"terms": "aquatics, swimming"})
    assert response.status_code == 302
    assert "Otters calm swim sessions" in text_of(client.get("/search?q=aquatics"))
    group = db.session.execute(select(SynonymGroup).where(SynonymGroup.terms.contains("aquatics"))).scalars().first() \
        if False else next(g for g in db.session.execute(select(SynonymGroup)).scalars() if "aquatics" in g.terms)
    assert client.post(f"/admin/synonyms/{group.id}", data={"terms": "aquatics"}).status_code == 400
    client.post(f"/admin/synonyms/{group.id}/delete")
    assert "0 results" in text_of(client.get("/search?q=aquatics"))
    assert {"synonyms.added", "synonyms.removed"} <= set(audit_actions())


# --- every route, every visitor -------------------------------------------------------------------

VISITORS = ["anonymous", "other_provider", "provider", "coordinator", "admin"]
RANK = {"anonymous": -1, "other_provider": 0, "provider": 0, "coordinator": 1, "admin": 2}
NEEDED = {Role.PROVIDER: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}


def example_url(app, rule) -> str:
    """Fill a route's variables with harmless example values."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        values[name] = uuid.uuid4() if converter == "UUIDConverter" else "example"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_declares_who_may_use_it(app):
    """Each route is marked public or names the role it needs, so new routes cannot slip through."""
    unmarked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "public", False) and not hasattr(view, "required_role"):
            unmarked.append(rule.endpoint)
    assert unmarked == []


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_route_gives_each_visitor_the_right_status(people, app, visitor):
    """Walk app.url_map: anonymous visitors are sent to sign in, others get 403 below the role needed."""
    client = app.test_client()
    if visitor != "anonymous":
        assert sign_in(client, people[visitor].email).status_code == 302
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "accounts.sign_out"):
            continue
        view = app.view_functions[rule.endpoint]
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(example_url(app, rule), method=method)
        where = f"{visitor} {method} {rule.rule}"
        assert response.status_code < 500, where
        if getattr(view, "public", False):
            assert response.status_code not in (401, 403), where
            continue
        needed = NEEDED[view.required_role]
        if visitor == "anonymous":
            assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"], where
        elif RANK[visitor] < needed:
            assert response.status_code == 403, where
        else:
            assert response.status_code not in (401, 403), where


def test_demo_content_has_one_account_of_each_role(small_content, runner):
    """`flask content load --demo` adds the documented demo accounts, once."""
    from local_offer.content_loader import DEMO_PASSWORD

    runner.invoke(args=["content", "load", "--demo"])
    runner.invoke(args=["content", "load", "--demo"])
    roles = sorted(u.role.value for u in db.session.execute(select(User)).scalars())
    assert roles == ["admin", "coordinator", "provider"]
    provider = db.session.execute(select(User).where(User.role == Role.PROVIDER)).scalar_one()
    assert provider.organisations[0].name == "Moorlands Otters Swimming Club"
    from werkzeug.security import check_password_hash

    assert check_password_hash(provider.password_hash, DEMO_PASSWORD)
    assert runner.invoke(args=["content", "load", "--no-demo"]).exit_code == 0


# --- the second factor ---------------------------------------------------------------------------


def turn_on_second_factor(client) -> tuple[str, list[str]]:
    """Set up an authenticator for the signed-in account; return its secret and recovery codes."""
    import pyotp

    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="lo-secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code
    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_second_factor_is_asked_for_after_the_password(people, client):
    """With an authenticator turned on, the password alone does not sign in; a code does, once."""
    import pyotp

    sign_in(client, "coordinator@example.gov.uk")
    secret, codes = turn_on_second_factor(client)
    client.post("/account/sign-out")
    response = sign_in(client, "coordinator@example.gov.uk")
    assert response.headers["Location"] == "/account/sign-in/code"
    assert client.get("/account/").status_code == 302  # not signed in yet
    assert client.post("/account/sign-in/code", data={"code": "000000"}).status_code == 401
    import time

    code = pyotp.TOTP(secret).at(time.time() + 30)  # setup used this step's code; the next one is allowed
    assert client.post("/account/sign-in/code", data={"code": code}).status_code == 302
    assert client.get("/account/").status_code == 200
    client.post("/account/sign-out")
    sign_in(client, "coordinator@example.gov.uk")
    assert client.post("/account/sign-in/code", data={"code": code}).status_code == 401  # no replay
    assert client.post("/account/sign-in/code", data={"code": codes[0]}).status_code == 302  # recovery code
    client.post("/account/sign-out")
    sign_in(client, "coordinator@example.gov.uk")
    assert client.post("/account/sign-in/code", data={"code": codes[0]}).status_code == 401  # used once only
    assert {"user.two_factor_enabled", "user.recovery_code_used"} <= set(audit_actions())


def test_an_administrator_can_require_a_second_factor_for_staff(people, app):
    """When required, coordinators must set one up before using staff pages; providers are not asked."""
    admin, coordinator, provider = app.test_client(), app.test_client(), app.test_client()
    sign_in(admin, "admin@example.gov.uk")
    assert admin.post("/admin/settings", data={"require_two_factor": "y"}).status_code == 302
    sign_in(coordinator, "coordinator@example.gov.uk")
    response = coordinator.get("/admin/join-requests")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    turn_on_second_factor(coordinator)
    assert coordinator.get("/admin/join-requests").status_code == 200
    off = coordinator.post("/account/two-factor", data={"password": PASSWORD})
    assert off.status_code == 400 and "requires a second factor" in text_of(off)
    sign_in(provider, "provider@example.org")
    assert provider.get("/account/").status_code == 200
    assert "settings.two_factor_required" in audit_actions()


def test_an_administrator_can_turn_off_a_locked_out_persons_second_factor(people, app):
    """Someone who lost their phone and codes can be helped back in by an administrator."""
    coordinator, admin = app.test_client(), app.test_client()
    sign_in(coordinator, "coordinator@example.gov.uk")
    turn_on_second_factor(coordinator)
    sign_in(admin, "admin@example.gov.uk")
    admin.post(f"/admin/users/{people['coordinator'].id}/two-factor/off")
    db.session.refresh(people["coordinator"])
    assert not people["coordinator"].two_factor_enabled
    assert "user.two_factor_disabled" in audit_actions()


def test_limits_hold_across_workers_through_redis(people, migrated_database):
    """Two worker processes sharing Redis storage enforce one limit between them."""
    import socket

    from local_offer import create_app

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    namespace = f"lo-test-{uuid.uuid4().hex[:8]}"
    settings = dict(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="2 per minute",
                    RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379", RATELIMIT_KEY_PREFIX=namespace)
    first = create_app(make_test_config(migrated_database, **settings)).test_client()
    second = create_app(make_test_config(migrated_database, **settings)).test_client()
    statuses = [sign_in(worker, "nobody@example.org", "wrong password here").status_code
                for worker in (first, second, first)]
    assert statuses == [401, 401, 429]
    # The counts live in Redis (not one process's memory), where every worker reads them.
    import redis

    stored = redis.Redis(host="127.0.0.1", port=6379).keys(f"*{namespace}*")
    assert stored, "no rate-limit counters were written to Redis"


# --- emailed links: always on the configured public address -----------------------------------

from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

#: Host headers an attacker might send so a reset email carries their address.
HOSTILE_HOSTS = st.one_of(
    st.sampled_from(["evil.example", "evil.example:8080", "localhost@evil.example", "localhost.evil.example",
                     "evil.example/account", "[::1]", "127.0.0.1", "xn--e1afmkfd.example", "LOCALHOST", "a" * 300]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)


def links_in(message) -> list[str]:
    """Return every web address in an email's body."""
    return re.findall(r"https?://\S+", message.get_content())


def test_reset_link_ignores_the_requests_host(people, client, app):
    """`Host: evil.example` on the reset request: the emailed link is still on the site's public address."""
    client.post("/account/forgot-password", data={"email": "provider@example.org"},
                headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    links = links_in(mail.sent_messages()[-1])
    assert links and all(link.startswith("http://localhost/") for link in links), links
    assert any(link.startswith("http://localhost/account/reset/") for link in links)


def test_emailed_links_follow_the_configured_public_url(people, client, app):
    """Invitations, join requests and resets all use PUBLIC_URL, path prefix included."""
    app.config["PUBLIC_URL"] = "https://localoffer.example.gov.uk/send"
    evil = {"base_url": "http://evil.example"}  # the Host header, and the cookies that go with it
    assert sign_in(client, "coordinator@example.gov.uk", **evil).status_code == 302
    organisation = people["provider"].organisations[0].id
    assert client.post("/admin/invite", data={"email": "new@example.org", "role": "provider",
                                              "organisation": organisation}, **evil).status_code == 302
    client.post("/account/sign-out", **evil)
    client.post("/account/join", data={"name": "A", "email": "a@example.org", "organisation_name": "A Club"}, **evil)
    client.post("/account/forgot-password", data={"email": "provider@example.org"}, **evil)
    links = [link for message in mail.sent_messages() for link in links_in(message)]
    assert any("/send/account/invitation/" in link for link in links)
    assert any("/send/admin/join-requests" in link for link in links)
    assert any("/send/account/reset/" in link for link in links)
    assert all(link.startswith("https://localoffer.example.gov.uk/send/") for link in links), links


def test_the_site_refuses_to_start_in_production_without_a_public_url(migrated_database, instance_path, monkeypatch):
    """Outside tests and debugging, a missing or wrong LOCAL_OFFER_PUBLIC_URL stops the site with a clear message."""
    from local_offer import create_app
    from local_offer.config import ConfigError

    monkeypatch.delenv("LOCAL_OFFER_PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError, match="LOCAL_OFFER_PUBLIC_URL is not set"):
        create_app(make_test_config(migrated_database, TESTING=False))
    for wrong in ("localoffer.example.gov.uk", "ftp://x.example", "https://x.example/?a=1", "https://u:p@x.example"):
        with pytest.raises(ConfigError, match="LOCAL_OFFER_PUBLIC_URL must be"):
            create_app(make_test_config(migrated_database, TESTING=False, PUBLIC_URL=wrong))
    monkeypatch.setenv("LOCAL_OFFER_PUBLIC_URL", "https://localoffer.example.gov.uk/")
    app = create_app(make_test_config(migrated_database, TESTING=False))
    assert app.config["PUBLIC_URL"] == "https://localoffer.example.gov.uk"
    monkeypatch.delenv("LOCAL_OFFER_PUBLIC_URL")
    debugging = create_app(make_test_config(migrated_database, TESTING=False, DEBUG=True))
    assert debugging.config["PUBLIC_URL"] == "http://127.0.0.1:5000"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=HOSTILE_HOSTS)
@example(host="evil.example")
def test_any_host_header_leaves_the_reset_link_on_the_public_url(people, client, host):
    """Whatever Host a request names, a reset email's links are on the public address (or the request is a 400)."""
    before = len(mail.sent_messages())
    response = client.post("/account/forgot-password", data={"email": "provider@example.org"},
                           headers={"Host": host, "X-Forwarded-Host": host})
    assert response.status_code in (200, 400)
    sent = mail.sent_messages()[before:]
    for message in sent:
        links = links_in(message)
        assert links and all(link.startswith("http://localhost/account/reset/") for link in links), (host, links)


# --- rate limits when Redis is down -------------------------------------------------------------


def test_sign_in_works_when_the_rate_limit_storage_is_unreachable(people, migrated_database, caplog):
    """Redis down: limits fall back to this process's memory with a logged WARNING; never a 500."""
    import logging

    from local_offer import create_app

    settings = dict(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="3 per minute", RESET_LIMIT="3 per minute",
                    RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    try:
        client = create_app(make_test_config(migrated_database, **settings)).test_client()
        with caplog.at_level(logging.WARNING):
            assert sign_in(client, "provider@example.org", "wrong password here").status_code == 401
            assert sign_in(client, "provider@example.org").status_code == 302
        assert any(record.levelno == logging.WARNING and "falling back to in-memory" in record.getMessage()
                   for record in caplog.records), [record.getMessage() for record in caplog.records]
        client.post("/account/sign-out")
        # The limits still hold, in memory: the per-address limit of 3 is reached on the fourth try.
        statuses = [client.post("/account/forgot-password", data={"email": "provider@example.org"}).status_code
                    for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
    finally:
        limiter._storage_dead = False  # the shared limiter goes back to its own storage for the next tests


# --- the per-email throttle: slows guessing, never locks the owner out ----------------------------

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


@pytest.fixture
def throttled(people, migrated_database):
    """An app with the throttles on (per IP: 10 sign-ins and 5 resets per 15 minutes), fresh counts."""
    from local_offer import create_app

    app = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="10 per 15 minutes",
                                      RESET_LIMIT="5 per 15 minutes"))
    limiter.reset()
    yield app
    limiter.reset()


def from_address(client, address: str, email: str, password: str):
    """Post the sign-in form from one IP address."""
    return sign_in(client, email, password, environ_base={"REMOTE_ADDR": address})


def test_ten_wrong_tries_from_elsewhere_never_lock_the_owner_out(throttled):
    """An attacker's ten wrong passwords (from five addresses) are slowed; the owner signs straight in."""
    attacker, owner = throttled.test_client(), throttled.test_client()
    addresses = [f"203.0.113.{n}" for n in range(10, 15)] * 2
    statuses = [from_address(attacker, address, "provider@example.org", "wrong password here").status_code
                for address in addresses]
    assert statuses[:5] == [401] * 5 and set(statuses) <= {401, 429}
    # One more address gets it wrong (the email's sixth failure or later): it must wait 16 seconds or more,
    # even with the right password.
    assert from_address(attacker, "203.0.113.99", "provider@example.org", "wrong password here").status_code == 401
    refused = from_address(attacker, "203.0.113.99", "provider@example.org", PASSWORD)
    assert refused.status_code == 429 and "Wait" in text_of(refused) and int(refused.headers["Retry-After"]) >= 1
    assert from_address(owner, OWNER, "provider@example.org", PASSWORD).status_code == 302


def test_the_delay_grows_with_each_failure_and_a_success_clears_it(throttled):
    """2, 4, 8... seconds after the free tries, for addresses that got it wrong; success forgets them."""
    from local_offer import throttle

    with throttled.test_request_context("/"):
        waits = []
        for _ in range(7):
            throttle.failed("victim@example.org", ATTACKER)
            waits.append(throttle.wait_seconds("victim@example.org", ATTACKER))
        assert waits[:2] == [0, 0] and waits[2] >= 1
        assert waits == sorted(waits) and waits[-1] > 16  # 2, 4, 8, 16, 32 seconds (at most SIGN_IN_MAX_DELAY)
        assert throttle.wait_seconds("victim@example.org", OWNER) == 0
        throttle.succeeded("victim@example.org", ATTACKER)
        assert throttle.wait_seconds("victim@example.org", ATTACKER) == 0


def test_the_owner_can_always_reset_their_password(throttled):
    """After an attacker's wrong passwords and reset requests, the owner's reset request works and a link does."""
    attacker, owner = throttled.test_client(), throttled.test_client()
    for _ in range(10):
        from_address(attacker, ATTACKER, "provider@example.org", "wrong password here")
    statuses = [attacker.post("/account/forgot-password", data={"email": "provider@example.org"},
                              environ_base={"REMOTE_ADDR": ATTACKER}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # the attacker's own address is limited
    assert len(mail.sent_messages()) == 5  # and the owner's inbox gets no more than RESET_LIMIT
    response = owner.post("/account/forgot-password", data={"email": "provider@example.org"},
                          environ_base={"REMOTE_ADDR": OWNER})
    assert response.status_code == 200 and "Check your email" in text_of(response)
    link = last_link("/account/reset/")
    response = owner.post(link, data={"password": "a brand new password", "confirm": "a brand new password"},
                          environ_base={"REMOTE_ADDR": OWNER})
    assert response.status_code == 302
    assert from_address(owner, OWNER, "provider@example.org", "a brand new password").status_code == 302


WRONG_TRIES = st.lists(st.tuples(st.sampled_from(["203.0.113.9", "203.0.113.10", "2001:db8::1", "192.0.2.1"]),
                                 st.sampled_from(["provider@example.org", "PROVIDER@example.org ", "other@example.org"])),
                       max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tries=WRONG_TRIES)
def test_no_sequence_of_wrong_tries_elsewhere_delays_a_clean_address(throttled, tries):
    """Whatever wrong tries come from other addresses, a clean address is never made to wait."""
    from local_offer import throttle

    limiter.reset()
    with throttled.test_request_context("/"):
        for address, email in tries:
            throttle.failed(email.strip().lower(), address)
            assert throttle.wait_seconds("provider@example.org", OWNER) == 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tries=st.lists(st.sampled_from(["203.0.113.9", "203.0.113.10", "2001:db8::1"]), min_size=1, max_size=12))
@example(tries=["203.0.113.9"] * 6 + ["203.0.113.10"] * 6)
def test_the_right_password_from_a_clean_address_always_signs_in(throttled, tries):
    """Through the sign-in page: wrong tries from other addresses never refuse the owner's right password."""
    limiter.reset()
    attacker, owner = throttled.test_client(), throttled.test_client()
    for address in tries:
        assert from_address(attacker, address, "provider@example.org", "wrong password here").status_code in (401, 429)
    assert from_address(owner, OWNER, "provider@example.org", PASSWORD).status_code == 302


def test_the_sign_in_delay_holds_across_workers_through_redis(people, migrated_database):
    """Failures counted by one worker make the same address wait at another: the counts live in Redis."""
    import socket

    from local_offer import create_app

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings = dict(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="100 per minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
                    RATELIMIT_KEY_PREFIX=f"lo-test-{uuid.uuid4().hex[:8]}")
    first = create_app(make_test_config(migrated_database, **settings)).test_client()
    second = create_app(make_test_config(migrated_database, **settings)).test_client()
    for address in [f"203.0.113.{n}" for n in range(10, 16)] + [ATTACKER]:  # the last waits 32 seconds
        assert from_address(first, address, "provider@example.org", "wrong password here").status_code == 401
    assert from_address(second, ATTACKER, "provider@example.org", PASSWORD).status_code == 429
    assert from_address(second, OWNER, "provider@example.org", PASSWORD).status_code == 302


def test_the_sign_in_delay_keeps_counting_in_memory_when_its_storage_fails(throttled, monkeypatch, caplog):
    """A storage error inside the throttle falls back to this process's memory with a WARNING, never a 500."""
    import logging

    from local_offer import throttle

    class Unreachable:
        """A storage whose every call fails, as Redis does when it is down."""

        def __getattr__(self, name):
            def fail(*args):
                raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
            return fail

    monkeypatch.setattr(throttle, "_shared", Unreachable)
    monkeypatch.setattr(throttle, "_memory", throttle.MemoryStorage())
    with throttled.test_request_context("/"), caplog.at_level(logging.WARNING, logger="local_offer.throttle"):
        for _ in range(5):
            throttle.failed("victim@example.org", ATTACKER)
        assert throttle.wait_seconds("victim@example.org", ATTACKER) >= 1
        assert throttle.wait_seconds("victim@example.org", OWNER) == 0
        assert throttle.may_email_reset("victim@example.org")
    assert any("unreachable" in record.getMessage() for record in caplog.records)
