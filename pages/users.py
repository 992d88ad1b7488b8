"""用户管理 Users: head office manages every account, a branch manager their own branch's RMs.

A thin page over ``analytics.users``: the rules (who may change whom, the password policy, the
mapping checks against the snapshot's RMs) live there. Every change is audited (``user``) before
it is committed; a refused change shows its reason and changes nothing.
"""

import pandas as pd
import streamlit as st

from analytics import users
from ui import login, shell

viewer = shell.page("users")
tr, lang, scope = viewer.t, viewer.lang, viewer.scope
accts = login.accounts()
_, branches, rms = shell.snapshot_facts(viewer.snapshot_path)
rm_branch = dict(zip(rms["rm_id"], rms["branch_id"], strict=True))
name_col = "name_zh" if lang == "zh" else "name_en"
branch_names = dict(zip(branches["branch_id"], branches[name_col], strict=True))
rm_names = dict(zip(rms["rm_id"], rms[name_col], strict=True))
own_branch = scope.branch_ids[0] if scope.role == "manager" else None


def audit(detail: str, branch: str | None) -> None:
    # the branch of the changed account, so that its manager reads the record too
    shell.audit(viewer, "user", detail=detail, branch_ids=(branch,) if branch else ())


def done(key: str, user: str) -> None:
    st.session_state["_users_flash"] = tr(key, user=user)
    st.rerun()


def attempt(change, ok_key: str, user: str) -> None:
    """Run a change; show its refusal by code, or rerun with the success message."""
    try:
        acc = change()
    except users.UserChangeRefused as e:
        st.error(tr(f"users.refused.{e.code}"))
        return
    except users.PasswordRejected as e:
        st.error(tr(f"pw.{e.code}", **e.fields))
        return
    done(ok_key, acc.user_id if acc else user)


def branch_label(b: str | None) -> str:
    return f"{b} {branch_names.get(b, '')}".strip() if b else "—"


def rm_label(r: str | None) -> str:
    return f"{r} {rm_names.get(r, '')}".strip() if r else "—"


st.title(tr("users.title"))
if viewer.demo_mode:  # whoever the URL says: no real account is shown or changed
    st.info(tr("users.demo_mode"))
    st.stop()
if scope.role == "manager":
    st.caption(tr("users.caption_branch", branch=branch_label(own_branch)))
else:
    st.caption(tr("users.caption_all"))
flash = st.session_state.pop("_users_flash", None)
if flash:
    st.success(flash)

visible = accts.visible(scope)
now = users.utcnow()


def state_of(a: users.Account) -> str:
    state = "disabled" if a.disabled else "locked" if a.locked(now) else "active"
    text = tr(f"users.state.{state}")
    return text if a.has_password else f"{text} · {tr('users.sso')}"


if visible:
    table = pd.DataFrame(
        {
            tr("users.col.user_id"): [a.user_id for a in visible],
            tr("users.col.display_name"): [a.display_name for a in visible],
            tr("users.col.role"): [tr(f"audit.role.{a.role}") for a in visible],
            tr("users.col.branch_id"): [branch_label(a.branch_id) for a in visible],
            tr("users.col.rm_id"): [rm_label(a.rm_id) for a in visible],
            tr("users.col.state"): [state_of(a) for a in visible],
            tr("users.col.last_login_at"): [
                a.last_login_at.strftime("%Y-%m-%d %H:%M") if a.last_login_at else ""
                for a in visible
            ],
        }
    )
    st.dataframe(table, hide_index=True)
else:
    st.info(tr("users.none"))

roles = accts.roles_for(scope)
branch_options = [own_branch] if own_branch else list(branches["branch_id"])


def mapping_inputs(prefix: str, role: str | None, branch: str | None, rm: str | None):
    """Role, branch and RM id widgets (outside a form, so the RM list follows the branch)."""
    role = st.selectbox(
        tr("users.role"), roles, index=roles.index(role) if role in roles else 0,
        format_func=lambda r: tr(f"audit.role.{r}"), key=f"{prefix}_role",
        disabled=len(roles) == 1,
    )  # fmt: skip
    if role in ("manager", "rm"):
        options = branch_options + ([branch] if branch and branch not in branch_options else [])
        b_index = options.index(branch) if branch in options else 0
        branch = st.selectbox(
            tr("users.branch"), options, index=b_index, format_func=branch_label,
            key=f"{prefix}_branch", disabled=len(branch_options) == 1,
        )  # fmt: skip
    else:
        branch = None
    if role == "rm":
        rm_options = sorted(r for r, b in rm_branch.items() if b == branch)
        rm_options += [rm] if rm and rm not in rm_options else []
        rm = st.selectbox(
            tr("users.rm"), rm_options, index=rm_options.index(rm) if rm in rm_options else 0,
            format_func=rm_label, key=f"{prefix}_rm_{branch}",
        )  # fmt: skip
    else:
        rm = None
    return role, branch, rm


add_tab, edit_tab = st.tabs([tr("users.add"), tr("users.edit")])

with add_tab:
    new_id = st.text_input(tr("users.col.user_id"), help=tr("users.user_id_help"), key="ua_id")
    new_name = st.text_input(tr("users.name"), key="ua_name")
    new_role, new_branch, new_rm = mapping_inputs("ua", "rm", own_branch, None)
    new_pw = st.text_input(
        tr("users.password"), type="password", help=tr("users.password_help"), key="ua_pw",
        autocomplete="new-password",
    )  # fmt: skip
    st.caption(
        tr("login.policy", min=accts.cfg.password_min_length, kinds=accts.cfg.password_min_kinds)
    )
    if st.button(tr("users.save_new"), type="primary", key="ua_save"):
        attempt(
            lambda: accts.add(
                new_id, new_role, branch_id=new_branch, rm_id=new_rm, display_name=new_name,
                password=new_pw or None, actor=scope, rms=rm_branch, audit=audit,
            ),
            "users.added", new_id,
        )  # fmt: skip

with edit_tab:
    if not visible:
        st.info(tr("users.none"))
    else:
        by_id = {a.user_id: a for a in visible}
        pick = st.selectbox(
            tr("users.pick"), list(by_id),
            format_func=lambda u: f"{u} {by_id[u].display_name}".strip(), key="ue_pick",
        )  # fmt: skip
        acc = by_id[pick]
        st.markdown(f"**{tr('users.col.state')}**: {state_of(acc)}")
        name = st.text_input(tr("users.name"), value=acc.display_name, key=f"ue_name_{pick}")
        role, branch, rm = mapping_inputs(f"ue_{pick}", acc.role, acc.branch_id, acc.rm_id)
        if st.button(tr("users.save"), type="primary", key=f"ue_save_{pick}"):
            attempt(
                lambda: accts.grant(
                    pick, role=role, branch_id=branch or "", rm_id=rm or "", display_name=name,
                    actor=scope, rms=rm_branch, audit=audit,
                ),
                "users.saved", pick,
            )  # fmt: skip
        st.divider()
        locked_out = acc.disabled or acc.locked(now)
        if locked_out and st.button(tr("users.enable"), key=f"ue_enable_{pick}"):
            attempt(
                lambda: accts.set_disabled(pick, False, actor=scope, audit=audit),
                "users.enabled", pick,
            )  # fmt: skip
        if not acc.disabled and st.button(tr("users.disable"), key=f"ue_disable_{pick}"):
            attempt(
                lambda: accts.set_disabled(pick, True, actor=scope, audit=audit),
                "users.disabled", pick,
            )  # fmt: skip
        st.divider()
        reset_pw = st.text_input(
            tr("users.new_password"), type="password", key=f"ue_pw_{pick}",
            autocomplete="new-password",
        )  # fmt: skip
        if st.button(tr("users.reset"), key=f"ue_reset_{pick}"):
            attempt(
                lambda: accts.reset_password(pick, reset_pw, actor=scope, audit=audit),
                "users.reset_done", pick,
            )  # fmt: skip
