from bot.text.textmap import MappedText


def test_untouched_text_maps_to_itself():
    m = MappedText("3号楼")
    assert m.text == "3号楼"
    assert m.to_original(0, 1) == (0, 1)


def test_replacement_maps_to_the_whole_replaced_span():
    m = MappedText("二十三栋")
    m.apply([(0, 3, "23")])
    assert m.text == "23栋"
    assert m.to_original(0, 2) == (0, 3)  # "23" came from 二十三
    assert m.to_original(2, 3) == (3, 4)


def test_deleted_characters_vanish_and_neighbours_keep_their_place():
    m = MappedText("嗯 那个 报修")
    m.apply([(0, 5, "")])
    assert m.text == "报修"
    assert m.to_original(0, 2) == (5, 7)


def test_edits_compose_across_steps():
    m = MappedText("喂 三號樓")
    m.apply([(0, 2, "")])  # drop the filler
    m.apply([(1, 3, "号楼")])  # t2s on what is left
    m.apply([(0, 1, "3")])  # numeral
    assert m.text == "3号楼"
    assert m.to_original(0, 1) == (2, 3)
    assert m.to_original(0, 3) == (2, 5)


def test_from_original_moves_training_annotations():
    m = MappedText("嗯 我朋友張偉")
    m.apply([(0, 2, "")])
    assert m.from_original(5, 7) == (3, 5)
    assert m.from_original(0, 1) is None  # everything in the span was removed


def test_overlapping_edits_are_refused():
    m = MappedText("abcdef")
    try:
        m.apply([(0, 3, "x"), (2, 4, "y")])
    except ValueError:
        return
    raise AssertionError("overlapping edits must raise")
