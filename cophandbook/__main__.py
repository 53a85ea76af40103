from cophandbook.cli import run

run()
