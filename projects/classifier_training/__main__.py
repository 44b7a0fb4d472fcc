from bigfix_mm.utils.cli import run_tool  # first: quiet start-up

from projects.classifier_training.train import main

run_tool(main)
