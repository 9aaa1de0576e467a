"""Accounts: passwords, emailed links, invitations, join requests and sign-in history.

Passwords are hashed with scrypt (Werkzeug).  Emailed links carry a random
token; only its SHA-256 hash is stored, each link expires and works once.
Messages never say whether an email address has an account.  Every account
change is written to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app, request
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from local_offer import mail, throttle
from local_offer.extensions import db
from local_offer.i18n import _, language_to_keep
from local_offer.models import (
    AccountToken,
    JoinRequest,
    JoinStatus,
    Organisation,
    Role,
    SignIn,
    TokenPurpose,
    User,
    record_audit,
    utcnow,
)

MIN_PASSWORD = 12
#: A real hash to check against when there is no account, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


class TokenProblem(ValueError):
    """An emailed link cannot be used; ``expired`` says whether it once was valid."""

    def __init__(self, message: str, expired: bool):
        """Keep the message and whether the link had merely expired or been used."""
        super().__init__(message)
        self.expired = expired


def normalise_email(email: str) -> str:
    """Return an email address as accounts are keyed: trimmed and lower case."""
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    """Return the account with this email address, or None."""
    return db.session.execute(select(User).where(func.lower(User.email) == normalise_email(email))).scalar_one_or_none()


def client_ip() -> str | None:
    """Return the visitor's address (after ProxyFix), for sign-in history and the audit log."""
    return request.remote_addr if request else None


def check_password(email: str, password: str) -> User | None:
    """Return the account if the password is right (whether or not it is active), else None."""
    user = find_user(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def record_sign_in(user: User | None, email: str, succeeded: bool) -> None:
    """Write a sign-in attempt to the account's history and the audit log."""
    if user is not None:
        db.session.add(SignIn(user_id=user.id, succeeded=succeeded, ip_address=client_ip(),
                              user_agent=(request.user_agent.string or "")[:255]))
        if succeeded:
            user.last_sign_in_at = utcnow()
            user.language = language_to_keep()  # emails about their listings come in it
    if succeeded:
        throttle.succeeded(normalise_email(email), client_ip())
    else:
        throttle.failed(normalise_email(email), client_ip())
    action = "user.signed_in" if succeeded else "user.sign_in_failed"
    # For an unknown address keep only a hash: the log must not collect typed emails.
    changes = {} if user else {"email_sha256": hashlib.sha256(normalise_email(email).encode()).hexdigest()[:16]}
    record_audit(action, "user", user.id if user else None, actor=user if succeeded else None,
                 changes=changes, ip_address=client_ip())
    db.session.commit()


def sign_in_wait(email: str) -> int:
    """Return the seconds this visitor must wait before trying this email's password again (0: now)."""
    return throttle.wait_seconds(normalise_email(email), client_ip())


def set_password(user: User, password: str, actor: User | None, action: str) -> None:
    """Store a new password hash and end the account's other sessions."""
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 1) + 1
    record_audit(action, "user", user.id, actor=actor, ip_address=client_ip())


def change_password(user: User, password: str) -> None:
    """Change someone's own password (they typed the current one); their other sessions end."""
    set_password(user, password, actor=user, action="user.password_changed")
    db.session.commit()


def _token_hash(token: str) -> str:
    """Return the stored form of an emailed token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, purpose: TokenPurpose) -> str:
    """Create an emailed link's token for an account; return the token (stored only hashed)."""
    lifetime = (timedelta(days=current_app.config["INVITE_DAYS"]) if purpose is TokenPurpose.INVITE
                else timedelta(hours=current_app.config["RESET_HOURS"]))
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(token_hash=_token_hash(token), purpose=purpose, user=user,
                                expires_at=datetime.now(timezone.utc) + lifetime))
    return token


def check_token(token: str, purpose: TokenPurpose) -> AccountToken:
    """Return a usable token's record, or raise TokenProblem saying why it cannot be used."""
    record = db.session.execute(select(AccountToken).where(
        AccountToken.token_hash == _token_hash(token or ""), AccountToken.purpose == purpose)).scalar_one_or_none()
    if record is None:
        raise TokenProblem(_("This link is not valid. Check you copied all of it."), expired=False)
    if record.used_at is not None:
        raise TokenProblem(_("This link has already been used. Ask for a new one."), expired=True)
    if record.expires_at <= datetime.now(timezone.utc):
        raise TokenProblem(_("This link has expired. Ask for a new one."), expired=True)
    if not record.user.active:
        raise TokenProblem(_("This account has been turned off. Contact the Local Offer team."), expired=True)
    return record


def use_token(record: AccountToken, password: str, name: str | None = None) -> User:
    """Set the password through an emailed link, and make the link unusable."""
    user = record.user
    record.used_at = utcnow()
    if name:
        user.name = name
    action = "user.invitation_accepted" if record.purpose is TokenPurpose.INVITE else "user.password_reset"
    set_password(user, password, actor=user, action=action)
    db.session.commit()
    return user


def email_footer() -> str:
    """Say who sent a message and how to reach them."""
    config = current_app.config
    return _("From the %(service)s team at %(council)s. Questions: %(email)s or %(phone)s.",
             service=config["SERVICE_NAME"], council=config["COUNCIL_NAME"],
             email=config["COUNCIL_EMAIL"], phone=config["COUNCIL_PHONE"])


def send_password_reset(email: str) -> None:
    """Email a reset link if there is an active account; say nothing either way.

    Past ``RESET_LIMIT`` for an address no further email is sent (the links already
    sent still work), but the request is never refused: its owner can always reset.
    """
    allowed = throttle.may_email_reset(normalise_email(email))
    user = find_user(email)
    if user is None or not user.active or not allowed:
        return
    token = issue_token(user, TokenPurpose.RESET)
    record_audit("user.password_reset_requested", "user", user.id, ip_address=client_ip())
    db.session.commit()
    link = mail.link("accounts.reset_password", token=token)
    mail.send(user.email, _("Reset your password"), "\n\n".join([
        _("Someone asked to reset the password for your %(service)s account.",
          service=current_app.config["SERVICE_NAME"]),
        _("To choose a new password, open this link within %(hours)s hour(s). It works once:",
          hours=current_app.config["RESET_HOURS"]),
        link,
        _("If you did not ask for this, you can ignore this email: your password has not changed."),
        email_footer()]))


def invite(email: str, role: Role, organisations: list[Organisation], actor: User, name: str = "") -> User:
    """Create an account and email an invitation to set its password."""
    user = User(email=normalise_email(email), name=name, role=role, organisations=organisations)
    db.session.add(user)
    db.session.flush()
    token = issue_token(user, TokenPurpose.INVITE)
    record_audit("user.invited", "user", user.id, actor=actor, ip_address=client_ip(),
                 changes={"email": user.email, "role": role.value,
                          "organisations": [o.id for o in organisations]})
    db.session.commit()
    link = mail.link("accounts.accept_invitation", token=token)
    where = ", ".join(o.name for o in organisations)
    mail.send(user.email, _("You have been invited to %(service)s", service=current_app.config["SERVICE_NAME"]),
              "\n\n".join([
                  _("%(who)s has invited you to keep your listings up to date on the %(service)s.",
                    who=actor.name or actor.email, service=current_app.config["SERVICE_NAME"])
                  + (" " + _("You will manage listings for: %(organisations)s.", organisations=where) if where else ""),
                  _("To set your password and sign in, open this link within %(days)s days. It works once:",
                    days=current_app.config["INVITE_DAYS"]),
                  link, email_footer()]))
    return user


def request_to_join(form_data: dict) -> JoinRequest:
    """Record a provider's request to join and tell them it has arrived."""
    join = JoinRequest(**form_data)
    join.email = normalise_email(join.email)
    db.session.add(join)
    db.session.flush()
    record_audit("join.requested", "join_request", join.id, ip_address=client_ip(),
                 changes={"organisation": join.organisation_name})
    db.session.commit()
    mail.send(join.email, _("We have your request to join %(service)s", service=current_app.config["SERVICE_NAME"]),
              "\n\n".join([_("Thank you. A member of the Local Offer team will check your request and email you."),
                           email_footer()]))
    mail.send(current_app.config["COUNCIL_EMAIL"], _("New request to join from %(organisation)s",
                                                      organisation=join.organisation_name),
              _("Review it in the coordinators' pages: %(link)s",
                link=mail.link("admin.join_requests")))
    return join


def approve_join(join: JoinRequest, organisation: Organisation | None, actor: User) -> User:
    """Approve a join request: the organisation (new if none given), the account and an invitation."""
    if organisation is None:
        organisation = Organisation(name=join.organisation_name, website=join.organisation_website or None,
                                    phone=join.phone or None, email=join.email)
        db.session.add(organisation)
        db.session.flush()
        record_audit("organisation.created", "organisation", organisation.id, actor=actor,
                     changes={"name": organisation.name, "from": "join request"})
    join.status = JoinStatus.APPROVED
    join.organisation_id = organisation.id
    join.decided_at = utcnow()
    join.decided_by_id = actor.id
    record_audit("join.approved", "join_request", join.id, actor=actor, ip_address=client_ip())
    existing = find_user(join.email)
    if existing is not None:
        if organisation not in existing.organisations:
            existing.organisations.append(organisation)
        db.session.commit()
        return existing
    return invite(join.email, Role.PROVIDER, [organisation], actor, name=join.name)


def change_account(user: User, role: Role, active: bool, organisations: list[Organisation], actor: User) -> None:
    """Change an account's role, organisations or whether it can sign in; audit what changed."""
    before = {"role": user.role.value, "active": user.active,
              "organisations": sorted(o.id for o in user.organisations)}
    user.role = role
    user.active = active
    user.organisations = organisations
    if not user.active:
        user.session_version = (user.session_version or 1) + 1  # signed out at once
    after = {"role": user.role.value, "active": user.active,
             "organisations": sorted(o.id for o in organisations)}
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    action = "user.role_changed" if "role" in changes else "user.updated"
    record_audit(action, "user", user.id, actor=actor, changes=changes, ip_address=client_ip())
    db.session.commit()


def decline_join(join: JoinRequest, reason: str, actor: User) -> None:
    """Decline a join request and tell the person why."""
    join.status = JoinStatus.DECLINED
    join.decided_at = utcnow()
    join.decided_by_id = actor.id
    join.decision_reason = reason
    record_audit("join.declined", "join_request", join.id, actor=actor, ip_address=client_ip(),
                 changes={"reason": reason})
    db.session.commit()
    mail.send(join.email, _("Your request to join %(service)s", service=current_app.config["SERVICE_NAME"]),
              "\n\n".join([_("We are sorry: we could not approve your request to join."),
                           _("The reason given: %(reason)s", reason=reason), email_footer()]))


# --- the second factor ---------------------------------------------------------------------------

REQUIRE_TWO_FACTOR = "require_two_factor"
RECOVERY_CODES = 10


def two_factor_required() -> bool:
    """Say whether an administrator requires a second factor for coordinators and administrators."""
    from local_offer.models import SiteSetting

    setting = db.session.get(SiteSetting, REQUIRE_TWO_FACTOR)
    return bool(setting and setting.value.get("enabled"))


def set_two_factor_required(enabled: bool, actor: User) -> None:
    """Turn the requirement on or off, and audit it."""
    from local_offer.models import SiteSetting

    setting = db.session.get(SiteSetting, REQUIRE_TWO_FACTOR) or SiteSetting(key=REQUIRE_TWO_FACTOR, value={})
    setting.value = {"enabled": bool(enabled)}
    db.session.add(setting)
    record_audit("settings.two_factor_required", "setting", None, actor=actor, changes={"enabled": bool(enabled)},
                 ip_address=client_ip())
    db.session.commit()


def needs_two_factor_setup(user: User) -> bool:
    """Say whether this account must turn on a second factor before using staff pages."""
    return user.role in (Role.COORDINATOR, Role.ADMIN) and not user.two_factor_enabled and two_factor_required()


def new_totp_secret() -> str:
    """Return a fresh secret for an authenticator app."""
    import pyotp

    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// address an authenticator app reads (as text or as a QR code)."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=current_app.config["SERVICE_NAME"])


def qr_svg_data_uri(text: str) -> str:
    """Return a QR code of the text as an SVG data URI (allowed by the CSP's img-src data:)."""
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def _code_step(secret: str, code: str) -> int | None:
    """Return the time-step a 6-digit code is valid for (now, or one step either side), else None."""
    import pyotp

    totp = pyotp.TOTP(secret)
    now = datetime.now(timezone.utc)
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=30 * offset)
        if secrets.compare_digest(totp.at(moment), code):
            return int(moment.timestamp()) // 30
    return None


def check_totp(user: User, code: str, secret: str | None = None) -> bool:
    """Accept a current code once (a code already used cannot be replayed)."""
    code = "".join(ch for ch in (code or "") if ch in "0123456789")
    if len(code) != 6:
        return False
    step = _code_step(secret or user.totp_secret or "", code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def use_recovery_code(user: User, code: str) -> bool:
    """Accept one of the account's unused recovery codes, and strike it off."""
    cleaned = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    digest = hashlib.sha256(cleaned.encode()).hexdigest()
    remaining = list(user.recovery_codes or [])
    if digest not in remaining:
        return False
    remaining.remove(digest)
    user.recovery_codes = remaining
    record_audit("user.recovery_code_used", "user", user.id, actor=user, ip_address=client_ip(),
                 changes={"left": len(remaining)})
    return True


def check_second_factor(user: User, code: str) -> bool:
    """Accept an authenticator code or an unused recovery code at sign-in; record a wrong one as a failed sign-in."""
    if check_totp(user, code) or use_recovery_code(user, code):
        return True
    record_sign_in(user, user.email, succeeded=False)
    return False


def turn_on_two_factor(user: User, secret: str) -> list[str]:
    """Save the authenticator secret and return new recovery codes (shown once, stored hashed)."""
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    user.totp_secret = secret
    user.recovery_codes = [hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes]
    record_audit("user.two_factor_enabled", "user", user.id, actor=user, ip_address=client_ip())
    db.session.commit()
    return codes


def turn_off_two_factor(user: User, actor: User) -> None:
    """Remove the second factor (by the person themselves, or an administrator helping them)."""
    user.totp_secret = None
    user.recovery_codes = []
    user.totp_last_step = None
    record_audit("user.two_factor_disabled", "user", user.id, actor=actor, ip_address=client_ip())
    db.session.commit()


def remember_language(user: User, code: str) -> None:
    """Keep the language a signed-in person chose, for the emails sent to them."""
    language = None if code == current_app.config["BABEL_DEFAULT_LOCALE"] else code
    if user.language != language:
        user.language = language
        db.session.commit()
