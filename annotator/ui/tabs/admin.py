"""The Admin tab: accounts (list, add with a password, set role, reset password) and the
per-session view of the page (who is logged in; which tabs their role sees).

``AdminTab.render()`` lays the tab out inside the ``gr.Tab`` the app opens; ``wire(ui)`` connects
its events and the ``whoami`` page-load event. Every event here is admin-only in
``annotator.ui.auth.POLICY`` (``whoami`` excepted); in single-user mode the local user is admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from annotator.core.errors import AnnotatorError, ValidationError
from annotator.ui import render
from annotator.ui.auth import ADMIN, ANNOTATOR, ROLE_SUMMARY, current_user
from annotator.ui.components import Page
from annotator.ui.guards import Tab

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

USER_COLUMNS = ["name", "role", "password", "created"]
ROLES = [ADMIN, ANNOTATOR, "reviewer"]
#: Tabs (attribute names on AnnotatorUI) each role sees in auth mode; tabs not named here are
#: shown to everyone. Admins see every tab.
HIDDEN_TABS: dict[str, tuple[str, ...]] = {
    ANNOTATOR: ("ai", "new", "export", "admin", "review", "dashboard", "team"),
    "reviewer": ("new", "export", "admin", "tasks"),
    ADMIN: (),
}
ROLE_TABS = ("ai", "new", "export", "admin", "review", "tasks", "dashboard", "team")


class AdminTab(Tab):
    """Accounts management for admins. ``auth_mode``: the app asks for a login."""

    def __init__(self, service: AnnotatorService, *, auth_mode: bool):
        super().__init__(service)
        self.auth_mode = auth_mode

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        self.mode_html = gr.HTML(self._mode_note(), js_on_load=None, elem_id="admin-mode")
        with gr.Row(equal_height=True):
            self.refresh_btn = gr.Button("Refresh", scale=0, min_width=110, elem_id="admin-refresh")
        self.users_table = gr.Dataframe(headers=USER_COLUMNS, datatype=["str", "str", "str", "str"],
                                        interactive=False, elem_id="admin-users", label="Accounts")
        with gr.Row(equal_height=True):
            self.new_name = gr.Textbox(label="New user", max_lines=1, elem_id="admin-new-name", scale=1)
            self.new_role = gr.Dropdown(ROLES, value=ANNOTATOR, label="Role", elem_id="admin-new-role", scale=1)
            self.new_password = gr.Textbox(label="Password (8+ characters)", type="password", max_lines=1,
                                           elem_id="admin-new-password", scale=1)
            self.add_btn = gr.Button("Add user", variant="primary", scale=0, min_width=130, elem_id="admin-add")
        with gr.Row(equal_height=True):
            self.pick_user = gr.Dropdown([], label="User", elem_id="admin-pick-user", scale=1, allow_custom_value=True)
            self.pick_role = gr.Dropdown(ROLES, value=ANNOTATOR, label="Role", elem_id="admin-pick-role", scale=1)
            self.role_btn = gr.Button("Set role", scale=0, min_width=120, elem_id="admin-set-role")
            self.reset_password = gr.Textbox(label="New password", type="password", max_lines=1,
                                             elem_id="admin-reset-password", scale=1)
            self.reset_btn = gr.Button("Reset password", scale=0, min_width=150, elem_id="admin-reset")
        self.status_html = gr.HTML("", js_on_load=None, elem_id="admin-status")
        gr.Markdown("\n".join(["| role | may |", "|---|---|",
                               *(f"| {role} | {text} |" for role, text in ROLE_SUMMARY.items())]),
                    elem_id="admin-roles")

    def _mode_note(self) -> str:
        if self.auth_mode:
            return render.note_box("Login required: every click is checked against the person's role.")
        return render.note_box("Single-user mode: no login, whoever opens this page acts as admin. Give an "
                               "account a password to require a login (from the next start of the app).")

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        """Connect the tab's events and the page-load ``whoami`` event (the login's name and tabs)."""
        self.page = page
        listing = [self.users_table, self.pick_user, self.status_html]
        self.refresh_btn.click(self._on_refresh, None, listing, api_name="admin_users")
        page.tab["admin"].select(self._on_refresh, None, listing, api_name=False, show_progress="hidden")
        self.add_btn.click(self._on_add, [self.new_name, self.new_role, self.new_password],
                           [*listing, self.new_name, self.new_password], api_name="admin_add_user")
        self.role_btn.click(self._on_set_role, [self.pick_user, self.pick_role], listing, api_name="admin_set_role")
        self.reset_btn.click(self._on_reset, [self.pick_user, self.reset_password], [*listing, self.reset_password],
                             api_name="admin_reset_password")
        self._role_tabs = [name for name in ROLE_TABS if name in page.tab]
        tabs = [page.tab[name] for name in self._role_tabs]
        # Gradio 6.3 does not hide a tab's button on a visible=False update, so a style rule does it
        # (cosmetic only: the role check on every event is what refuses).
        self.role_style = gr.HTML("", js_on_load=None, elem_id="role-style", padding=False)
        page.blocks.load(self._on_whoami, None, [page.user_box, self.role_style, *tabs], api_name="whoami",
                         queue=False, show_progress="hidden")

    def _listing(self, status: str = "") -> dict[Any, Any]:
        users = self.service.accounts.list_users()
        rows = [[u.name, str(u.role), "set" if u.has_password else "none (cannot log in)",
                 u.created_at.strftime("%Y-%m-%d %H:%M") if u.created_at else ""] for u in users]
        return {self.users_table: pd.DataFrame(rows, columns=USER_COLUMNS),
                self.pick_user: gr.update(choices=[u.name for u in users]), self.status_html: status}

    def _on_refresh(self) -> dict[Any, Any]:
        return self.guarded(self._listing)

    def _on_add(self, name: str, role: str, password: str) -> dict[Any, Any]:
        def add() -> dict[Any, Any]:
            user = self.service.accounts.add_user((name or "").strip(), role or ANNOTATOR, password or None)
            note = f"Added {user.name} ({user.role})" + ("" if password else ", without a password (cannot log in)")
            if password and not self.auth_mode:
                note += ". Restart the app to require logins."
            return {**self._listing(render.note_box(note + ".")), self.new_name: "", self.new_password: ""}

        return self.guarded(add)

    def _on_set_role(self, name: str | None, role: str) -> dict[Any, Any]:
        def set_role() -> dict[Any, Any]:
            if not name:
                raise ValidationError("Pick the user whose role to change.", fix="choose one in 'User'")
            user = self.service.accounts.set_role(name, role)
            return self._listing(render.note_box(f"{user.name} is now {user.role}; it applies at their next click."))

        return self.guarded(set_role)

    def _on_reset(self, name: str | None, password: str) -> dict[Any, Any]:
        def reset() -> dict[Any, Any]:
            if not name:
                raise ValidationError("Pick the user whose password to reset.", fix="choose one in 'User'")
            user = self.service.accounts.reset_password(name, password or "")
            ended = self._end_sessions(user.name)
            note = f"New password set for {user.name}" + (f"; {ended} open session(s) logged out." if ended else ".")
            return {**self._listing(render.note_box(note)), self.reset_password: ""}

        return self.guarded(reset)

    def _end_sessions(self, name: str) -> int:
        """Log ``name`` out of every open session (Gradio keeps login tokens in ``server_app.tokens``),
        so a reset password locks out whoever knew the old one. Returns how many were ended."""
        app = getattr(getattr(self, "page", None) and self.page.blocks, "server_app", None)
        tokens = getattr(app, "tokens", None)
        if not isinstance(tokens, dict):
            return 0
        ended = [token for token, user in list(tokens.items()) if user == name]
        for token in ended:
            tokens.pop(token, None)
        return len(ended)

    def _on_whoami(self, request: gr.Request) -> list[Any]:
        """Auth mode: the 'Annotator' box shows the login (read-only) and the tabs follow the role.
        Single-user mode: nothing changes."""
        if not self.auth_mode:
            return [gr.update(), ""] + [gr.update() for _ in self._role_tabs]
        try:
            who = current_user(self.service, request)
            hidden = [n for n in self._role_tabs if n in HIDDEN_TABS.get(who.role, ROLE_TABS)]
            box = gr.update(value=who.name, interactive=False, label=f"Logged in ({who.role})")
        except AnnotatorError:
            hidden, box = list(self._role_tabs), gr.update(value="", interactive=False)
        buttons = ", ".join(f"#{self.page.tab[n].elem_id}-button" for n in hidden)
        style = f"<style>{buttons} {{ display: none !important; }}</style>" if buttons else ""
        # Gradio's /logout drops the login cookie and returns to the login page.
        logout = ('<a href="logout" id="logout-link" style="position: fixed; top: 6px; right: 14px; '
                  'font-size: 13px; z-index: 50">Log out</a>')
        return [box, style + logout] + [gr.update(visible=n not in hidden) for n in self._role_tabs]
