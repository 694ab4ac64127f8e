from nli_check.cli import run

run()
