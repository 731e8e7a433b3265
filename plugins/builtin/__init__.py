"""Built-in tools, always offered to the model directly (mode 1)."""

from __future__ import annotations

from pathlib import Path

from tansuo.plugins.builtin import calendar_tool, math_tool, plot_tool, table_tool, units_tool
from tansuo.plugins.builtin.calendar_tool import Clock, make_calendar, system_clock
from tansuo.plugins.builtin.math_tool import math
from tansuo.plugins.builtin.plot_tool import make_plot, warm_matplotlib
from tansuo.plugins.builtin.table_tool import make_table
from tansuo.plugins.builtin.units_tool import registry as units_registry
from tansuo.plugins.builtin.units_tool import units
from tansuo.plugins.toolbox import Toolbox
from tansuo.settings import Settings

# Demonstrations for the model: a request and the arguments it calls with (validated at registration).
MATH_CALLS = {
    "what is 2^100?": {"request": {"operation": "evaluate", "expression": "2^100"}},
    "12 times 7 plus 3": {"request": {"operation": "evaluate", "expression": "12*7 + 3"}},
    "solve 2x + 3 = 11": {"request": {"operation": "solve", "equations": ["2x + 3 = 11"]}},
    "third derivative of x^5": {"request": {"operation": "derivative", "expression": "x^5", "order": 3}},
    "integrate x^2 from 0 to 3": {"request": {"operation": "integral", "expression": "x^2", "lower": "0",
                                              "upper": "3"}},
}
UNITS_CALLS = {
    "26.2 miles in km": {"value": 26.2, "from_unit": "mile", "to_unit": "km"},
    "how many ounces is 2 pounds?": {"value": 2, "from_unit": "lb", "to_unit": "oz"},
    "100 degF in Celsius": {"value": 100, "from_unit": "degF", "to_unit": "degC"},
}
CALENDAR_CALLS = {
    "what weekday is 2025-03-03?": {"request": {"operation": "weekday", "date": "2025-03-03"}},
    "days between 1 January 2024 and Dec 25, 2024": {"request": {"operation": "days_between", "start": "1 January 2024",
                                                                 "end": "Dec 25, 2024"}},
    "10 business days after 2025-06-27": {"request": {"operation": "add", "date": "2025-06-27",
                                                      "business_days": 10}},
}
TABLE_CALLS = {
    "mean price per city in sales.csv": {"source": {"file": "sales.csv"},
                                         "steps": [{"op": "group", "by": ["city"], "aggregate": {"price": "mean"}}]},
    "total sales in this table:\nname,sales\nAda,12\nBen,30": {
        "source": {"csv": "name,sales\nAda,12\nBen,30"}, "steps": [{"op": "group", "aggregate": {"sales": "sum"}}]},
}
PLOT_CALLS = {
    "plot sin(x)/x from -10 to 10": {"expression": "sin(x)/x", "start": -10, "end": 10},
}


def build_toolbox(*, plots_dir: Path, data_folder: Path | None = None, clock: Clock = system_clock) -> Toolbox:
    """A toolbox with every built-in tool.

    `plots_dir` receives plot PNGs, `data_folder` is the only place the table tool
    reads files from, and `clock` is what "today" means.
    """
    box = Toolbox()
    box.tool(examples=["35 heads and 94 legs: how many chickens and rabbits?", "third derivative of x^5",
                       "integrate x^2 from 0 to 3", "what is 2^100?"], timeout_s=10,
             example_calls=MATH_CALLS, reads=math_tool.reads)(math)
    box.tool(examples=["26.2 miles in km", "100 degF in Celsius", "3 cups in ml"], timeout_s=5,
             warmup=units_registry, example_calls=UNITS_CALLS, reads=units_tool.reads)(units)
    box.tool(examples=["what weekday is 2025-03-03?", "days between 2024-01-01 and 2024-12-25",
                       "10 business days after 2025-06-27", "9:30 in Paris is what time in Tokyo?"],
             timeout_s=5, example_calls=CALENDAR_CALLS, reads=calendar_tool.reads)(make_calendar(clock))
    box.tool(examples=["average price per city in this CSV", "rows where year >= 2020, sorted by sales"],
             timeout_s=15, example_calls=TABLE_CALLS, reads=table_tool.reads)(make_table(data_folder))
    box.tool(examples=["plot sin(x)/x from -10 to 10", "graph x^3 - 2x between -2 and 2"], timeout_s=20,
             returns="the PNG's file reference (plots/NAME.png) and the y range",
             warmup=warm_matplotlib, example_calls=PLOT_CALLS, reads=plot_tool.reads)(make_plot(plots_dir))
    return box


def toolbox_from_settings(settings: Settings, clock: Clock = system_clock) -> Toolbox:
    """The service's toolbox: plots under the data dir, tables from TANSUO_TABLE_DATA_DIR."""
    return build_toolbox(plots_dir=settings.data_dir / "plots", data_folder=settings.table_data_dir, clock=clock)
