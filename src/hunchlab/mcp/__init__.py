"""``hunch mcp``: a Model Context Protocol server through which an agent does research with the same habits
asked of a person (predict before running, compare honestly, read failures, write down why).

``guard`` holds the rules (budget, paths), ``tools`` the reading tools, ``actions`` the ones that start
or write, ``server`` the MCP wiring (the only module that imports the ``mcp`` SDK). See docs/agents.md.
"""
