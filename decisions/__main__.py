from decisions.cli import main

main()
