"""WeCom for staff, against the fake WeCom on 127.0.0.1: the backend's commands write the notices,
the dispatcher delivers them through the installed channels (the wecom one on, the log beside it).

``staffroom`` bundles the backend (the demo's flats; staff are each test's own), the fake WeCom
sharing the backend's clock (so token lifetimes and the per-minute windows move with it), and
the channels as the dispatcher process installs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import pytest

from tests.fakes.wecom import FakeWeCom

ROBOT_KEY = "robot-key-duty"


@pytest.fixture
async def fake_wecom(clock):
    async with FakeWeCom(clock=clock, robot_keys=(ROBOT_KEY,)) as running:
        yield running


def wecom_settings(fake: FakeWeCom, **override):
    from connectors.settings import WeComSettings

    values = {
        "corpid": fake.corpid,
        "secret": fake.secret,
        "agent_id": fake.agent_id,
        "robot_key": ROBOT_KEY,
        "api_base": fake.url,
    }
    return WeComSettings(**(values | override))


@dataclass
class Staffroom:
    backend: object
    fake: FakeWeCom
    channels: list

    async def deliver(self) -> int:
        """One dispatcher sweep through the installed channels (wecom and log)."""
        from backend_bridge.service_layer.delivery import Dispatcher
        from connectors.channel import deliveries

        return await Dispatcher(
            self.backend.new_uow, deliveries(self.backend, self.channels), self.backend.clock
        ).poll_once()

    async def notifications(self, recipient: str):
        from sqlalchemy import select

        from backend_bridge.domain import model

        async with self.backend.new_uow() as uow:
            found = await uow.session.scalars(
                select(model.Notification)
                .where(model.Notification.recipient == recipient)
                .order_by(model.Notification.id)
            )
            return list(found.all())


@pytest.fixture
def staffroom_settings(fake_wecom):
    return wecom_settings(fake_wecom)


@pytest.fixture
async def staffroom(backend, fake_wecom, staffroom_settings):
    from connectors.channel import close_channels, installed_channels

    async with aiohttp.ClientSession() as http:
        channels = installed_channels({"wecom": staffroom_settings}, http)
        assert "wecom" in {c.name for c in channels}
        yield Staffroom(backend, fake_wecom, channels)
        await close_channels(channels)
