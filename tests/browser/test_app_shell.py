"""End to end in Chromium: sign in, home, admin pages, sign out; axe-core on every page visited."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_see_home_and_sign_out(page):
    page.goto("/")
    assert page.title() == "Home | HHS Data Marketplace"
    check_accessibility(page)
    page.get_by_role("link", name="Sign in").first.click()
    assert page.url.endswith("/login")
    assert page.get_by_text("System use notification").is_visible()
    check_accessibility(page)
    sign_in(page, "steward.cdc@demo.hhs.gov")
    assert page.get_by_text("Signed in as Carmen Steward.").is_visible()
    check_accessibility(page)
    page.goto("/account")
    assert page.get_by_text("CDC", exact=True).is_visible()
    check_accessibility(page)
    page.get_by_test_id("sign-out").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto("/account")
    assert "/login?next=/account" in page.url


def test_wrong_password_shows_one_generic_message(page):
    sign_in(page, "steward.cdc@demo.hhs.gov", "not the password")
    assert page.get_by_text("The e-mail address or password is not correct.").is_visible()
    check_accessibility(page)


def test_admin_searches_users_live_and_back_works(page):
    sign_in(page, "admin@demo.hhs.gov")
    page.goto("/admin/users")
    check_accessibility(page)
    rows = page.locator("#user-table tbody tr")
    assert rows.count() == 8
    page.get_by_label("Search users by name or e-mail").fill("officer")
    page.wait_for_url("**/admin/users?q=officer")
    page.wait_for_function("document.querySelectorAll('#user-table tbody tr').length === 2")
    page.goto("/admin/audit")
    check_accessibility(page)
    assert page.locator("#audit-table tbody tr").count() >= 1
    page.go_back()
    page.wait_for_url("**/admin/users?q=officer")
    assert page.locator("#user-table tbody tr").count() == 2


def test_viewer_gets_a_styled_403_on_admin_pages(page):
    sign_in(page, "viewer.hrsa@demo.hhs.gov")
    response = page.goto("/admin/users")
    assert response.status == 403
    assert page.get_by_role("heading", name="Access denied").is_visible()
    check_accessibility(page)
