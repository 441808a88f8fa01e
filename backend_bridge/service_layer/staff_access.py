"""The staff console's sign-in: log in and out, passwords, invites, and finding a cookie's session.

Every change ends the sessions it must at once (a new password, deactivation in handlers.py),
because sessions live in the store and are read on every request. Each change is logged with
who made it, as the other staff handlers do; passwords and tokens never reach a log.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timezone

from backend_bridge.domain import commands, model
from backend_bridge.service_layer import results
from backend_bridge.service_layer.auth import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_hash,
    verify_password,
)
from backend_bridge.service_layer.ports import Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def built_in_admin() -> model.StaffMember:
    """The administrator WUYE_ADMIN_TOKEN stands for: no stored account, company-wide."""
    return model.StaffMember(
        model.BUILT_IN_ADMIN, "管理员", model.Role.ADMIN, "", datetime(2000, 1, 1, tzinfo=timezone.utc)
    )


def _member(found: model.StaffMember | None, username: str) -> model.StaffMember:
    if found is None:
        raise model.NotFound("staff member", username)
    return found


async def _start_session(
    uow: UnitOfWork, member: model.StaffMember, now: datetime, credential: str | None = None
) -> results.SessionStarted:
    """A new session row (inside the caller's unit of work, committed by it)."""
    token, hashed = new_token()
    session = model.StaffSession.start(hashed, member.username, secrets.token_urlsafe(32), now, credential)
    await uow.staff_sessions.add(session)
    return results.SessionStarted(
        member.username, member.name, member.role.value, session.csrf, session.expires_at, token=token
    )


async def log_in(cmd: commands.LogIn, uow: UnitOfWork, deps: Deps) -> results.SessionStarted:
    """The same refusal, after the same work (one argon2 verification), for an unknown user, a
    deactivated one, one without a password yet and a wrong password."""
    now = deps.clock()
    if cmd.username == model.BUILT_IN_ADMIN:
        await verify_password(None, cmd.password)  # as long as a member's check
        admin_ok = bool(cmd.admin_token) and hmac.compare_digest(
            cmd.password.encode("utf-8", "replace"), cmd.admin_token.encode("utf-8", "replace")
        )
        if not admin_ok:
            log.warning("console sign-in refused for %r from %s", cmd.username, cmd.address or "local")
            raise model.BadCredentials()
        async with uow:
            started = await _start_session(uow, built_in_admin(), now, admin_credential(cmd.admin_token))
            await uow.commit()
        log.info("%s signed in to the console from %s", cmd.username, cmd.address or "local")
        return started
    async with uow:
        member = await uow.staff.by_username(cmd.username)
    stored = member.password_hash if member is not None and member.active else None
    if not await verify_password(stored, cmd.password):
        log.warning("console sign-in refused for %r from %s", cmd.username, cmd.address or "local")
        raise model.BadCredentials()
    rehashed = await hash_password(cmd.password) if password_needs_rehash(stored) else None
    async with uow:
        member = _member(await uow.staff.by_username(cmd.username), cmd.username)
        if not member.active or member.password_hash != stored:  # changed meanwhile
            raise model.BadCredentials()
        if rehashed is not None:
            member.password_hash = rehashed
        started = await _start_session(uow, member, now)
        await uow.commit()
    log.info("%s signed in to the console from %s", cmd.username, cmd.address or "local")
    return started


async def log_out(cmd: commands.LogOut, uow: UnitOfWork, deps: Deps) -> results.Done:
    async with uow:
        session = await uow.staff_sessions.by_token_hash(cmd.token_hash)
        if session is not None:
            session.revoke(deps.clock())
            await uow.commit()
    log.info("%s signed out of the console", cmd.actor)
    return results.Done()


async def set_staff_password(cmd: commands.SetStaffPassword, uow: UnitOfWork, deps: Deps) -> results.Done:
    model.check_password_rule(cmd.password)
    hashed = await hash_password(cmd.password)
    async with uow:
        member = _member(await uow.staff.by_username(cmd.username), cmd.username)
        if not member.active:
            raise model.DomainError("this staff account is deactivated")
        member.set_password(hashed)
        ended = await uow.staff_sessions.revoke_all(member.username, deps.clock())
        await uow.commit()
    log.info("%s set the console password of %s (%d sessions ended)", cmd.actor, cmd.username, ended)
    return results.Done()


async def invite_staff(cmd: commands.InviteStaff, uow: UnitOfWork, deps: Deps) -> results.InviteIssued:
    token, hashed = new_token()
    async with uow:
        member = _member(await uow.staff.by_username(cmd.username), cmd.username)
        member.invite(hashed, deps.clock(), model.INVITE_VALIDITY)
        await uow.commit()
    log.info("%s invited %s to the console (until %s)", cmd.actor, cmd.username, member.invite_expires_at)
    return results.InviteIssued(member.username, token, member.invite_expires_at)


async def accept_invite(cmd: commands.AcceptInvite, uow: UnitOfWork, deps: Deps) -> results.SessionStarted:
    model.check_password_rule(cmd.password)
    now = deps.clock()
    hashed = await hash_password(cmd.password)
    async with uow:
        member = await uow.staff.by_invite_hash(token_hash(cmd.token))
        if member is None or not member.invite_open(now):
            raise model.InviteInvalid()
        member.set_password(hashed)
        await uow.staff_sessions.revoke_all(member.username, now)
        started = await _start_session(uow, member, now)
        await uow.commit()
    log.info("%s accepted their console invite from %s", member.username, cmd.address or "local")
    return started


async def change_own_password(cmd: commands.ChangeOwnPassword, uow: UnitOfWork, deps: Deps) -> results.Done:
    """The member's other sessions end; the one asking stays signed in."""
    if cmd.username == model.BUILT_IN_ADMIN:
        raise model.DomainError("the built-in administrator's password is WUYE_ADMIN_TOKEN; change it there")
    model.check_password_rule(cmd.new)
    async with uow:
        member = _member(await uow.staff.by_username(cmd.username), cmd.username)
    if not await verify_password(member.password_hash, cmd.old):
        raise model.BadCredentials()
    hashed = await hash_password(cmd.new)
    now = deps.clock()
    async with uow:
        member = _member(await uow.staff.by_username(cmd.username), cmd.username)
        member.set_password(hashed)
        await uow.staff_sessions.revoke_all(member.username, now, keep=cmd.token_hash)
        await uow.commit()
    log.info("%s changed their console password", cmd.username)
    return results.Done()


def admin_credential(admin_token: str) -> str | None:
    """What an administrator's console session is granted on: the admin token's sha256 (None
    when there is no token: nobody signs in as the administrator)."""
    return token_hash(admin_token) if admin_token else None


async def resume_session(
    uow: UnitOfWork, cookie: str, now: datetime, admin_token: str = ""
) -> tuple[model.StaffMember, model.StaffSession] | None:
    """The member and session a console cookie stands for, or None: unknown, revoked, idle too
    long, past its end, the member deactivated, or — the built-in administrator's — signed in
    with an admin token that has since been replaced. Slides the idle timeout (a write at most
    once a minute)."""
    async with uow:
        session = await uow.staff_sessions.by_token_hash(token_hash(cookie))
        if session is None or not session.valid(now):
            return None
        if session.username == model.BUILT_IN_ADMIN:
            if not session.granted_on(admin_credential(admin_token)):
                return None
            member = built_in_admin()
        else:
            member = await uow.staff.by_username(session.username)
            if member is None or not member.active:
                return None
        if session.touch(now):
            await uow.commit()
    return member, session


COMMAND_HANDLERS = {
    commands.LogIn: log_in,
    commands.LogOut: log_out,
    commands.SetStaffPassword: set_staff_password,
    commands.InviteStaff: invite_staff,
    commands.AcceptInvite: accept_invite,
    commands.ChangeOwnPassword: change_own_password,
}
EVENT_HANDLERS: dict = {}
