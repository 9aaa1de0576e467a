"""Routes for signing in and out, passwords, invitations and requests to join."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_limiter.util import get_remote_address

from local_offer import users

from local_offer.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    CodeForm,
    TwoFactorOffForm,
    TwoFactorSetupForm,
    ForgotPasswordForm,
    JoinForm,
    ResetPasswordForm,
    SignInForm,
)
from local_offer.auth import public, signed_in
from local_offer.extensions import db, limiter
from local_offer.i18n import _
from local_offer.models import Role, SignIn, TokenPurpose, User
from local_offer.sanitise import clean_text
from local_offer.security import safe_next
from sqlalchemy import select

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _email_key() -> str:
    """Rate-limit key: the email address typed, whether or not it has an account."""
    return "email:" + users.normalise_email(request.form.get("email", ""))[:254]


def _limits(setting: str):
    """Return the configured limit string for a form (per IP and per email)."""
    return lambda: current_app.config[setting]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_limits("SIGN_IN_LIMIT"), methods=["POST"], key_func=get_remote_address)
@public
def sign_in():
    """Sign in with email and password."""
    # A bad address to go back to is refused (400) before a password is looked at.
    account, asked = url_for("accounts.dashboard"), request.args.get("next")
    target = safe_next(asked, fallback=account)
    by_role = target == account and asked != account  # nowhere (safe) asked for: each role's own first page
    if current_user.is_authenticated:
        return redirect(target)
    form = SignInForm()
    if form.validate_on_submit():
        wait = users.sign_in_wait(form.email.data)  # per email, only for addresses that got it wrong
        if wait:
            form.password.errors.append(_(
                "Too many wrong passwords for this email address. Wait %(seconds)s seconds and try again, "
                "or reset your password.", seconds=wait))
            return render_template("accounts/sign_in.html", form=form), 429, {"Retry-After": str(wait)}
        user = users.check_password(form.email.data, form.password.data)
        if user is None:
            found = users.find_user(form.email.data)
            users.record_sign_in(found, form.email.data, succeeded=False)
            form.password.errors.append(_("Enter a correct email address and password"))
            return render_template("accounts/sign_in.html", form=form), 401
        if not user.active:
            users.record_sign_in(user, form.email.data, succeeded=False)
            form.email.errors.append(_("This account has been turned off. Contact the Local Offer team."))
            return render_template("accounts/sign_in.html", form=form), 403
        session.clear()  # a new session at sign-in: nothing from before carries over
        target = first_page(user) if by_role else target
        if user.two_factor_enabled:
            session["pending_sign_in"] = {"id": user.id, "version": user.session_version,
                                          "at": time.time(), "next": target}
            return redirect(url_for("accounts.sign_in_code"))
        login_user(user)
        users.record_sign_in(user, form.email.data, succeeded=True)
        return redirect(target)
    status = 400 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


def first_page(user: User) -> str:
    """Where signing in leads when no page was asked for: providers to their listings, staff to what needs doing."""
    return url_for("portal.dashboard") if user.role is Role.PROVIDER else url_for("admin.index")


PENDING_SECONDS = 300


def _pending_key() -> str:
    """Rate-limit key for the code step: the account being signed in to."""
    return "pending:" + str((session.get("pending_sign_in") or {}).get("id", ""))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_limits("SIGN_IN_LIMIT"), methods=["POST"], key_func=get_remote_address)
@limiter.limit(_limits("SIGN_IN_LIMIT"), methods=["POST"], key_func=_pending_key)
@public
def sign_in_code():
    """Second step of signing in: a code from the authenticator app or a recovery code."""
    pending = session.get("pending_sign_in")
    user = db.session.get(User, pending["id"]) if pending else None
    if (user is None or not user.active or user.session_version != pending["version"]
            or time.time() - pending["at"] > PENDING_SECONDS):
        session.pop("pending_sign_in", None)
        flash(_("Sign in again: that took too long, or something changed."))
        return redirect(url_for("accounts.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if users.check_second_factor(user, form.code.data):
            target = pending["next"]
            session.clear()
            login_user(user)
            users.record_sign_in(user, user.email, succeeded=True)
            return redirect(target)
        form.code.errors.append(_("That code is not right. Codes change every 30 seconds."))
        return render_template("accounts/sign_in_code.html", form=form), 401
    return render_template("accounts/sign_in_code.html", form=form), 400 if form.errors else 200


@bp.route("/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor():
    """Turn on a second factor (an authenticator app), or turn it off."""
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        form = TwoFactorOffForm()
        if form.validate_on_submit():
            if users.check_password(user.email, form.password.data) is None:
                form.password.errors.append(_("Your password is not right"))
            elif users.needs_two_factor_setup(user) or (users.two_factor_required()
                                                        and user.role.value in ("coordinator", "admin")):
                form.password.errors.append(_("Your council requires a second factor for your account"))
            else:
                users.turn_off_two_factor(user, actor=user)
                flash(_("The second factor is turned off."))
                return redirect(url_for("accounts.dashboard"))
        return render_template("accounts/two_factor_on.html", form=form,
                               left=len(user.recovery_codes or [])), 400 if form.errors else 200
    secret = session.get("totp_setup") or users.new_totp_secret()
    session["totp_setup"] = secret
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        if users.check_totp(user, form.code.data, secret=secret):
            session.pop("totp_setup", None)
            codes = users.turn_on_two_factor(user, secret)
            return render_template("accounts/recovery_codes.html", codes=codes)
        form.code.errors.append(_("That code is not right. Check the time on your phone is right."))
    uri = users.provisioning_uri(secret, user.email)
    return render_template("accounts/two_factor_setup.html", form=form, secret=secret, uri=uri,
                           qr=users.qr_svg_data_uri(uri)), 400 if form.errors else 200


@bp.post("/sign-out")
@public
def sign_out():
    """Sign out and end the session."""
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.sign_in"))


@bp.get("/")
@signed_in
def dashboard():
    """Show the signed-in person their account and what they can do."""
    recent = db.session.execute(select(SignIn).where(SignIn.user_id == current_user.id)
                                .order_by(SignIn.occurred_at.desc()).limit(5)).scalars().all()
    return render_template("accounts/dashboard.html", recent=recent)


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change the password; every other session of the account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if users.check_password(current_user.email, form.current.data) is None:
            form.current.errors.append(_("Your current password is not right"))
            return render_template("accounts/change_password.html", form=form), 400
        user = current_user._get_current_object()
        users.change_password(user, form.password.data)
        session.clear()
        login_user(user)  # this session continues under the new session version
        flash(_("Your password has been changed. You have been signed out everywhere else."))
        return redirect(url_for("accounts.dashboard"))
    return render_template("accounts/change_password.html", form=form), 400 if form.errors else 200


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_limits("RESET_LIMIT"), methods=["POST"], key_func=get_remote_address)
@public
def forgot_password():
    """Email a password reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        users.send_password_reset(form.email.data)
        return render_template("accounts/check_email.html", email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form), 400 if form.errors else 200


def _token_or_problem(token: str, purpose: TokenPurpose):
    """Return a usable emailed link's record, or a page explaining why it cannot be used."""
    try:
        return users.check_token(token, purpose), None
    except users.TokenProblem as problem:
        status = 410 if problem.expired else 404
        return None, (render_template("accounts/link_problem.html", problem=str(problem), purpose=purpose.value), status)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    """Choose a new password through an emailed link that expires and works once."""
    record, problem = _token_or_problem(token, TokenPurpose.RESET)
    if problem:
        return problem
    form = ResetPasswordForm()
    if form.validate_on_submit():
        users.use_token(record, form.password.data)
        flash(_("Your password has been changed. Sign in with your new password."))
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form), 400 if form.errors else 200


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """Set up an invited account: a name and a password."""
    record, problem = _token_or_problem(token, TokenPurpose.INVITE)
    if problem:
        return problem
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        user = users.use_token(record, form.password.data, name=clean_text(form.name.data))
        session.clear()
        login_user(user)
        users.record_sign_in(user, user.email, succeeded=True)
        flash(_("Your account is ready."))
        return redirect(url_for("accounts.dashboard"))
    return render_template("accounts/accept_invitation.html", form=form, email=record.user.email), \
        400 if form.errors else 200


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_limits("JOIN_LIMIT"), methods=["POST"], key_func=get_remote_address)
@limiter.limit(_limits("JOIN_LIMIT"), methods=["POST"], key_func=_email_key)
@public
def join():
    """Ask for a provider account, with the organisation's details, for a coordinator to approve."""
    form = JoinForm()
    if form.validate_on_submit():
        users.request_to_join({
            "name": clean_text(form.name.data), "email": form.email.data,
            "organisation_name": clean_text(form.organisation_name.data),
            "organisation_website": clean_text(form.organisation_website.data or ""),
            "phone": clean_text(form.phone.data or ""), "message": clean_text(form.message.data or ""),
        })
        return render_template("accounts/join_sent.html")
    return render_template("accounts/join.html", form=form), 400 if form.errors else 200
