"""Built-in tools, always offered to the model directly (mode 1)."""

from __future__ import annotations

from plugins.builtin.calendar_tool import Clock, make_calendar, system_clock
from plugins.builtin.math_tool import math
from plugins.builtin.units_tool import registry as units_registry
from plugins.builtin.units_tool import units
from plugins.toolbox import Toolbox


def build_toolbox(clock: Clock = system_clock) -> Toolbox:
    """A toolbox with every built-in tool; `clock` is what "today" means."""
    box = Toolbox()
    box.tool(examples=["35 heads and 94 legs: how many chickens and rabbits?", "third derivative of x^5",
                       "integrate x^2 from 0 to 3", "what is 2^100?"], timeout_s=10)(math)
    box.tool(examples=["26.2 miles in km", "100 degF in Celsius", "3 cups in ml"], timeout_s=5,
             warmup=units_registry)(units)
    box.tool(examples=["what weekday is 2025-03-03?", "days between 2024-01-01 and 2024-12-25",
                       "10 business days after 2025-06-27", "9:30 in Paris is what time in Tokyo?"],
             timeout_s=5)(make_calendar(clock))
    return box
