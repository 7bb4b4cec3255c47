from passerelle.cli import main

main()
