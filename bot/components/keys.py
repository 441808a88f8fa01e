"""Message attributes our components share (never part of the parse output)."""

TEXT_MAP = "wuye_text_map"  # bot.text.textmap.MappedText of the current message
