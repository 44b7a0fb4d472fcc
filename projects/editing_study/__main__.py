from bigfix_mm.utils.cli import run_tool  # first: quiet start-up

from projects.editing_study.study import main

run_tool(main)
