"""Administrators' pages for districts: the areas searches are counted in (rules: ``local_offer.districts``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from local_offer import districts
from local_offer.admin.district_forms import DistrictForm
from local_offer.admin.views import bp
from local_offer.auth import requires
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import District, Role


def _valid(form: DistrictForm, district: District | None = None) -> tuple[str, list[str]] | None:
    """Return the (name, codes) sent when they can be saved, else None with the problems on the form."""
    if not form.validate_on_submit():
        return None
    name = districts.clean_name(form.name.data)
    codes, wrong = districts.split_codes(form.codes.data)
    problems = districts.check(name, codes, wrong, district)
    for field, message in problems.items():
        form[field].errors.append(message)
    return None if problems else (name, codes)


@bp.route("/districts", methods=["GET", "POST"])
@requires(Role.ADMIN)
def districts_page():
    """List the districts and add one."""
    form = DistrictForm()
    sent = _valid(form)
    if sent:
        districts.add(*sent, current_user)
        flash(_("District added. Searches in its outward codes are counted in it."))
        return redirect(url_for("admin.districts_page"))
    return render_template("admin/districts.html", form=form, districts=districts.all_districts()), \
        400 if form.errors else 200


@bp.route("/districts/<uuid:district_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def district_page(district_id):
    """Change a district's name or outward codes."""
    district = db.get_or_404(District, str(district_id))
    form = DistrictForm()
    sent = _valid(form, district)
    if sent:
        districts.change(district, *sent, current_user)
        flash(_("District saved."))
        return redirect(url_for("admin.districts_page"))
    if not form.is_submitted():
        form.name.data = district.name
        form.codes.data = ", ".join(district.outward_codes or [])
    return render_template("admin/district.html", form=form, district=district), 400 if form.errors else 200


@bp.post("/districts/<uuid:district_id>/delete")
@requires(Role.ADMIN)
def delete_district(district_id):
    """Remove a district."""
    district = db.get_or_404(District, str(district_id))
    districts.remove(district, current_user)
    flash(_("District removed. Searches in its outward codes are now counted as elsewhere."))
    return redirect(url_for("admin.districts_page"))
