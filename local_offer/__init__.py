"""Local Offer: a SEND Local Offer directory for an English local authority.

``create_app`` builds the Flask application: configuration, extensions, the
GOV.UK Frontend template loaders, security headers, blueprints and the CLI.
"""

from __future__ import annotations

import os

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from local_offer import config as settings
from local_offer.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_PATH = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure an instance of the Local Offer application."""
    app = Flask(
        __name__,
        instance_path=settings.instance_path(),
        static_folder=str(settings.PROJECT_ROOT / "static"),
        static_url_path="/static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    settings.load(app, test_config)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(settings.PROJECT_ROOT / "translations")

    if app.config["PROXIES"]:
        count = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count)

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("local_offer"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.add_extension("jinja2.ext.do")

    from govuk_frontend_wtf.main import WTFormsHelpers

    from local_offer import i18n

    from local_offer import assets, maintenance, request_log, warmup

    request_log.configure_logging(app)
    warmup.init_app(app)  # first: it counts every request, whatever the other hooks do
    request_log.init_app(app)  # its reference before every other hook; its access line after them all
    maintenance.init_app(app)  # before any hook that could reach the database or refuse a form
    assets.init_app(app)  # next: its hooks then run after the others, on each finished response
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_PATH, render_as_batch=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.install_template_gettext(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    WTFormsHelpers(app)

    from local_offer import models  # noqa: F401  (registers the tables with the metadata)
    from local_offer import filters, security, site
    from local_offer.errors import register_error_handlers

    @login_manager.user_loader
    def load_user(session_id: str):
        """Return the signed-in account, unless its session version has moved on (password changed)."""
        user_id, _, version = session_id.partition(":")
        user = db.session.get(models.User, user_id)
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return user

    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = i18n._l("Sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from local_offer import demand, page_cache, search, shortlists
    from local_offer.listings import cards
    from local_offer.search_sources import DirectorySources

    search.init_app(app, DirectorySources())
    demand.init_app(app)
    cards.init_app(app)
    page_cache.init_app(app)
    shortlists.init_app(app)
    security.init_app(app)
    site.init_app(app)
    filters.init_app(app)
    register_error_handlers(app)

    from local_offer.accounts import bp as accounts_bp
    from local_offer.admin import bp as admin_bp
    from local_offer.directory import bp as directory_bp
    from local_offer.api import bp as api_bp, v3_bp as api_v3_bp
    from local_offer.consultations import bp as consultations_bp
    from local_offer.coproduction import bp as coproduction_bp
    from local_offer.moderation import bp as moderation_bp
    from local_offer.pages import bp as pages_bp
    from local_offer.portal import bp as portal_bp
    from local_offer.shortlist import bp as shortlist_bp

    app.register_blueprint(directory_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(coproduction_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_v3_bp)
    app.register_blueprint(shortlist_bp)

    from local_offer import health, seo, startup_checks

    app.register_blueprint(seo.bp)
    health.init_app(app)
    app.cli.add_command(startup_checks.check_startup_command)
    request_log.learn_secret_paths(app)  # once every route is known
    app.add_template_global(seo.listing_json_ld)

    from local_offer.backup_cli import backup_cli
    from local_offer.cli import register_commands
    from local_offer.feeds_cli import feeds_cli
    from local_offer.jobs_cli import jobs_cli

    register_commands(app)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(feeds_cli)
    app.cli.add_command(backup_cli)
    return app
