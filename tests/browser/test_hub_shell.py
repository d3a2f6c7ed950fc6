"""The hub's sign-in, language choice and error pages in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub.access import Role
from tests.browser.conftest import (
    Hub,
    OpenPage,
    assert_accessible,
    assert_no_english,
    shoot,
    sign_in,
)


@pytest.mark.parametrize("size", ["tablet", "desktop"])
def test_the_sign_in_page_is_vietnamese_accessible_and_in_both_languages(
    hub: Hub, open_page: OpenPage, size: str
) -> None:
    page = open_page(size, "vi")
    page.goto(f"{hub.url}/login")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    assert_no_english(page)
    assert_accessible(page)
    shoot(page, "hub-login")
    page.click("a[hreflang=en]")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert_accessible(page)
    shoot(page, "hub-login")


def test_a_wrong_password_is_said_in_the_users_language(hub: Hub, open_page: OpenPage) -> None:
    page = open_page()
    page.goto(f"{hub.url}/login")
    page.fill("#username", hub.users[Role.IT])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    assert "/login" in page.url


def test_a_page_asked_for_without_a_session_opens_after_signing_in(
    hub: Hub, open_page: OpenPage
) -> None:
    page = open_page()
    page.goto(f"{hub.url}/")
    assert "/login?next=%2F" in page.url
    sign_in(page, hub, Role.ADMIN)
    assert page.url.rstrip("/") == hub.url or "/login" not in page.url
    page.click("[data-signout]")
    page.wait_for_url("**/login")
    page.goto(f"{hub.url}/")
    assert "/login" in page.url


def test_the_language_chosen_is_kept_after_signing_in(hub: Hub, open_page: OpenPage) -> None:
    page = open_page(locale="vi")
    page.goto(f"{hub.url}/lang/en?next=/login")
    sign_in(page, hub, Role.TEACHER)
    assert page.evaluate("document.documentElement.lang") == "en"


def test_an_unknown_page_says_so_in_vietnamese(hub: Hub, open_page: OpenPage) -> None:
    page = open_page()
    sign_in(page, hub, Role.IT)
    response = page.goto(f"{hub.url}/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Không tìm thấy")
    assert_no_english(page)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_finds_its_pages_in_vietnamese(hub: Hub, open_page: OpenPage, role: Role) -> None:
    """Every page a role's menu leads to opens, in Vietnamese with no English left, and passes
    axe-core; the menu holds what the role may do and nothing else."""
    page = open_page("tablet", "vi")
    sign_in(page, hub, role)
    links = page.locator("nav a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs, f"{role.value}: an empty menu"
    for href in hrefs:
        assert href is not None
        assert href.startswith("/"), href
        response = page.goto(f"{hub.url}{href}")
        assert response is not None
        assert response.status == 200, (role.value, href)
        assert page.evaluate("document.documentElement.lang") == "vi"
        assert_no_english(page)
        assert_accessible(page)
    visible = {href.split("?")[0] for href in hrefs if href}
    assert ("/dashboard/users" in visible) == (role is Role.IT), visible
    assert any(h.startswith("/reports") for h in visible) == (
        role in (Role.ADMIN, Role.DISTRICT, Role.IT)
    ), visible
