async def test_backend_fixture_loads_the_demo(backend):
    async with backend.new_uow() as uow:
        assert await uow.rooms.find("3", "2", "501") is not None
